"""Two-part ratings and the call-back loop (回访), end to end on the real engine: every path of the loop for
motions and proposals, co-signers' and co-proposers' ratings, the ledger's numbers, the reminders."""
from __future__ import annotations

from datetime import date, datetime

import pytest
from flask_babel import force_locale
from sqlalchemy import select

from casework.clock import today
from casework.core import calendar, engine
from casework.core.errors import CaseworkError
from casework.core.models import AuditEntry, CongressSession, entries_of, verify_chain
from casework.extensions import db as _db
from casework.notifications.models import Notification
from casework.ratings import ledger
from casework.ratings.models import Callback, Rating
from casework.scheduler import run_due

from .factories import fire
from .test_motions import walk as motion_to
from .test_proposals import walk as proposal_to

EN = {"Accept-Language": "en"}
YEAR = (date(2026, 1, 1), date(2026, 12, 31))


@pytest.fixture()
def session(demo):
    return _db.session.scalar(select(CongressSession))


def ratings(case) -> list[tuple]:
    return [(r.rater.username, r.role, r.round, r.attitude, r.result, r.set_aside)
            for r in _db.session.scalars(select(Rating).where(Rating.case_id == case.id).order_by(Rating.id))]


def callbacks(case) -> list[Callback]:
    return _db.session.scalars(select(Callback).where(Callback.case_id == case.id).order_by(Callback.id)).all()


def refused(case, trigger, user, **data) -> str:
    with pytest.raises(CaseworkError) as err, force_locale("en"):
        engine.fire(case, trigger, user, data)
    _db.session.rollback()
    return str(err.value.message)


def record(api, cb, status=200, who="staff1", **body):
    r = api.as_(who).post(f"/api/v1/callbacks/{cb.id}", json=body, headers=EN)
    assert r.status_code == status, r.get_json()
    return r.get_json()


def vote(api, cb, trigger, who, status=200, **body):
    r = api.as_(who).post(f"/api/v1/callbacks/{cb.id}/transitions/{trigger}", json=body, headers=EN)
    assert r.status_code == status, r.get_json()
    return r.get_json()


# -- 满意: the author closes, every co-signer rates too -------------------------------------------------

def test_satisfied_by_the_author_and_every_cosigner(demo, session, api):
    case = motion_to(demo, session, "replied")
    fire(case, "rate", demo["rep2"], attitude="satisfied", result="basically_satisfied", comment="答复及时")
    assert case.state == "replied"  # a co-signer's rating leaves the motion where it is
    out = api.as_("rep1").post(f"/api/v1/cases/motion/{case.id}/transitions/rate", headers=EN,
                               json={"attitude": "satisfied", "result": "satisfied", "comment": "满意"}).get_json()
    assert out["state"] == "closed" and out["satisfaction"] == "satisfied"
    assert "rate" in api.as_("rep3").get(f"/api/v1/cases/motion/{case.id}").get_json()["transitions"]
    fire(case, "rate", demo["rep3"], attitude="basically_satisfied", result="satisfied")  # after it closed
    assert refused(case, "rate", demo["rep2"], attitude="satisfied", result="satisfied") == \
        "You have already rated this reply."
    assert ratings(case) == [("rep2", "cosigner", 1, "satisfied", "basically_satisfied", False),
                             ("rep1", "author", 1, "satisfied", "satisfied", False),
                             ("rep3", "cosigner", 1, "basically_satisfied", "satisfied", False)]
    assert callbacks(case) == []
    listed = api.as_("rep3").get(f"/api/v1/cases/motion/{case.id}/ratings").get_json()["items"]
    assert [(r["rater"], r["comment"]) for r in listed][0] == ("rep2", "答复及时")
    # Nobody else rates: not the handler, not staff.
    assert refused(case, "rate", demo["staff1"], attitude="satisfied", result="satisfied") == \
        "You are not allowed to do this on this case."


def test_a_rating_needs_both_parts_and_the_old_single_rating_is_the_result(demo, session, api):
    case = motion_to(demo, session, "replied")
    r = api.as_("rep1").post(f"/api/v1/cases/motion/{case.id}/transitions/rate", headers=EN,
                             json={"result": "satisfied"})
    assert r.status_code == 422 and r.get_json()["error"]["message"] == \
        "Rate both the handling attitude and the result."
    r = api.as_("rep1").post(f"/api/v1/cases/motion/{case.id}/transitions/rate", headers=EN,
                             json={"attitude": "great", "result": "satisfied"})
    assert r.status_code == 422 and "attitude" in r.get_json()["error"]["fields"]
    out = api.as_("rep1").post(f"/api/v1/cases/motion/{case.id}/transitions/rate", headers=EN,
                               json={"satisfaction": "basically_satisfied"}).get_json()
    assert out["state"] == "closed" and out["satisfaction"] == "basically_satisfied"
    assert ratings(case) == [("rep1", "author", 1, None, "basically_satisfied", False)]


def test_the_rating_period_of_a_closed_motion_ends(demo, session, clock):
    case = motion_to(demo, session, "replied")
    fire(case, "rate", demo["rep1"], attitude="satisfied", result="satisfied")
    clock.move_to("2026-12-10 10:00:00 +08:00")  # more than 10 working days after the reply
    assert refused(case, "rate", demo["rep2"], attitude="satisfied", result="satisfied") == \
        "The rating period of this reply has ended."


# -- 不满意 → call-back → fix → re-rated ----------------------------------------------------------------

def test_unsatisfied_call_back_fix_and_rerated(demo, session, api, clock):
    case = motion_to(demo, session, "replied")
    fire(case, "rate", demo["rep1"], attitude="satisfied", result="unsatisfied", comment="问题没有解决")
    assert case.state == "closed"
    [cb] = callbacks(case)
    assert (cb.state, cb.round, cb.department.code) == ("due", 1, "TECH")
    assert cb.due_on == calendar.add_working_days(today(), 5)
    # A co-signer's 不满意 on the same reply joins the call-back still due.
    fire(case, "rate", demo["rep2"], attitude="unsatisfied", result="basically_satisfied")
    assert callbacks(case) == [cb] and len(cb.ratings) == 2
    listed = api.as_("staff1").get("/api/v1/callbacks").get_json()["items"]
    assert [(c["id"], c["case"]["number"], c["transitions"]) for c in listed] == [(cb.id, case.number, ["record"])]
    assert api.as_("rep1").get("/api/v1/callbacks").get_json()["items"] == []
    # Only union staff record it; a fix needs its date.
    assert record(api, cb, 403, who="handler1", how="phone", notes="n", outcome="fix")["error"]["code"] == "role"
    out = record(api, cb, 422, how="phone", notes="电话回访", outcome="fix")
    assert out["error"]["fields"]["deadline"] == "A fix needs the new deadline of the re-handling."
    out = record(api, cb, how="phone", notes="电话回访：噪声仍大，同意再处理", outcome="fix", deadline="2026-12-18",
                 called_on="2026-11-25", version=cb.version)
    assert (out["state"], out["called_by"], out["how"], out["fix_by"]) == ("fixing", "staff1", "phone", "2026-12-18")
    _db.session.expire_all()
    assert (case.state, case.deadline) == ("handling", date(2026, 12, 18))
    last = _db.session.scalars(entries_of(case).order_by(None).order_by(AuditEntry.seq.desc())).first()
    assert (last.trigger, last.actor_label, last.changes["callback"]) == ("rehandle", "scheduler", [None, cb.id])
    assert "rehandle" not in engine.available(case, demo["staff1"])  # only a call-back's fix hands it back
    fire(case, "reply", demo["handler1"], text="更换低噪声风机")
    fire(case, "rate", demo["rep1"], attitude="satisfied", result="satisfied")
    _db.session.expire_all()
    assert cb.state == "fixed" and case.state == "closed"
    assert [r[:5] for r in ratings(case)][-1] == ("rep1", "author", 2, "satisfied", "satisfied")
    assert verify_chain(cb)[0] and verify_chain(case.id)[0]
    trail = api.as_("staff1").get(f"/api/v1/callbacks/{cb.id}/audit").get_json()
    assert [e["trigger"] for e in trail["items"]] == ["create", "record", "close_fixed"] and trail["intact"]


def test_the_old_reopen_records_the_rating_and_opens_a_call_back(demo, session, api):
    case = motion_to(demo, session, "replied")
    fire(case, "rate_unsatisfied", demo["rep1"], comment="仍然拥挤")
    assert case.state == "handling" and case.reopened
    assert ratings(case) == [("rep1", "author", 1, None, "unsatisfied", False)]
    [cb] = callbacks(case)
    # The fix sets the new deadline of the re-handling already under way.
    record(api, cb, how="visit", notes="上门回访", outcome="fix", deadline="2026-12-30")
    _db.session.expire_all()
    assert (case.state, case.deadline) == ("handling", date(2026, 12, 30))


# -- 不满意 → explain ------------------------------------------------------------------------------------

def test_unsatisfied_call_back_explained(demo, session, api):
    case = motion_to(demo, session, "replied")
    fire(case, "rate", demo["rep1"], attitude="unsatisfied", result="basically_satisfied")
    assert "rate" not in engine.available(case, demo["rep1"])  # rated this reply: the form is not offered
    [cb] = callbacks(case)
    out = record(api, cb, 422, how="meeting", notes="座谈", outcome="explain")
    assert out["error"]["fields"]["explanation"] == "An explanation outcome needs the written explanation."
    out = record(api, cb, how="meeting", notes="座谈回访", outcome="explain",
                 explanation="受场地限制，窗口无法再增加，已调整开餐时间。")
    assert out["state"] == "explained" and out["transitions"] == []
    told = _db.session.scalars(select(Notification).where(Notification.body.like("受场地限制%"))).all()
    assert [n.user_id for n in told] == [demo["rep1"].id]  # the rater, once, with a link to the motion
    assert told[0].case_id == case.id
    assert record(api, cb, 409, how="phone", notes="again", outcome="explain", explanation="x")


# -- 不满意 → appeal upheld / dismissed --------------------------------------------------------------------

def _appealed(demo, session, api):
    case = motion_to(demo, session, "replied")
    fire(case, "rate", demo["rep1"], attitude="satisfied", result="unsatisfied")
    [cb] = callbacks(case)
    out = record(api, cb, how="phone", notes="部门认为已按提案落实，申请复核评价", outcome="appeal")
    assert out["state"] == "appealed" and out["transitions"] == []  # staff do not decide it
    assert vote(api, cb, "uphold_appeal", "committee1", reason="已落实")["votes"] == 1
    return case, cb


def test_appeal_upheld_sets_the_rating_aside_and_keeps_it(demo, session, api):
    case, cb = _appealed(demo, session, api)
    before = ledger.average_rating(cb.department, YEAR)
    assert before["answers"] == 2 and before["unsatisfied"] == 1
    vote(api, cb, "uphold_appeal", "committee1", 409, reason="again")
    vote(api, cb, "uphold_appeal", "committee2", reason="答复已落实")
    out = vote(api, cb, "uphold_appeal", "committee3", reason="评价有误")
    assert out["state"] == "upheld" and out["votes"] == 3 and out["decision"]
    told = _db.session.scalars(select(Notification).where(Notification.body == out["decision"])).all()
    assert [(n.user_id, n.case_id) for n in told] == [(demo["rep1"].id, case.id)]
    assert told[0].subject.endswith(f"{case.number}：申诉成立")
    assert ratings(case) == [("rep1", "author", 1, "satisfied", "unsatisfied", True)]  # kept, set aside
    assert ledger.average_rating(cb.department, YEAR)["answers"] == 0
    assert ledger.callback_rate(YEAR)["set_aside"] == 1


def test_appeal_dismissed_the_rating_stands(demo, session, api):
    case, cb = _appealed(demo, session, api)
    vote(api, cb, "dismiss_appeal", "committee2", reason="问题确未解决")
    vote(api, cb, "dismiss_appeal", "committee3", reason="维持")
    out = vote(api, cb, "dismiss_appeal", "committee4", reason="维持评价")
    assert out["state"] == "dismissed"
    assert ratings(case) == [("rep1", "author", 1, "satisfied", "unsatisfied", False)]
    assert ledger.average_rating(cb.department, YEAR) == {
        "answers": 2, "satisfied": 1, "basically_satisfied": 0, "unsatisfied": 1, "average": 2.0,
        "satisfied_rate": 0.5}


def test_the_raters_and_the_department_do_not_decide_the_appeal(demo, session, api):
    from casework.accounts.models import Department, DepartmentMember
    case, cb = _appealed(demo, session, api)
    tech = _db.session.scalar(select(Department).where(Department.code == "TECH"))
    _db.session.add(DepartmentMember(user=demo["committee4"], department=tech))
    _db.session.commit()
    out = vote(api, cb, "uphold_appeal", "committee4", 403)
    assert out["error"]["code"] == "conflict_of_interest"


# -- proposals: ratings after decline and after adoption ---------------------------------------------

def test_proposal_rated_after_decline_by_the_proposer_and_a_coproposer(demo, api):
    case = proposal_to(demo, "submitted", coproposers=["worker2"])
    fire(case, "decline", demo["staff1"], reply="与现行制度重复")
    fire(case, "rate", demo["worker2"], attitude="satisfied", result="basically_satisfied")
    fire(case, "rate", demo["worker1"], attitude="basically_satisfied", result="unsatisfied", comment="理由不充分")
    assert case.state == "declined"
    assert ratings(case) == [("worker2", "cosigner", 1, "satisfied", "basically_satisfied", False),
                             ("worker1", "author", 1, "basically_satisfied", "unsatisfied", False)]
    [cb] = callbacks(case)
    assert cb.department_id is None  # the union's own reply
    record(api, cb, how="phone", notes="电话回访", outcome="fix", deadline="2026-12-10")
    _db.session.expire_all()
    assert (case.state, case.deadline) == ("submitted", date(2026, 12, 10))  # examined again
    fire(case, "decline", demo["staff1"], reply="经复核，已纳入明年计划")
    fire(case, "rate", demo["worker1"], attitude="satisfied", result="satisfied")
    _db.session.expire_all()
    assert cb.state == "fixed"


def test_proposal_rated_after_adoption_fix_by_the_department(demo, api):
    case = proposal_to(demo, "implemented")
    out = api.as_("worker1").post(f"/api/v1/cases/proposal/{case.id}/transitions/rate", headers=EN,
                                  json={"attitude": "unsatisfied", "result": "unsatisfied"}).get_json()
    assert out["state"] == "implemented"
    [cb] = callbacks(case)
    assert cb.department.code == "TECH"
    record(api, cb, how="visit", notes="现场回访，改造未覆盖夜班", outcome="fix", deadline="2027-01-08")
    _db.session.expire_all()
    assert (case.state, case.deadline) == ("implementing", date(2027, 1, 8))
    fire(case, "report_implemented", demo["handler1"], result="夜班同步改造", benefit="15000.00")
    fire(case, "rate", demo["worker1"], attitude="satisfied", result="satisfied")
    _db.session.expire_all()
    assert cb.state == "fixed" and [r[2] for r in ratings(case)] == [1, 2]


def test_a_rewarded_proposal_cannot_be_handled_again(demo, api):
    case = proposal_to(demo, "rewarded")
    fire(case, "rate", demo["worker1"], attitude="satisfied", result="unsatisfied")
    [cb] = callbacks(case)
    out = record(api, cb, 422, how="phone", notes="回访", outcome="fix", deadline="2026-12-20")
    assert out["error"]["message"] == ("This case can no longer be handled again (it is “Rewarded”): record an "
                                       "explanation or an appeal.")
    assert record(api, cb, how="phone", notes="回访", outcome="explain", explanation="奖励已发放")["state"] == \
        "explained"


def test_no_rating_before_the_reply(demo):
    case = proposal_to(demo, "implementing")
    assert "rate" not in engine.available(case, demo["worker1"])


# -- reminders and the ledger -------------------------------------------------------------------------

def test_call_backs_due_are_reminded_once_per_phase(demo, session, clock):
    case = motion_to(demo, session, "replied")
    fire(case, "rate", demo["rep1"], attitude="unsatisfied", result="unsatisfied")
    [cb] = callbacks(case)
    assert cb.due_on == date(2026, 12, 2)
    staff_notes = lambda: _db.session.scalars(select(Notification.subject).where(  # noqa: E731
        Notification.user_id == demo["staff1"].id, Notification.subject.like("【回访%"))).all()
    assert run_due(datetime(2026, 11, 25, 2)).tasks["callback_reminders"] == 0
    assert run_due(datetime(2026, 11, 30, 2)).tasks["callback_reminders"] == 1  # 2 wd before
    assert run_due(datetime(2026, 11, 30, 3)).tasks["callback_reminders"] == 0
    assert run_due(datetime(2026, 12, 2, 2)).tasks["callback_reminders"] == 1   # the day
    assert run_due(datetime(2026, 12, 7, 2)).tasks["callback_reminders"] == 1   # 3 wd after: the committee
    assert run_due(datetime(2026, 12, 8, 2)).tasks["callback_reminders"] == 0
    assert len(staff_notes()) == 3
    assert _db.session.scalar(select(Notification.subject).where(
        Notification.user_id == demo["committee1"].id, Notification.subject.like("【回访督办】%")))


def test_ledger_by_department_and_call_back_rate(demo, session, api):
    done = motion_to(demo, session, "replied")
    fire(done, "rate", demo["rep1"], attitude="satisfied", result="satisfied")
    open_ = motion_to(demo, session, "replied", author="rep2")
    fire(open_, "rate", demo["rep2"], attitude="unsatisfied", result="satisfied")
    called = motion_to(demo, session, "replied", author="rep3")
    fire(called, "rate", demo["rep3"], attitude="basically_satisfied", result="unsatisfied")
    record(api, callbacks(called)[0], how="phone", notes="回访", outcome="explain", explanation="已说明")
    tech = done.department
    assert ledger.average_rating(tech, YEAR) == ledger.average_rating(tech.id, YEAR) == {
        "answers": 6, "satisfied": 3, "basically_satisfied": 1, "unsatisfied": 2, "average": 2.17,
        "satisfied_rate": 0.6667}
    assert ledger.by_department(YEAR) == {tech.id: ledger.average_rating(tech, YEAR)}
    assert ledger.average_rating(tech, (date(2027, 1, 1), date(2027, 12, 31)))["average"] is None
    assert ledger.callback_rate(YEAR) == {"opened": 2, "made": 1, "rate": 0.5, "set_aside": 0, "target": 1.0}


def test_annual_reports_print_satisfaction_per_department_and_the_call_back_rate(demo, session, api):
    from casework.accounts.models import Unit
    from casework.stats import reports
    from .test_annual_report import text_of
    case = motion_to(demo, session, "replied")
    fire(case, "rate", demo["rep1"], attitude="satisfied", result="unsatisfied")
    fire(case, "rate", demo["rep2"], attitude="satisfied", result="satisfied")
    hq = _db.session.scalar(select(Unit).where(Unit.code == "HQ"))
    values = reports.annual_values("motion", reports.year_scope(hq, 2026))
    assert values["ratings"] == {
        "by_department": [{"department": "生产技术部", "answers": 4, "satisfied": 3, "basically_satisfied": 0,
                           "unsatisfied": 1, "average": 2.5, "satisfied_rate": 0.75}],
        "callbacks": {"opened": 1, "made": 0, "rate": 0.0, "set_aside": 0, "target": 1.0}}
    record(api, callbacks(case)[0], how="phone", notes="回访", outcome="explain", explanation="已说明")
    notice, _issued = reports.annual_report("motion", hq, 2026)
    _db.session.commit()
    text = text_of(notice.pdf)
    assert "回访率100.0%（目标100%）" in text and "生产技术部" in text
    proposals = reports.annual_values("proposal", reports.year_scope(hq, 2026))["ratings"]
    assert proposals == {"by_department": [], "callbacks": {"opened": 0, "made": 0, "rate": None,
                                                            "set_aside": 0, "target": 1.0}}


def test_the_case_page_and_the_call_back_pages(demo, session, web):
    case = motion_to(demo, session, "replied")
    web.login("rep1")
    page = web.get(f"/cases/motion/{case.id}").get_data(as_text=True)
    assert 'name="rate-attitude"' in page and 'name="rate-result"' in page
    r = web.post(f"/cases/motion/{case.id}/do/rate", {"rate-attitude": "satisfied",
                                                              "rate-result": "unsatisfied",
                                                              "rate-comment": "噪声仍大"},
                 form_page=f"/cases/motion/{case.id}")
    assert r.status_code in (302, 303), r.get_data(as_text=True)[:500]
    [cb] = callbacks(case)
    page = web.get(f"/cases/motion/{case.id}").get_data(as_text=True)
    assert "答复评价" in page and "噪声仍大" in page and "待回访" in page
    assert web.get(f"/callbacks/{cb.id}").status_code == 200  # the rater follows it
    web.post("/logout", {}, form_page="/")
    web.login("staff1")
    listed = web.get("/callbacks").get_data(as_text=True)
    assert case.number in listed
    page = web.get(f"/callbacks/{cb.id}").get_data(as_text=True)
    assert 'name="record-how"' in page
    r = web.post(f"/callbacks/{cb.id}/record", {"record-how": "phone", "record-notes": "", "record-outcome": "fix"},
                 form_page=f"/callbacks/{cb.id}")
    assert r.status_code == 422
    r = web.post(f"/callbacks/{cb.id}/record", {"record-how": "phone", "record-notes": "电话回访，同意再处理",
                                               "record-outcome": "fix", "record-deadline": "2026-12-18",
                                               "record-version": str(cb.version)},
                 form_page=f"/callbacks/{cb.id}")
    assert r.status_code in (302, 303)
    _db.session.expire_all()
    assert cb.state == "fixing" and case.state == "handling"
    assert "重新办理中" in web.get(f"/callbacks/{cb.id}").get_data(as_text=True)
    assert "登记回访" in web.get(f"/callbacks/{cb.id}/audit").get_data(as_text=True)
    web.post("/logout", {}, form_page="/")
    web.login("worker1")
    assert web.get(f"/callbacks/{cb.id}").status_code == 404


def test_a_fix_deadline_is_reminded_like_any_handling_deadline(demo, session, api):
    from casework.scheduler.sweep import reminder_states
    assert "handling" in reminder_states()["motion"] and "implementing" in reminder_states()["proposal"]
    assert "replied" not in reminder_states()["motion"]  # its period ends in the automatic close
    case = motion_to(demo, session, "replied")
    fire(case, "rate", demo["rep1"], attitude="unsatisfied", result="unsatisfied")
    record(api, callbacks(case)[0], how="phone", notes="回访", outcome="fix", deadline="2026-12-04")
    assert run_due(datetime(2026, 12, 4, 2)).reminders["remind_due"] == 1
    assert _db.session.scalar(select(Notification.subject).where(
        Notification.user_id == demo["handler1"].id, Notification.subject.like("【今日到期】%")))


def test_the_call_back_workflow_table():
    import workflows
    wf = workflows.get("callback")
    table = {(s, t.trigger): (t.dest, t.roles, t.vote, t.automatic) for t in wf.transitions for s in t.source}
    assert table == {
        ("due", "record"): ("appealed", ("union_staff",), False, False),  # the last branch of three
        ("appealed", "uphold_appeal"): ("upheld", ("committee",), True, False),
        ("appealed", "dismiss_appeal"): ("dismissed", ("committee",), True, False),
        ("fixing", "close_fixed"): ("fixed", ("scheduler",), False, True),
    }
    assert [(t.dest, t.conditions) for t in wf.candidates("record", "due")] == [
        ("fixing", ("outcome_fix",)), ("explained", ("outcome_explain",)), ("appealed", ("outcome_appeal",))]
    assert wf.final == {"fixed", "explained", "upheld", "dismissed"}
    assert all(wf.triggers_from(s) == [] for s in wf.final)
    assert wf.run("due", "record", {"outcome_fix": False, "outcome_explain": True, "outcome_appeal": False}) == \
        "explained"


def test_the_api_documents_the_call_back_routes_and_refuses_unknown_decisions(demo, session, api):
    spec = api.client.get("/api/v1/openapi.json").get_json()
    assert {"/api/v1/callbacks", "/api/v1/callbacks/{callback_id}", "/api/v1/cases/{kind}/{case_id}/ratings",
            "/api/v1/callbacks/{callback_id}/transitions/{decision}"} <= set(spec["paths"])
    case = motion_to(demo, session, "replied")
    fire(case, "rate", demo["rep1"], attitude="unsatisfied", result="satisfied")
    [cb] = callbacks(case)
    out = vote(api, cb, "record", "staff1", 404, reason="x")
    assert out["error"]["code"] == "unknown_trigger"
    assert api.as_("staff1").get("/api/v1/callbacks/999999", headers=EN).status_code == 404
    assert api.as_("worker1").get(f"/api/v1/callbacks/{cb.id}", headers=EN).status_code == 404
