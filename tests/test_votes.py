"""The one vote service (issue 14): seats, decisive inputs, delegation, relatives (回避), and the register's
and the board's decisions through the same engine and hash chain."""
from __future__ import annotations

from datetime import date, timedelta

import pytest
from sqlalchemy import select, text

from casework.accounts import delegations
from casework.accounts.models import Relative
from casework.clock import today
from casework.core.errors import Conflict, Invalid
from casework.core.models import AuditEntry, entries_of, verify_chain
from casework.disclosure import operations as board
from casework.extensions import db as _db
from casework.notices.models import Notice
from casework.register import operations as register

from .factories import aid_to, fire


def _hq(user):
    return next(a.unit for a in user.roles if a.role == "committee")


def _lend(member, to, days=3):
    row = delegations.delegate(member, to.username, "committee", _hq(member).id,
                               today() - timedelta(days=1), today() + timedelta(days=days))
    _db.session.commit()
    return row


def test_three_different_reasons_reject_and_the_notice_quotes_them(demo):
    case = aid_to(demo, "pending_approval")
    reasons = ["家庭收入超过标准", "材料不全，缺少收入证明", "同一年度已获救助"]
    for i, reason in enumerate(reasons[:2], start=1):
        assert not fire(case, "reject", demo[f"committee{i}"], reason=reason).moved
    last = fire(case, "reject", demo["committee3"], reason=reasons[2])
    assert last.moved and case.state == "rejected"
    notice = _db.session.scalar(select(Notice).where(Notice.case_id == case.id, Notice.kind == "aid_rejection"))
    quoted = notice.fields["reason"]
    assert all(r in quoted for r in reasons)


def test_amounts_are_positions_the_tally_shows_them_and_the_fourth_vote_decides(demo, api, web):
    case = aid_to(demo, "pending_approval", amount_requested="3000.00")
    fire(case, "approve", demo["committee1"], amount="3000.00")
    fire(case, "approve", demo["committee2"], amount="3000.00", comment="情况属实")
    out = api.as_("committee3").post(f"/api/v1/cases/aid/{case.id}/transitions/approve",
                                     json={"version": case.version, "amount": "2500.00"})
    assert out.status_code == 200, out.get_json()
    body = out.get_json()
    assert body["state"] == "pending_approval" and body["quorum"] == 3
    assert sorted((t["inputs"]["amount"], t["votes"]) for t in body["tally"]) == [(250000, 1), (300000, 2)]
    web.login("committee4")
    page = web.get(f"/cases/aid/{case.id}").get_data(as_text=True)
    assert "批准 ¥3,000.00：2 票" in page and "批准 ¥2,500.00：1 票" in page and "需 3 票" in page
    assert 'value="2000.00"' in page  # the amount field carries the proposed amount
    # 2000: one vote, one seat left after it, three needed: it can no longer change the outcome.
    with pytest.raises(Invalid) as err:
        fire(case, "approve", demo["committee4"], amount="2000.00")
    assert err.value.code == "cannot_carry"
    _db.session.rollback()
    done = fire(case, "approve", demo["committee4"], amount="3000.00")
    assert done.moved and case.state == "posting" and case.amount_approved == 300000


def test_member_then_delegate_is_refused_and_the_audit_names_both(demo):
    case = aid_to(demo, "pending_approval")
    c2, worker3 = demo["committee2"], demo["worker3"]
    fire(case, "approve", c2, amount="2000.00")
    _lend(c2, worker3)
    with pytest.raises(Conflict) as err:
        fire(case, "approve", worker3, amount="2000.00")
    assert err.value.code == "already_voted"
    _db.session.rollback()
    other = aid_to(demo, "pending_approval")
    fire(other, "approve", worker3, amount="2000.00")  # for committee2's seat
    entry = _db.session.scalars(entries_of(other)).all()[-1]
    assert entry.actor_label == "worker3" and entry.delegate_of_id == c2.id
    assert entry.changes["on_behalf_of"] == "committee2"
    with pytest.raises(Conflict):
        fire(other, "approve", c2, amount="2000.00")  # delegate then member: the seat has voted
    _db.session.rollback()
    assert verify_chain(other) == (True, None)


def test_overlapping_delegations_of_one_seat_are_refused(demo, api):
    c1 = demo["committee1"]
    _lend(c1, demo["worker3"])
    with pytest.raises(Conflict) as err:
        delegations.delegate(c1, "worker2", "committee", _hq(c1).id, today(), today() + timedelta(days=10))
    assert err.value.code == "overlapping_delegation"
    _db.session.rollback()
    r = api.as_("committee1").post("/api/v1/delegations", json={
        "to": "worker2", "role": "committee", "unit": _hq(c1).id, "starts_on": today().isoformat(),
        "ends_on": (today() + timedelta(days=2)).isoformat()})
    assert r.status_code == 409
    later = api.as_("committee1").post("/api/v1/delegations", json={
        "to": "worker2", "role": "committee", "unit": _hq(c1).id,
        "starts_on": (today() + timedelta(days=30)).isoformat(),
        "ends_on": (today() + timedelta(days=32)).isoformat()})
    assert later.status_code == 201
    listed = api.as_("committee1").get("/api/v1/delegations").get_json()["items"]
    assert {d["to"] for d in listed} == {"worker3", "worker2"}
    assert api.as_("committee1").delete(f"/api/v1/delegations/{later.get_json()['id']}").status_code == 204


def test_a_committee_member_cannot_vote_on_a_relatives_request(demo, api):
    case = aid_to(demo, "pending_approval")
    r = api.as_("committee1").post("/api/v1/relatives", json={"person": "worker1", "relation": "spouse"})
    assert r.status_code == 201
    out = api.as_("committee1").post(f"/api/v1/cases/aid/{case.id}/transitions/approve",
                                     json={"version": case.version, "amount": "2000.00"})
    assert out.status_code == 422
    message = out.get_json()["error"]["message"]
    assert out.get_json()["error"]["code"] == "conflict_of_interest" and "回避" in message
    assert "张建国" not in message and "worker1" not in message
    # Declared by the other side, or recorded by staff: the same.
    assert api.as_("committee1").delete(f"/api/v1/relatives/{r.get_json()['id']}").status_code == 204
    assert api.as_("committee1").get("/api/v1/relatives").get_json()["items"] == []
    api.as_("staff1").post("/api/v1/relatives", json={"person": "committee2", "relation": "sibling",
                                                     "of": "worker1"})
    out = api.as_("committee2").post(f"/api/v1/cases/aid/{case.id}/transitions/approve",
                                     json={"version": case.version, "amount": "2000.00"})
    assert out.status_code == 422


def _household(demo, **over):
    from datetime import date as _date
    data = {"worker": "worker1", "grade": "special", "causes": ["illness"], "circumstances": "爱人重病",
            "visited_on": _date(2026, 11, 20), "visitors": "staff1, leader1", "findings": "情况属实",
            "members": [{"name": "张建国", "relation": "self", "monthly_income": "2100.00"},
                        {"name": "赵丽华", "relation": "spouse", "monthly_income": "0", "person": "committee2"}],
            **over}
    household = register.propose(register.read_proposal(data), demo["staff1"])
    _db.session.commit()
    return household


def test_register_decisions_refuse_conflicts_reach_quorum_and_chain(demo):
    household = _household(demo)
    # committee2 is a member of the household (the register's own record): a relative.
    with pytest.raises(Invalid) as err:
        register.vote(household, demo["committee2"], "approve")
    assert err.value.code == "conflict_of_interest"
    _db.session.rollback()
    _db.session.add(Relative(user_id=demo["committee3"].id, relative_id=demo["worker1"].id, relation="sibling",
                             recorded_by_id=demo["committee3"].id))
    _db.session.commit()
    with pytest.raises(Invalid):
        register.vote(household, demo["committee3"], "approve")
    _db.session.rollback()
    _lend(demo["committee5"], demo["worker3"])
    register.vote(household, demo["worker3"], "approve")
    _db.session.commit()
    with pytest.raises(Conflict):
        register.vote(household, demo["committee5"], "approve")  # the seat voted through its delegate
    _db.session.rollback()
    register.vote(household, demo["committee1"], "approve")
    result = register.vote(household, demo["committee4"], "approve")
    _db.session.commit()
    assert result.decided == "approve" and household.status == "registered"
    entries = _db.session.scalars(entries_of(household)).all()
    assert [e.trigger for e in entries] == ["create", "approve", "approve", "approve"]
    assert entries[1].changes["on_behalf_of"] == "committee5"
    assert verify_chain(household) == (True, None)
    _edit_and_check(entries[2], household)


def _edit_and_check(entry: AuditEntry, subject):
    entry_id, seq, model, subject_id = entry.id, entry.seq, type(subject), subject.id
    _db.session.commit()  # release the write lock before a second connection writes
    with _db.engine.begin() as conn:
        conn.execute(text("UPDATE audit_entries SET comment = 'edited' WHERE id = :id"), {"id": entry_id})
    _db.session.expire_all()
    assert verify_chain(_db.session.get(model, subject_id)) == (False, seq)


def test_board_signoff_refuses_conflicts_reaches_quorum_and_chains(demo, api):
    from casework.disclosure.models import Disclosure
    aid_to(demo, "posting")  # worker1's request waits for the batch
    from casework.funds.models import Fund
    unit = _db.session.scalar(select(Fund).where(Fund.code == "AID")).unit
    d = board.make_batch(unit, "aid")
    _db.session.commit()
    api.as_("committee1").post("/api/v1/relatives", json={"person": "worker1", "relation": "parent"})
    with pytest.raises(Invalid) as err:
        board.sign_off(d, demo["committee1"], "同意")
    assert err.value.code == "conflict_of_interest"
    _db.session.rollback()
    for i in (2, 3):
        board.sign_off(d, demo[f"committee{i}"], "同意公示")
        _db.session.commit()
    assert d.status == "awaiting_signoff"
    assert _db.session.scalar(select(Notice).where(Notice.subject == f"disclosure:{d.id}")) is None
    board.sign_off(d, demo["committee4"], "同意")
    _db.session.commit()
    d = _db.session.get(Disclosure, d.id)
    assert d.status == "posted" and len(d.signers) == 3
    # The PDF is issued with the sign-off, not on a reader's first request.
    assert _db.session.scalar(select(Notice).where(Notice.subject == f"disclosure:{d.id}")) is not None
    audit = api.as_("committee5").get(f"/api/v1/board/{d.id}/audit").get_json()
    assert audit["intact"] is True and [e["trigger"] for e in audit["items"]] == \
        ["create", "sign_off", "sign_off", "sign_off"]
    assert all(e["hash"] for e in audit["items"])
    assert api.as_("worker2").get(f"/api/v1/board/{d.id}/audit").status_code in (403, 404)
    entry = _db.session.scalars(entries_of(d)).all()[1]
    _edit_and_check(entry, d)
    assert api.as_("committee5").get(f"/api/v1/board/{d.id}/audit").get_json()["intact"] is False


def test_register_audit_api(demo, api):
    household = _household(demo, members=[{"name": "张建国", "relation": "self", "monthly_income": "2100.00"}])
    out = api.as_("committee1").get(f"/api/v1/register/{household.id}/audit")
    assert out.status_code == 200 and out.get_json()["intact"] is True
    assert out.get_json()["items"][0]["trigger"] == "create"
    assert api.as_("worker2").get(f"/api/v1/register/{household.id}/audit").status_code == 404


def test_account_page_declares_relatives_and_refuses_an_overlapping_delegation(demo, web):
    web.login("committee1")
    page = web.get("/account")
    assert page.status_code == 200 and "我的亲属" in page.get_data(as_text=True)
    r = web.post("/account/relatives", {"r-person": "worker1", "r-relation": "spouse"}, form_page="/account")
    assert r.status_code in (302, 303)
    row = _db.session.scalar(select(Relative).where(Relative.user_id == demo["committee1"].id))
    assert row is not None and row.relative_id == demo["worker1"].id
    assert "张建国" in web.get("/account").get_data(as_text=True)
    unit = _hq(demo["committee1"]).id
    form = {"d-to_user": "worker3", "d-role": f"committee:{unit}", "d-starts_on": today().isoformat(),
            "d-ends_on": (today() + timedelta(days=3)).isoformat()}
    web.post("/account/delegations", form, form_page="/account")
    second = web.post("/account/delegations", {**form, "d-to_user": "worker2"}, form_page="/account")
    assert second.status_code in (302, 303)
    assert "已有委托" in web.get("/account").get_data(as_text=True)
    assert len(delegations.given_and_received(demo["committee1"])) == 1
    web.post(f"/account/relatives/{row.id}/remove", {}, form_page="/account")
    assert _db.session.scalar(select(Relative.id).where(Relative.id == row.id)) is None
