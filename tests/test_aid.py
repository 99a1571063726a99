"""Aid requests end to end: the rules of WORKFLOWS.md "Aid request", privacy, the fund ledger."""
from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from casework.clock import today
from casework.core.errors import Forbidden, Invalid
from casework.extensions import db as _db
from casework.funds.models import Fund, LedgerEntry
from casework.funds.operations import ledger_balance

from .factories import aid_to, attach, fire, new_case, post_on_board

ROLES = ["worker1", "leader1", "worker2", "staff1", "committee1", "fund1", "evaluator1", "motions1", "handler1"]


def _aid_fund():
    return _db.session.scalar(select(Fund).where(Fund.code == "AID"))


def test_walk_to_closed_with_ledger(demo, clock):
    case = aid_to(demo, "posting")
    fund = _aid_fund()
    _db.session.refresh(fund)
    assert fund.reserved == 200000 and case.amount_approved == 200000
    assert case.deadline is None  # the disclosure sets the posting period
    with pytest.raises(Invalid):
        fire(case, "end_posting", None)  # not even on the board yet
    _db.session.rollback()
    post_on_board(demo)
    assert case.deadline is not None
    # The posting period ends: the scheduler's step, here fired as the scheduler would.
    clock.move_to(f"{case.deadline.isoformat()} 17:00 +08:00")
    with pytest.raises(Invalid):
        fire(case, "end_posting", None)  # its last day is still inside it
    _db.session.rollback()
    clock.move_to(f"{(case.deadline + timedelta(days=1)).isoformat()} 09:00 +08:00")
    fire(case, "end_posting", None)
    assert case.state == "approved"
    with pytest.raises(Forbidden):
        fire(case, "disburse", demo["staff1"], method="cash", reference="X")
    _db.session.rollback()
    balance_before = fund.balance
    fire(case, "disburse", demo["fund1"], method="bank_transfer", reference="工行-20261125-001")
    _db.session.refresh(fund)
    assert (fund.balance, fund.reserved) == (balance_before - 200000, 0)
    assert ledger_balance(fund) == (fund.balance, fund.reserved)
    kinds = [e.kind for e in _db.session.scalars(select(LedgerEntry).where(LedgerEntry.case_id == case.id)
                                                 .order_by(LedgerEntry.id))]
    assert kinds == ["reserve", "debit"]
    fire(case, "confirm_receipt", demo["worker1"])
    assert case.state == "closed"


def test_reject_and_withdraw(demo):
    case = aid_to(demo, "pending_approval")
    for i in (1, 2):
        fire(case, "reject", demo[f"committee{i}"], reason="收入超过困难标准")
    assert case.state == "pending_approval"
    fire(case, "reject", demo["committee3"], reason="收入超过困难标准")
    assert case.state == "rejected"
    other = aid_to(demo, "verifying")
    fire(other, "withdraw", demo["worker1"])
    assert other.state == "withdrawn"


def test_upheld_objection_releases_the_reservation(demo):
    case = aid_to(demo, "posted")
    fire(case, "object", None)
    assert case.state == "objection_review"
    for i in (1, 2, 3):
        fire(case, "uphold_objection", demo[f"committee{i}"], answer="经核实收入情况不符")
    assert case.state == "rejected"
    fund = _aid_fund()
    _db.session.refresh(fund)
    assert fund.reserved == 0 and ledger_balance(fund) == (fund.balance, 0)


def test_caps_and_amount_rules(demo):
    case = aid_to(demo, "verifying")
    with pytest.raises(Invalid) as err:
        fire(case, "verify", demo["staff1"], proposed_amount="5000.01")
    assert "5000.00" in err.value.message
    _db.session.rollback()
    for bad in ("-1", "1.001", "abc", "", "NaN", "1e999"):
        with pytest.raises(Invalid):
            fire(case, "verify", demo["staff1"], proposed_amount=bad)
        _db.session.rollback()


def test_group_leader_applies_for_a_member(demo):
    case = new_case("aid", demo["leader1"], applicant="worker1")
    assert case.applicant_id == demo["worker1"].id and case.created_by_id == demo["leader1"].id
    with pytest.raises(Invalid):
        new_case("aid", demo["leader1"], applicant="worker2")  # not in a group leader1 leads
    _db.session.rollback()
    attach(case, "income_proof", demo["leader1"])
    fire(case, "submit", demo["leader1"])
    assert case.state == "submitted"


def test_required_details_per_category(demo):
    case = new_case("aid", demo["worker1"], category="illness", details={"diagnosis": "肺癌"})
    attach(case, "medical_bills", demo["worker1"])
    with pytest.raises(Invalid) as err:
        fire(case, "submit", demo["worker1"])
    assert "Hospital" in err.value.message or "医院" in err.value.message


VISIBLE = {  # who sees an aid request of worker1 filed by leader1, once a visit was recorded
    "worker1": "full", "leader1": "full", "worker2": None, "staff1": "full", "committee1": "full",
    "fund1": "payee", "evaluator1": None, "motions1": None, "handler1": None,
}


@pytest.mark.parametrize("username", ROLES)
def test_privacy_matrix(api, demo, username):
    case = new_case("aid", demo["leader1"], applicant="worker1")
    attach(case, "income_proof", demo["leader1"])
    fire(case, "submit", demo["leader1"])
    fire(case, "start_verification", demo["staff1"])
    fire(case, "record_visit", demo["staff1"], visited_on=today().isoformat(), visitors=["staff1", "committee2"],
         findings="住房为单位公房，家中有病人需照顾")
    who = api.as_(username)
    r = who.get(f"/api/v1/cases/aid/{case.id}")
    expected = VISIBLE[username]
    if expected is None:
        assert r.status_code == 404
        assert who.get(f"/api/v1/cases/aid/{case.id}/audit").status_code == 404
        return
    body = r.get_json()
    assert r.status_code == 200
    assert ("circumstances" in body) == (expected == "full")
    assert ("details" in body) == (expected == "full")
    assert body["applicant_name"] == "张建国"
    audit = who.get(f"/api/v1/cases/aid/{case.id}/audit").get_json()["items"]
    text = str(audit)
    reviewer = username in ("staff1", "committee1")
    assert ("家中有病人" in text) == reviewer
    assert ("家中有病人" in who.get(f"/api/v1/cases/aid/{case.id}").get_data(as_text=True)) is False


def test_anonymous_sees_nothing(client, demo):
    case = aid_to(demo, "submitted")
    assert client.get(f"/api/v1/cases/aid/{case.id}").status_code == 401
    r = client.get(f"/cases/aid/{case.id}")
    assert r.status_code == 302 and "/login" in r.headers["Location"]


def test_bad_input_saves_nothing(api, demo):
    worker = api.as_("worker1")
    before = _db.session.scalar(select(LedgerEntry.id).order_by(LedgerEntry.id.desc()))
    for body in ({"category": "hardship", "amount_requested": 3000}, {"category": "hardship", "amount_requested": True},
                 {"category": "hardship", "amount_requested": "1.999"}, {"category": 5, "amount_requested": "1"},
                 {"category": "hardship", "amount_requested": "100", "circumstances": "x" * 10_000_001},
                 {"category": "hardship", "amount_requested": "100", "details": {"household_size": "many"}}):
        r = worker.post("/api/v1/cases/aid", json=body)
        assert r.status_code in (201, 413, 422), (body, r.status_code)
        if r.status_code != 201:
            assert "error" in r.get_json()
    assert worker.get("/api/v1/cases/aid").get_json()["items"] == [] or all(
        c["amount_requested"] == "3000.00" for c in worker.get("/api/v1/cases/aid").get_json()["items"])
    assert _db.session.scalar(select(LedgerEntry.id).order_by(LedgerEntry.id.desc())) == before


def test_the_fund_manager_never_learns_the_category(api, demo, web):
    """The category (say, serious illness) is itself a sensitive fact: the payee view names no category in
    lists, the queue, its filter, exports, the API or notifications."""
    case = aid_to(demo, "posting")
    staff = api.as_("staff1")
    assert staff.get(f"/api/v1/cases/aid/{case.id}").get_json()["title"] == "hardship"
    web.login("fund1")
    pages = [web.get(p).get_data(as_text=True) for p in (
        "/cases", "/work", "/export/cases.csv", "/export/work.csv", "/notifications")]
    assert any(case.number in p for p in pages)
    for p in pages:
        assert "困难帮扶" not in p and "Hardship" not in p
    assert case.number not in web.get("/work?category=hardship").get_data(as_text=True)
    fund = api.as_("fund1")
    body = fund.get(f"/api/v1/cases/aid/{case.id}").get_json()
    assert body["title"] == "" and "category" not in body
    listed = fund.get("/api/v1/cases/aid").get_data(as_text=True) + fund.get("/api/v1/queue").get_data(as_text=True)
    assert case.number in listed and "hardship" not in listed
    web.post("/logout", {}, form_page="/")
    web.login("staff1")
    assert "困难帮扶 · 张建国" in web.get("/cases").get_data(as_text=True)  # a reviewer does see it
