"""Who holds which role where, and who may see a case.

A role held at a unit covers every unit below it; a delegation lends a role at a unit for a date range.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from flask import g, has_request_context
from sqlalchemy import and_, false, or_, select

from ..accounts.models import DepartmentMember, Delegation, Unit, User
from ..clock import today
from ..extensions import db
from .models import Case, CaseParty


@dataclass(frozen=True)
class Grant:
    role: str
    unit_id: int
    unit_path: str
    delegate_of: int | None = None  # the absent colleague whose role this is


def grants(user: User, on: date | None = None) -> list[Grant]:
    """Every role the user holds today, own and delegated (read once per request)."""
    on = on or today()
    if has_request_context():
        cache = g.setdefault("_casework_grants", {})
        key = (user.id, on)
        if key not in cache:
            cache[key] = _grants(user, on)
        return cache[key]
    return _grants(user, on)


def _grants(user: User, on: date) -> list[Grant]:
    out = [Grant(a.role, a.unit_id, a.unit.path) for a in user.roles]
    rows = db.session.execute(
        select(Delegation, Unit.path).join(Unit, Unit.id == Delegation.unit_id)
        .where(Delegation.to_user_id == user.id, Delegation.starts_on <= on, Delegation.ends_on >= on)
    ).all()
    for d, path in rows:
        # The lender must still hold the role at that unit or above.
        if any(a.role == d.role and path.startswith(a.unit.path) for a in d.from_user.roles):
            out.append(Grant(d.role, d.unit_id, path, delegate_of=d.from_user_id))
    return out


def roles_at(user: User, unit: Unit, on: date | None = None) -> dict[str, int | None]:
    """role -> delegate_of (None when the user's own) for the roles covering `unit`."""
    held: dict[str, int | None] = {}
    for g in grants(user, on):
        if unit.path.startswith(g.unit_path):
            if g.role not in held or held[g.role] is not None:
                held[g.role] = g.delegate_of
    return held


def has_role(user: User, role: str, unit: Unit | None = None) -> bool:
    if not user or not user.is_authenticated:
        return False
    if unit is None:
        return any(g.role == role for g in grants(user))
    return role in roles_at(user, unit)


# Unit roles that see every case of a kind in their units.
VIEWERS = {
    "aid": ("union_staff", "committee", "fund_manager", "admin"),
    "proposal": ("union_staff", "committee", "admin"),
    "motion": ("motion_committee", "committee", "union_staff", "representative", "admin"),
}


def can_view(user: User | None, case: Case) -> bool:
    if user is None or not user.is_authenticated:
        return False
    if user.id in case.raised_by() or any(p.user_id == user.id for p in case.parties):
        return True
    if case.department_id and case.department_id in user.department_ids():
        return True
    held = roles_at(user, case.unit)
    return any(r in held for r in VIEWERS[case.kind])


def visible_filter(user: User):
    """A WHERE clause over Case selecting exactly the cases `can_view` allows."""
    conds = [Case.applicant_id == user.id, Case.created_by_id == user.id,
             Case.id.in_(select(CaseParty.case_id).where(CaseParty.user_id == user.id)),
             Case.department_id.in_(select(DepartmentMember.department_id)
                                    .where(DepartmentMember.user_id == user.id))]
    by_kind: dict[str, set[str]] = {}
    for g in grants(user):
        for kind, roles in VIEWERS.items():
            if g.role in roles:
                by_kind.setdefault(kind, set()).add(g.unit_path)
    for kind, paths in by_kind.items():
        unit_ids = select(Unit.id).where(or_(*[Unit.path.startswith(p) for p in sorted(paths)]))
        conds.append(and_(Case.kind == kind, Case.unit_id.in_(unit_ids)))
    return or_(*conds) if conds else false()


REVIEWER_ROLES = ("union_staff", "committee", "admin", "motion_committee")


def sees_reviewer_notes(user: User, case: Case) -> bool:
    """Reviewers' private inputs (visit findings, evaluators' notes): never the people who raised it."""
    if user.id in case.raised_by():
        return False
    if any(p.user_id == user.id and p.role in ("visitor", "evaluator") for p in case.parties):
        return True
    held = roles_at(user, case.unit)
    return any(r in held for r in REVIEWER_ROLES)
