"""Multi-level approval by amount (issue 18): above a unit's threshold for the category, the grassroots
committee's approval goes on to the parent union's committee, whose own quorum decides and whose fund pays."""
from __future__ import annotations

import io
import re

import pdfplumber
import pytest
from sqlalchemy import select, update

from casework.accounts.models import RoleAssignment, Unit, User
from casework.aid import levels
from casework.clock import today
from casework.core import engine, settings
from casework.core.errors import Conflict, Forbidden, Invalid
from casework.core.models import AuditEntry, verify_chain
from casework.extensions import db as _db
from casework.funds.models import Fund, LedgerEntry
from casework.notices.models import Notice
from casework.notices.operations import case_values

from .factories import attach, fire, new_case

ILLNESS = {"category": "illness", "amount_requested": "20000.00", "circumstances": "爱人住院化疗",
           "details": {"diagnosis": "肺癌", "hospital": "市第一人民医院", "out_of_pocket": "46000.00"}}
THRESHOLD = 1000000  # 10,000 yuan, in fen


@pytest.fixture()
def branch(demo):
    return make_branch()


def make_branch():
    """A grassroots union below the demo's company union: its own committee of three, its own aid fund, and an
    illness threshold of 10,000 yuan; the company union (HQ) is its parent."""
    hq = _db.session.scalar(select(Fund).where(Fund.code == "AID")).unit
    unit = Unit(code="B9", name="配件分厂工会", level="branch", parent=hq)
    _db.session.add(unit)
    _db.session.flush()
    unit.set_path()
    group = Unit(code="G91", name="装配班组", level="group", parent=unit)
    _db.session.add(group)
    _db.session.flush()
    group.set_path()
    people = {}
    for name, person, role in (("b9worker", "钱志刚", "worker"), ("b9c1", "韩雪梅", "committee"),
                               ("b9c2", "曹永军", "committee"), ("b9c3", "彭丽", "committee")):
        user = User(username=name, name=person, employee_no=name.upper(), unit=group if role == "worker" else unit)
        user.set_password("demo-password")
        user.roles.append(RoleAssignment(role=role, unit=group if role == "worker" else unit))
        _db.session.add(user)
        people[name] = user
    fund = Fund(code="AID-B9", name="配件分厂工会救助基金", unit=unit, purpose="aid", balance=5000000, reserved=0)
    _db.session.add(fund)
    _db.session.flush()
    _db.session.add(LedgerEntry(fund_id=fund.id, kind="income", amount=5000000, source="union_dues", note="划拨"))
    settings.put(unit, "aid_parent_threshold_illness", THRESHOLD)
    settings.put(unit, "committee_quorum", 3)
    _db.session.commit()
    return {"unit": unit, "hq": hq, "fund": fund, "hq_fund": _db.session.scalar(select(Fund).where(Fund.code == "AID")),
            **people}


def _pending(demo, branch, amount: str):
    worker = branch["b9worker"]
    case = new_case("aid", worker, **ILLNESS)
    attach(case, "medical_bills", worker)
    fire(case, "submit", worker)
    fire(case, "start_verification", demo["staff1"])
    fire(case, "record_visit", demo["staff1"], visited_on=today().isoformat(), visitors=["staff1", "committee4"],
         findings="核对票据，属实")
    fire(case, "verify", demo["staff1"], proposed_amount=amount)
    return case


def _grassroots(case, branch, amount: str, voters=("b9c1", "b9c2", "b9c3")):
    for name in voters:
        out = fire(case, "approve", branch[name] if name in branch else name, amount=amount)
    return out


def _pdf_text(pdf: bytes) -> str:
    with pdfplumber.open(io.BytesIO(pdf)) as doc:
        return re.sub(r"\s+", "", "".join(page.extract_text() or "" for page in doc.pages))


def _reserved(fund) -> int:
    _db.session.refresh(fund)
    return fund.reserved


@pytest.mark.parametrize("amount, fen", [("9999.99", 999999), ("10000.00", 1000000)])
def test_at_or_below_the_threshold_the_grassroots_committee_decides_and_its_fund_pays(demo, branch, amount, fen):
    case = _pending(demo, branch, amount)
    out = _grassroots(case, branch, amount)
    assert out.moved and case.state == "posting" and case.referred_unit_id is None
    assert _reserved(branch["fund"]) == fen and _reserved(branch["hq_fund"]) == 0
    assert case.fund_id == branch["fund"].id
    notice = _db.session.scalar(select(Notice).where(Notice.case_id == case.id, Notice.kind == "aid_approval"))
    assert notice.unit_id == branch["unit"].id
    assert levels.approval(case)["level"] == "grassroots"


def test_above_the_threshold_the_parent_decides_with_its_quorum_and_its_fund_pays(demo, branch, api):
    case = _pending(demo, branch, "15000.00")
    out = _grassroots(case, branch, "15000.00")
    assert out.moved and case.state == "parent_approval"
    assert case.referred_unit_id == branch["hq"].id and case.referred_amount == 1500000
    assert _reserved(branch["fund"]) == 0 and _reserved(branch["hq_fund"]) == 0  # nothing reserved yet
    assert case.amount_approved is None

    # The grassroots committee cannot vote at the parent level: its seats are at the branch only.
    with pytest.raises(Forbidden):
        engine.fire(case, "parent_approve", branch["b9c1"], {"amount": "15000.00"})
    _db.session.rollback()
    assert "parent_approve" not in engine.available(case, branch["b9c1"])
    assert "parent_approve" in engine.available(case, demo["committee1"])

    # The parent's quorum is the parent's own setting: 2 here, while the branch keeps 3.
    settings.put(branch["hq"], "committee_quorum", 2)
    _db.session.commit()
    first = fire(case, "parent_approve", demo["committee1"], amount="12000.00")
    assert not first.moved and (first.votes, first.quorum) == (1, 2)
    second = fire(case, "parent_approve", demo["committee2"], amount="12000.00")
    assert second.moved and case.state == "posting"
    assert case.amount_approved == 1200000 and case.fund_id == branch["hq_fund"].id
    assert _reserved(branch["hq_fund"]) == 1200000 and _reserved(branch["fund"]) == 0

    # The letter is the parent's and names both committees; the applicant's record shows both tallies.
    notice = _db.session.scalar(select(Notice).where(Notice.case_id == case.id, Notice.kind == "aid_approval"))
    assert notice.unit_id == branch["hq"].id
    values = case_values("aid_approval", case, trigger="parent_approve")
    assert values["referred_from"] == "配件分厂工会"
    assert f"{branch['hq'].name}集体审议，决定给予" in _pdf_text(notice.pdf)
    body = api.as_("b9worker", "demo-password").get(f"/api/v1/cases/aid/{case.id}").get_json()
    assert body["approval"]["level"] == "parent" and body["approval"]["deciding_unit"] == branch["hq"].name
    assert body["approval"]["referred_amount"] == "15000.00"
    assert body["approval"]["grassroots"]["votes"] == 3 and body["approval"]["grassroots"]["quorum"] == 3
    assert body["approval"]["parent"]["tally"] == [{"trigger": "parent_approve", "inputs": {"amount": "12000.00"},
                                                    "votes": 2}]
    assert body["approval"]["parent"]["quorum"] == 2

    # Both votes are in one verified chain.
    assert verify_chain(case.id) == (True, None)
    triggers = [e.trigger for e in _db.session.scalars(select(AuditEntry).where(AuditEntry.case_id == case.id)
                                                        .order_by(AuditEntry.seq))]
    assert triggers.count("approve") == 3 and triggers.count("parent_approve") == 2


def test_a_member_of_both_committees_votes_once_on_a_case(demo, branch):
    case = _pending(demo, branch, "15000.00")
    # committee1 sits on the company union's committee, which covers the branch too: a seat at both levels.
    fire(case, "approve", demo["committee1"], amount="15000.00")
    _grassroots(case, branch, "15000.00", voters=("b9c1", "b9c2"))
    assert case.state == "parent_approval"
    assert "parent_approve" not in engine.available(case, demo["committee1"])
    with pytest.raises(Conflict) as refused:
        engine.fire(case, "parent_approve", demo["committee1"], {"amount": "15000.00"})
    assert refused.value.code == "already_voted"
    _db.session.rollback()
    with pytest.raises(Conflict):
        engine.fire(case, "parent_reject", demo["committee1"], {"reason": "金额过高"})
    _db.session.rollback()
    # The four other members of the parent committee still reach its quorum of three.
    for name in ("committee2", "committee3", "committee4"):
        fire(case, "parent_approve", demo[name], amount="15000.00")
    assert case.state == "posting"
    voters = {e.actor_id for e in _db.session.scalars(select(AuditEntry).where(
        AuditEntry.case_id == case.id, AuditEntry.trigger.in_(("approve", "parent_approve"))))}
    assert len(voters) == 6  # six people, each once


def test_the_parent_rejects_with_its_reasons_and_signs_the_letter(demo, branch):
    case = _pending(demo, branch, "18000.00")
    _grassroots(case, branch, "18000.00")
    for name in ("committee1", "committee2", "committee3"):
        fire(case, "parent_reject", demo[name], reason="本年度大病救助已超出上级工会预算安排，请基层工会按限额内救助。")
    assert case.state == "rejected"
    notice = _db.session.scalar(select(Notice).where(Notice.case_id == case.id, Notice.kind == "aid_rejection"))
    assert notice.unit_id == branch["hq"].id
    values = case_values("aid_rejection", case, text="理由", trigger="parent_reject")
    assert values["referred_from"] == "配件分厂工会" and values["reason"] == "理由"
    letter = _pdf_text(notice.pdf)
    assert f"经配件分厂工会审议同意后，因金额超过其审批权限报{branch['hq'].name}审批" in letter
    assert "本年度大病救助已超出上级工会预算安排" in letter
    assert _reserved(branch["fund"]) == 0 and _reserved(branch["hq_fund"]) == 0


def test_relatives_stand_aside_at_the_parent_level_too(demo, branch, api):
    case = _pending(demo, branch, "15000.00")
    _grassroots(case, branch, "15000.00")
    r = api.as_("staff1").post("/api/v1/relatives", json={"person": "committee5", "relation": "sibling",
                                                         "of": "b9worker"})
    assert r.status_code == 201
    out = api.as_("committee5").post(f"/api/v1/cases/aid/{case.id}/transitions/parent_approve",
                                     json={"version": case.version, "amount": "15000.00"})
    assert out.status_code == 422 and out.get_json()["error"]["code"] == "conflict_of_interest"


def test_the_parent_fund_is_never_overdrawn(demo, branch):
    case = _pending(demo, branch, "15000.00")
    hq_fund = branch["hq_fund"]
    # Above the threshold the grassroots vote already checks the fund that will pay: the parent's.
    _db.session.execute(update(Fund).where(Fund.id == hq_fund.id).values(reserved=Fund.balance - 100000))
    _db.session.commit()
    with pytest.raises(Invalid) as refused:
        engine.fire(case, "approve", branch["b9c1"], {"amount": "15000.00"})
    assert hq_fund.name in refused.value.message
    _db.session.rollback()
    _db.session.execute(update(Fund).where(Fund.id == hq_fund.id).values(reserved=0))
    _db.session.commit()
    _grassroots(case, branch, "15000.00")
    assert case.state == "parent_approval"
    _db.session.execute(update(Fund).where(Fund.id == hq_fund.id).values(reserved=Fund.balance - 100000))
    _db.session.commit()
    with pytest.raises(Invalid):
        engine.fire(case, "parent_approve", demo["committee1"], {"amount": "15000.00"})
    _db.session.rollback()
    _db.session.refresh(hq_fund)
    assert hq_fund.balance - hq_fund.reserved == 100000


def test_the_case_page_says_where_the_request_stands(demo, branch, web):
    case = _pending(demo, branch, "15000.00")
    _grassroots(case, branch, "15000.00")
    web.login("b9worker")
    page = web.get(f"/cases/aid/{case.id}").get_data(as_text=True)
    assert "已报上级工会审批" in page and branch["hq"].name in page and "配件分厂工会" in page
    # A member of the parent's committee finds the parent's vote, with the amount approved below filled in.
    web.post("/logout", {}, form_page="/")
    web.login("committee2")
    page = web.get(f"/cases/aid/{case.id}").get_data(as_text=True)
    assert "do/parent_approve" in page and 'value="15000.00"' in page and "do/approve" not in page


def test_the_threshold_is_a_unit_setting_in_yuan_and_none_means_one_level(app, demo, branch):
    with app.test_request_context():
        assert settings.parse_value("aid_parent_threshold_illness", "10000") == 1000000
        assert settings.shown("aid_parent_threshold_illness", None) == ""
    assert settings.get(branch["unit"], "aid_parent_threshold_hardship") is None
    case = new_case("aid", branch["b9worker"], amount_requested="4800.00")
    assert not levels.goes_up(case, 480000)  # no hardship threshold: one level
    settings.put(branch["hq"], "aid_parent_threshold_illness", 100)
    _db.session.commit()
    hq_case = new_case("aid", demo["worker1"], **ILLNESS)
    assert not levels.goes_up(hq_case, 1500000)  # the top union has no parent: it decides alone
