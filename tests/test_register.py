"""The hardship household register (issue 10): proposal after a visit, the committee's quorum vote, the
yearly re-check and its reminder (once per household and year), aid links, the aid guard, privacy."""
from __future__ import annotations

from datetime import date, datetime
from types import SimpleNamespace

import pytest
from sqlalchemy import func, select

from casework.core import settings
from casework.core.errors import Conflict, Forbidden, Invalid
from casework.extensions import db as _db
from casework.notifications.models import Notification
from casework.register import due_reviews, send_review_reminders
from casework.register import operations as ops
from casework.register.models import Household, ReviewReminder
from casework.register.rules import check_aid_register

from .factories import aid_to, new_case


MEMBERS = [{"name": "张建国", "relation": "self", "monthly_income": "2100.00"},
           {"name": "刘梅", "relation": "spouse", "monthly_income": "0", "note": "尿毒症，长期透析"},
           {"name": "张小明", "relation": "child", "monthly_income": "", "note": "在读初二"}]


def proposal(users, worker="worker1", **over):
    data = {"worker": worker, "grade": "special", "causes": ["illness", "children_in_school"],
            "circumstances": "爱人重病，孩子上学", "visited_on": date(2026, 11, 20), "visitors": "staff1, leader1",
            "findings": "住房简陋，情况属实", "members": MEMBERS, **over}
    return ops.read_proposal(data)


def registered(users, worker="worker1") -> Household:
    household = ops.propose(proposal(users, worker, visitors="staff1, committee5"), users["staff1"])
    for i in (1, 2, 3):
        ops.vote(household, users[f"committee{i}"], "approve", "同意")
    _db.session.commit()
    return household


def utc(local_text: str) -> datetime:
    """A Beijing wall-clock time as the naive UTC the scheduler passes."""
    from casework.clock import to_utc
    return to_utc(datetime.fromisoformat(local_text))


def reminders_to(user) -> int:
    return _db.session.scalar(select(func.count()).select_from(Notification).where(
        Notification.user_id == user.id, Notification.subject.like("困难职工档案年度复核提醒%")))


def test_staff_propose_and_a_committee_quorum_registers(demo):
    household = ops.propose(proposal(demo), demo["staff1"])
    _db.session.commit()
    assert household.status == "proposed" and household.monthly_income == 210000
    assert household.per_capita_income == 70000
    with pytest.raises(Forbidden):
        ops.vote(household, demo["worker2"], "approve")       # not on the committee
    with pytest.raises(Invalid):
        ops.vote(household, demo["committee1"], "reject")     # a no needs a reason
    assert ops.vote(household, demo["committee1"], "approve").decided is None
    with pytest.raises(Conflict):
        ops.vote(household, demo["committee1"], "approve")    # once per round
    assert ops.vote(household, demo["committee2"], "reject", "收入超标").decided is None
    assert ops.vote(household, demo["committee3"], "approve").decided is None
    tally = ops.vote(household, demo["committee4"], "approve")
    _db.session.commit()
    assert (tally.approve, tally.reject, tally.quorum, tally.decided) == (3, 1, 3, "approve")
    assert household.status == "registered" and household.registered_on == date(2026, 11, 25)
    assert household.next_review_on == date(2027, 11, 25)
    with pytest.raises(Conflict):
        ops.vote(household, demo["committee5"], "approve")
    assert _db.session.scalar(select(Notification.subject).where(Notification.user_id == demo["staff1"].id)) \
        == "困难职工档案：张建国家庭已登记入档"


def test_the_quorum_is_the_units_setting_and_a_rejected_household_can_be_proposed_again(demo):
    hq = demo["staff1"].unit
    settings.put(hq, "committee_quorum", 2)
    household = ops.propose(proposal(demo), demo["staff1"])
    ops.vote(household, demo["committee1"], "reject", "材料不全")
    assert ops.vote(household, demo["committee2"], "reject", "再核实").decided == "reject"
    _db.session.commit()
    assert household.status == "rejected"
    again = ops.propose(proposal(demo, grade="general"), demo["staff1"])
    assert again.id == household.id and again.round == 2 and again.status == "proposed"
    assert ops.vote(again, demo["committee1"], "approve").approve == 1  # a new round: may vote again
    assert ops.vote(again, demo["committee2"], "approve").decided == "approve"


def test_who_may_propose_and_the_visit_rules(demo):
    with pytest.raises(Forbidden):
        ops.propose(proposal(demo), demo["leader1"])  # union staff only
    with pytest.raises(Invalid):
        ops.propose(proposal(demo, visitors="staff1"), demo["staff1"])  # two visitors at least
    with pytest.raises(Invalid):
        ops.propose(proposal(demo, visitors="staff1, worker2"), demo["staff1"])  # no fitting role
    with pytest.raises(Invalid) as exc:
        proposal(demo, visited_on="2026-12-01", causes=["lottery"], members=[])
    assert set(exc.value.fields) == {"visited_on", "causes", "members"}
    ops.propose(proposal(demo), demo["staff1"])
    with pytest.raises(Conflict):
        ops.propose(proposal(demo), demo["staff1"])  # already waiting
    _db.session.rollback()
    staff_household = proposal(demo, worker="staff1")
    with pytest.raises(Forbidden):
        ops.propose(staff_household, demo["staff1"])  # not one's own


def test_yearly_review_reminder_fires_once_per_household_and_year(demo, clock):
    household = registered(demo)
    other = registered(demo, "worker2")
    assert send_review_reminders(utc("2027-11-24 09:00")) == 0  # not due yet
    assert due_reviews(utc("2027-11-24 09:00")) == []

    at = utc("2027-11-25 09:00")
    assert due_reviews(at) == [household, other]
    assert send_review_reminders(at) == 2
    _db.session.commit()
    assert send_review_reminders(at) == 0           # the same moment again: nothing
    assert send_review_reminders(utc("2027-12-20 09:00")) == 0  # later the same year: nothing
    _db.session.commit()
    assert reminders_to(demo["staff1"]) == 2
    assert _db.session.scalar(select(func.count()).select_from(ReviewReminder)) == 2

    # worker2's household is re-checked; worker1's is left overdue.
    clock.move_to("2027-11-30 10:00 +08:00")
    ops.review(other, demo["staff1"], "kept")
    _db.session.commit()
    assert other.next_review_on == date(2028, 11, 30)

    a_year_later = utc("2028-11-25 09:00")
    assert due_reviews(a_year_later) == [household]
    assert send_review_reminders(a_year_later) == 1  # still overdue: reminded again, once, in the new year
    _db.session.commit()
    assert send_review_reminders(a_year_later) == 0
    assert send_review_reminders(utc("2028-12-01 09:00")) == 1  # worker2's next re-check is due now
    _db.session.commit()
    assert send_review_reminders(utc("2028-12-01 09:00")) == 0
    assert reminders_to(demo["staff1"]) == 4


def test_review_outcomes(demo, clock):
    household = registered(demo)
    clock.move_to("2027-11-26 10:00 +08:00")
    with pytest.raises(Invalid):
        ops.review(household, demo["staff1"], "grade_changed", "special", "")  # the same grade
    with pytest.raises(Invalid):
        ops.review(household, demo["staff1"], "removed")  # a removal needs a reason
    with pytest.raises(Forbidden):
        ops.review(household, demo["committee1"], "kept")  # union staff re-check
    ops.review(household, demo["staff1"], "grade_changed", "general", "爱人病情好转，已能做零工")
    _db.session.commit()
    assert household.grade == "general" and household.next_review_on == date(2028, 11, 26)
    clock.move_to("2028-11-27 10:00 +08:00")
    ops.review(household, demo["staff1"], "removed", reason="子女已工作，家庭收入超过标准")
    _db.session.commit()
    assert household.status == "removed" and household.next_review_on is None
    assert [r.outcome for r in household.reviews] == ["grade_changed", "removed"]
    assert send_review_reminders(utc("2029-12-01 09:00")) == 0


def test_aid_guard_requires_a_registered_household_where_the_unit_says_so(demo):
    case = new_case("aid", demo["worker1"])
    step = SimpleNamespace(case=case)
    assert check_aid_register(step) is None  # off by default
    settings.put(demo["admin"].unit, "aid_requires_register_hardship", True)  # at the top: every unit
    _db.session.commit()
    refusal = check_aid_register(step)
    assert "hardship register" in refusal or "困难职工档案" in refusal
    from casework.register.rules import aid_register_hint
    assert aid_register_hint(demo["worker1"]) == {"categories": ["hardship"], "registered": False}
    illness = new_case("aid", demo["worker1"], category="illness", details={})
    assert check_aid_register(SimpleNamespace(case=illness)) is None
    ops.propose(proposal(demo), demo["staff1"])
    _db.session.commit()
    assert check_aid_register(step) is not None  # proposed is not registered
    household = _db.session.scalar(select(Household))
    for i in (1, 2, 3):
        ops.vote(household, demo[f"committee{i}"], "approve")
    _db.session.commit()
    assert check_aid_register(step) is None
    assert aid_register_hint(demo["worker1"])["registered"] is True


def test_aid_cases_and_totals_per_year(demo):
    household = registered(demo)
    aid_to(demo, "posting")                      # 2,000.00 approved
    new_case("aid", demo["worker1"], amount_requested="500.00")
    totals = ops.aid_totals(ops.aid_cases(household))
    assert totals == [{"year": 2026, "count": 2, "requested": 350000, "approved": 200000, "paid": 0}]
    stats = ops.statistics(demo["staff1"])
    assert stats["registered"] == 1 and stats["grades"] == {"general": 0, "special": 1}
    assert stats["causes"]["illness"] == 1 and stats["aid"][0]["approved"] == 200000


# -- the pages ---------------------------------------------------------------------------------------------

def test_pages_propose_vote_view_stats_and_privacy(demo, web):
    web.login("staff1")
    form = {"worker": "E1001", "grade": "special", "causes": ["illness", "disability"],
            "circumstances": "爱人重病",
            "visited_on": "2026-11-20", "visitors": "staff1, leader1", "findings": "情况属实",
            "members-0-name": "张建国", "members-0-relation": "self", "members-0-monthly_income": "2100.00",
            "members-1-name": "刘梅", "members-1-relation": "spouse", "members-1-monthly_income": "0"}
    bad = web.post("/register/households", {**form, "visitors": "staff1"}, form_page="/register/new")
    assert bad.status_code == 422 and "has-error" in bad.get_data(as_text=True)
    r = web.post("/register/households", form, form_page="/register/new")
    assert r.status_code == 302, r.get_data(as_text=True)
    household = _db.session.scalar(select(Household))
    assert [m.name for m in household.members] == ["张建国", "刘梅"]
    assert household.causes == ["illness", "disability"]
    page = web.get(f"/register/{household.id}").get_data(as_text=True)
    vote_form = f'action="/register/{household.id}/vote"'
    assert "情况属实" in page and vote_form not in page  # the proposer does not vote
    web.post("/logout", {}, form_page="/")
    for name in ("committee1", "committee2", "committee3"):
        web.login(name)
        assert vote_form in web.get(f"/register/{household.id}").get_data(as_text=True)
        web.post(f"/register/{household.id}/vote", {"position": "approve", "comment": "同意"},
                 form_page=f"/register/{household.id}")
        web.post("/logout", {}, form_page="/")
    _db.session.expire_all()
    assert _db.session.get(Household, household.id).status == "registered"
    web.login("committee1")
    stats = web.get("/register/stats").get_data(as_text=True)
    assert "张建国" not in stats and "情况属实" not in stats  # counts and sums only
    assert web.get("/register").status_code == 200
    web.post("/logout", {}, form_page="/")
    web.login("worker2")
    assert web.get("/register").status_code == 403
    assert web.get(f"/register/{household.id}").status_code == 404
    assert web.get("/register/stats").status_code == 403


def test_admin_switches_the_register_requirement_per_unit(demo, web):
    web.login("admin")
    hq = demo["admin"].unit
    assert web.get(f"/register/settings?unit={hq.id}").status_code == 200
    r = web.post("/register/settings/save", {"unit": str(hq.id), "illness": "1"},
                 form_page=f"/register/settings?unit={hq.id}")
    assert r.status_code == 302
    assert settings.get(demo["worker1"].unit, "aid_requires_register_illness") is True
    assert settings.get(demo["worker1"].unit, "aid_requires_register_hardship") is False


def test_the_aid_form_notice(demo, app, web):
    """templates/register/_aid_notice.html, for the aid request form to include."""
    from flask import render_template_string
    from flask_login import login_user
    settings.put(demo["admin"].unit, "aid_requires_register_hardship", True)
    _db.session.commit()
    with app.test_request_context("/cases/new/aid"):
        login_user(demo["worker1"])
        html = render_template_string('{% include "register/_aid_notice.html" %}')
    assert "register-notice" in html and "tag" in html
    settings.put(demo["admin"].unit, "aid_requires_register_hardship", False)
    _db.session.commit()
    with app.test_request_context("/cases/new/aid"):
        login_user(demo["worker1"])
        assert "register-notice" not in render_template_string('{% include "register/_aid_notice.html" %}')
