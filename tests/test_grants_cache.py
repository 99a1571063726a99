"""Role grants cached across requests: a change to roles, delegations, departments or units counts from the
very next request (the grants version token), and a cached request reads no role rows."""
from __future__ import annotations

from contextlib import contextmanager
from datetime import timedelta

import pytest
from sqlalchemy import delete, event, insert, select

from casework.accounts.models import Delegation, RoleAssignment, Unit
from casework.clock import today
from casework.core.models import GrantsVersion
from casework.core.permissions import grants, roles_at
from casework.extensions import db as _db

from .factories import aid_to


@contextmanager
def statements():
    seen: list[str] = []

    def record(conn, cursor, statement, params, context, executemany):
        seen.append(statement)
    event.listen(_db.engine, "before_cursor_execute", record)
    try:
        yield seen
    finally:
        event.remove(_db.engine, "before_cursor_execute", record)


def token() -> str | None:
    _db.session.commit()
    return _db.session.scalar(select(GrantsVersion.token))


def role_reads(seen) -> list[str]:
    return [s for s in seen if "FROM role_assignments" in s or "FROM delegations" in s]


def assignment(user, role):
    return next(a for a in user.roles if a.role == role)


def test_a_revoked_role_counts_from_the_next_request(demo, api, web):
    case = aid_to(demo, "submitted")
    staff = api.as_("staff1")
    url = f"/api/v1/cases/aid/{case.id}"
    assert staff.get(url).status_code == 200
    with statements() as seen:
        assert staff.get(url).status_code == 200
    assert role_reads(seen) == []  # served from the cache
    web.login("admin")
    a = assignment(demo["staff1"], "union_staff")
    r = web.post(f"/admin/users/{a.user_id}/roles/{a.id}/remove", {}, form_page=f"/admin/users/{a.user_id}")
    assert r.status_code == 302
    assert staff.get(url).status_code == 404
    assert "start_verification" not in str(staff.get("/api/v1/queue").get_json())
    hq = _db.session.scalar(select(Unit).where(Unit.code == "HQ"))
    r = web.post(f"/admin/users/{a.user_id}/roles", {"r-role": "union_staff", "r-unit_id": str(hq.id)},
                 form_page=f"/admin/users/{a.user_id}")
    assert r.status_code == 302 and staff.get(url).status_code == 200


def test_an_ended_delegation_counts_from_the_next_request(demo, api, web, clock):
    case = aid_to(demo, "pending_approval")
    url = f"/api/v1/cases/aid/{case.id}"
    worker3 = api.as_("worker3")
    assert worker3.get(url).status_code == 404
    c1 = demo["committee1"]
    hq = assignment(c1, "committee").unit
    _db.session.add(Delegation(from_user_id=c1.id, to_user_id=demo["worker3"].id, role="committee",
                               unit_id=hq.id, starts_on=today() - timedelta(days=1),
                               ends_on=today() + timedelta(days=3)))
    _db.session.commit()
    record = worker3.get(url)
    assert record.status_code == 200 and "approve" in record.get_json()["transitions"]
    delegation = _db.session.scalar(select(Delegation))
    web.login("committee1")
    r = web.post(f"/account/delegations/{delegation.id}/end", {}, form_page="/account")
    assert r.status_code == 302
    assert worker3.get(url).status_code == 404


def test_a_delegation_ends_with_its_last_day(demo, api, clock):
    case = aid_to(demo, "pending_approval")
    url = f"/api/v1/cases/aid/{case.id}"
    c1 = demo["committee1"]
    _db.session.add(Delegation(from_user_id=c1.id, to_user_id=demo["worker3"].id, role="committee",
                               unit_id=assignment(c1, "committee").unit_id, starts_on=today(),
                               ends_on=today()))
    _db.session.commit()
    worker3 = api.as_("worker3")
    assert worker3.get(url).status_code == 200
    clock.move_to("2026-11-26 09:00:00 +08:00")  # the next day: same token, another day
    assert worker3.get(url).status_code == 404


def test_the_lender_losing_the_role_ends_what_they_lent(demo, api):
    case = aid_to(demo, "pending_approval")
    url = f"/api/v1/cases/aid/{case.id}"
    c1 = demo["committee1"]
    a = assignment(c1, "committee")
    _db.session.add(Delegation(from_user_id=c1.id, to_user_id=demo["worker3"].id, role="committee",
                               unit_id=a.unit_id, starts_on=today(), ends_on=today() + timedelta(days=5)))
    _db.session.commit()
    worker3 = api.as_("worker3")
    assert worker3.get(url).status_code == 200
    _db.session.delete(a)
    _db.session.commit()
    assert worker3.get(url).status_code == 404


def test_bulk_statements_change_the_version_too(demo):
    """The roster import writes role rows with INSERT and DELETE statements, not through objects."""
    staff = demo["staff1"]
    before = token()
    assert "union_staff" in {g.role for g in grants(staff)}
    _db.session.execute(delete(RoleAssignment).where(RoleAssignment.user_id == staff.id,
                                                     RoleAssignment.role == "union_staff"))
    assert "union_staff" not in {g.role for g in grants(staff)}  # the same transaction sees its change
    after = token()
    assert after not in (before, None)
    assert "union_staff" not in {g.role for g in grants(staff)}
    hq = _db.session.scalar(select(Unit.id).where(Unit.code == "HQ"))
    _db.session.execute(insert(RoleAssignment), [{"user_id": staff.id, "role": "union_staff", "unit_id": hq}])
    assert token() not in (after, None)
    assert "union_staff" in {g.role for g in grants(staff)}


def test_a_change_not_yet_flushed_is_seen_and_a_rolled_back_one_keeps_the_version(demo):
    worker3 = demo["worker3"]
    before = token()
    hq = _db.session.scalar(select(Unit).where(Unit.code == "HQ"))
    assert "committee" not in roles_at(worker3, hq)  # now cached
    worker3.roles.append(RoleAssignment(role="committee", unit=hq))  # pending in this session
    assert "committee" in roles_at(worker3, hq)
    _db.session.rollback()
    assert token() == before
    assert "committee" not in roles_at(worker3, hq)


def test_without_a_version_row_nothing_is_cached(demo):
    staff = demo["staff1"]
    _db.session.execute(delete(GrantsVersion))
    _db.session.commit()
    grants(staff)
    with statements() as seen:
        assert "union_staff" in {g.role for g in grants(staff)}
    assert role_reads(seen)
    # The next change to grants writes the row again, with a new token.
    worker3 = demo["worker3"]
    worker3.roles.append(RoleAssignment(role="committee", unit=assignment(staff, "union_staff").unit))
    assert token() is not None
    assert "committee" in {g.role for g in grants(worker3)}


@pytest.mark.parametrize("change", ["unit_changed", "department_joined"])
def test_units_and_departments_are_part_of_the_version(demo, change):
    before = token()
    if change == "unit_changed":
        unit = _db.session.scalar(select(Unit).where(Unit.level == "group"))
        unit.name = unit.name + "（新）"
    else:
        from casework.accounts.models import Department, DepartmentMember
        dept = _db.session.scalar(select(Department).where(Department.code == "HR"))
        _db.session.add(DepartmentMember(user=demo["worker3"], department=dept))
    assert token() not in (before, None)
