"""Who is told of each step: a row per transition (and branch) of the aid, proposal and motion workflows,
with exactly the people told, each exactly once. The way to each step is walked inside `replaying()`, so
only the step under test tells anyone."""
from __future__ import annotations

from collections import Counter
from datetime import timedelta
from types import SimpleNamespace

import pytest
from sqlalchemy import select

import workflows
from casework.accounts.models import User
from casework.clock import today
from casework.core import engine
from casework.core.models import AuditEntry, CongressSession
from casework.disclosure.models import Disclosure, DisclosureItem
from casework.disclosure import operations as disclosure
from casework.extensions import db as _db
from casework.notifications.models import Notification
from casework.notifications.steps import recipients, replaying
from casework.ratings.models import Callback
from tests.factories import (aid_to, attach, department_handler, end_posting_now, fire, new_case,
                             sign_for)
from tests.test_motions import walk as motion_walk
from tests.test_proposals import walk as proposal_walk

COMMITTEE = {f"committee{i}" for i in range(1, 6)}
VOTERS = {"committee1", "committee2"}  # committee3's is the vote that carries: they know


def _votes(case, trigger, **data):
    """Two votes while replaying; the third, which carries, is the step under test."""
    with replaying():
        for i in (1, 2):
            fire(case, trigger, _u(f"committee{i}"), **data)
    return lambda: fire(case, trigger, _u("committee3"), **data)


def _u(name) -> User:
    return _db.session.scalar(select(User).where(User.username == name))


def _session():
    return _db.session.scalar(select(CongressSession))


def _hr_handler():
    department_handler(_u("handler1").unit, "handler2", "HR", "钱明")


def _aid(state, **data):
    return aid_to(_Users(), state, **data)


class _Users:
    def __getitem__(self, name):
        return _u(name)


# -- aid ---------------------------------------------------------------------------------------

def aid_submit():
    case = new_case("aid", _u("worker1"))
    attach(case, "income_proof", _u("worker1"))
    return lambda: fire(case, "submit", _u("worker1"))


def aid_submit_by_leader():
    case = new_case("aid", _u("leader1"), applicant="worker1")
    attach(case, "income_proof", _u("leader1"))
    return lambda: fire(case, "submit", _u("leader1"))


def aid_return():
    case = _aid("submitted")
    return lambda: fire(case, "return_for_info", _u("staff1"), reason="请补充收入证明原件")


def aid_resubmit():
    case = _aid("submitted")
    fire(case, "return_for_info", _u("staff1"), reason="请补充收入证明原件")
    return lambda: fire(case, "resubmit", _u("worker1"))


def aid_start_verification():
    case = _aid("submitted")
    return lambda: fire(case, "start_verification", _u("staff1"), visitors=["leader1"])


def aid_record_visit():
    case = _aid("verifying")
    return lambda: fire(case, "record_visit", _u("leader1"), visited_on=today().isoformat(),
                        visitors=["leader1", "staff1"], findings="住房简陋，情况属实")


def aid_verify():
    case = _aid("verifying+visit")
    return lambda: fire(case, "verify", _u("staff1"), proposed_amount="2000.00")


def aid_approve():
    return _votes(_aid("pending_approval"), "approve", amount="2000.00")


def aid_reject():
    return _votes(_aid("pending_approval"), "reject", reason="收入超过困难标准")


def aid_place_hold():
    case = _aid("submitted")
    return lambda: fire(case, "place_hold", _u("staff1"), comment="劳动仲裁调取材料，暂缓处理")


def aid_lift_hold():
    case = _aid("submitted")
    fire(case, "place_hold", _u("staff1"), comment="劳动仲裁调取材料，暂缓处理")
    return lambda: fire(case, "lift_hold", _u("staff1"), comment="仲裁已结束")


def aid_anonymise(clock):
    case = _aid("submitted")
    fire(case, "withdraw", _u("worker1"), comment="不再申请")
    clock.shift(timedelta(days=366 * 6))
    return lambda: fire(case, "anonymise", None)


def _referable():
    from tests.test_aid_levels import _pending, make_branch
    branch = make_branch()
    return _pending({"staff1": _u("staff1")}, branch, "15000.00"), branch


def aid_refer():
    case, branch = _referable()
    fire(case, "approve", branch["b9c1"], amount="15000.00")
    fire(case, "approve", branch["b9c2"], amount="15000.00")
    return lambda: fire(case, "approve", branch["b9c3"], amount="15000.00")


def _referred():
    case, branch = _referable()
    for name in ("b9c1", "b9c2", "b9c3"):
        fire(case, "approve", branch[name], amount="15000.00")
    return case


def aid_parent_approve():
    return _votes(_referred(), "parent_approve", amount="12000.00")


def aid_parent_reject():
    return _votes(_referred(), "parent_reject", reason="本年度上级救助基金已按计划使用")


def aid_object():
    case = _aid("posted")
    return lambda: fire(case, "object", None)


def _objected():
    case = _aid("posted")
    fire(case, "object", None)
    return case


def aid_dismiss_posting():
    return _votes(_objected(), "dismiss_objection", answer="经核实情况属实")


def aid_dismiss_approved(clock):
    case = _objected()
    clock.shift(timedelta(days=30))  # the posting period ended while the objection was reviewed
    return _votes(case, "dismiss_objection", answer="经核实情况属实")


def aid_uphold_reconsider():
    return _votes(_objected(), "uphold_objection", answer="收入情况需重新核定", reconsider=True)


def aid_uphold_reject():
    return _votes(_objected(), "uphold_objection", answer="经核实收入情况不符")


def aid_end_posting():
    case = _aid("posted")
    batch = _db.session.scalar(select(Disclosure).join(DisclosureItem).where(DisclosureItem.case_id == case.id))
    batch.ends_on = case.deadline = today() - timedelta(days=1)
    _db.session.commit()
    return lambda: fire(case, "end_posting", None)


def _approved():
    case = _aid("posted")
    end_posting_now(_Users(), case)
    return case


def aid_disburse():
    case = _approved()
    return lambda: fire(case, "disburse", _u("fund1"), method="bank_transfer", reference="BT-001")


def _disbursed():
    case = _approved()
    fire(case, "disburse", _u("fund1"), method="bank_transfer", reference="BT-001")
    return case


def aid_confirm_receipt():
    case = _disbursed()
    return lambda: fire(case, "confirm_receipt", _u("worker1"))


def aid_confirm_receipt_by_staff():
    case = _disbursed()
    return lambda: fire(case, "confirm_receipt", _u("staff1"))


def aid_auto_close(clock):
    case = _disbursed()
    clock.shift(timedelta(days=30))
    return lambda: fire(case, "auto_close", None)


def aid_withdraw():
    case = _aid("submitted")
    return lambda: fire(case, "withdraw", _u("worker1"))


def aid_withdraw_consent():
    case = _aid("submitted")
    return lambda: fire(case, "withdraw_consent", _u("worker1"))


# -- proposal ----------------------------------------------------------------------------------

def _proposal(state):
    return proposal_walk(_Users(), state)


def proposal_submit():
    case = new_case("proposal", _u("worker1"))
    return lambda: fire(case, "submit", _u("worker1"))


def proposal_accept():
    case = _proposal("submitted")
    return lambda: fire(case, "accept", _u("staff1"), evaluators=["evaluator1", "evaluator2"])


def proposal_decline():
    case = _proposal("submitted")
    return lambda: fire(case, "decline", _u("staff1"), reply="已有同类改进在实施")


def _score(case, who, value):
    outcome = engine.fire(case, "score", _u(who), {"score": value, "comment": "可行"})
    _db.session.commit()
    return outcome


def proposal_first_score():
    case = _proposal("evaluating")
    return lambda: _score(case, "evaluator1", 90)


def proposal_last_score():
    case = _proposal("evaluating")
    _score(case, "evaluator1", 90)
    return lambda: _score(case, "evaluator2", 80)


def proposal_grade():
    case = _proposal("scored")
    return lambda: fire(case, "grade", _u("staff1"))


def proposal_adopt():
    return _votes(_proposal("graded"), "adopt", department="TECH", deadline="2026-12-31")


def proposal_not_adopt():
    return _votes(_proposal("graded"), "not_adopt", reply="暂不具备实施条件")


def proposal_report_implemented():
    case = _proposal("implementing")
    sign_for(case, _u("handler1"))
    return lambda: fire(case, "report_implemented", _u("handler1"), result="已改造完成", benefit="12000.00")


def proposal_reward():
    return _votes(_proposal("implemented"), "reward", bonus="100.00")


def proposal_close():
    case = _proposal("rewarded")
    batch = disclosure.make_batch(case.unit, "proposal") or disclosure.make_batch(_u("staff1").unit, "proposal")
    _db.session.commit()
    for i in (1, 2, 3):
        disclosure.sign_off(batch, _u(f"committee{i}"), "同意公示")
        _db.session.commit()
    return lambda: fire(case, "close", None) if case.state == "rewarded" else None


# -- motion ------------------------------------------------------------------------------------

def _motion(state, author="rep1", **data):
    return motion_walk(_Users(), _session(), state, author=author, **data)


def motion_open():
    case = new_case("motion", _u("rep1"), session=_session().id)
    return lambda: fire(case, "open_for_cosigning", _u("rep1"))


def motion_cosign():
    case = _motion("cosigning")
    return lambda: fire(case, "cosign", _u("rep2"))


def motion_withdraw_cosign():
    case = _motion("cosigning")
    fire(case, "cosign", _u("rep2"))
    return lambda: fire(case, "withdraw_cosign", _u("rep2"))


def motion_submit():
    case = _motion("cosigned")
    return lambda: fire(case, "submit", _u("rep1"))


def motion_lapse():
    case = _motion("cosigning")
    fire(case, "cosign", _u("rep2"))
    session = _session()
    session.cosigning_until = session.cosigning_until.__class__.min.replace(year=2000)
    _db.session.commit()
    return lambda: fire(case, "lapse", None)


def motion_file():
    _hr_handler()
    case = _motion("submitted")
    return lambda: fire(case, "file", _u("motions1"), department="TECH", co_departments=["HR"],
                        deadline="2027-01-15")


def motion_merge():
    target = _motion("handling")
    case = _motion("submitted", author="rep2", title="关于食堂增加窗口的提案")
    return lambda: fire(case, "merge", _u("motions1"), into=target.id)


def motion_convert():
    case = _motion("submitted")
    return lambda: fire(case, "convert_to_opinion", _u("motions1"), department="TECH")


def motion_not_file():
    case = _motion("submitted")
    return lambda: fire(case, "not_file", _u("motions1"), reason="不属于职代会提案范围")


def motion_reply():
    _hr_handler()
    case = _motion("handling")
    sign_for(case, _u("handler1"), opinions="同意，配合调整班次")
    return lambda: fire(case, "reply", _u("handler1"), text="已增设两个窗口，错峰就餐")


def motion_acknowledge():
    case = _motion("handling")
    return lambda: fire(case, "acknowledge", _u("handler1"))


def motion_return_misrouted():
    case = _motion("handling")
    return lambda: fire(case, "return_misrouted", _u("handler1"), reason="职工食堂属于后勤保障部职责")


def motion_contribute():
    _hr_handler()
    case = _motion("handling")
    sign_for(case, _u("handler1"))
    return lambda: fire(case, "contribute", _u("handler2"), text="同意，配合调整班次")


def proposal_acknowledge():
    case = _proposal("implementing")
    return lambda: fire(case, "acknowledge", _u("handler1"))


def proposal_return_misrouted():
    case = _proposal("implementing")
    return lambda: fire(case, "return_misrouted", _u("handler1"), reason="该改造属于设备动力部职责")


def motion_progress():
    _hr_handler()
    case = _motion("handling")
    return lambda: fire(case, "progress", _u("handler1"), text="已与食堂承包方商谈")


def proposal_progress():
    case = _proposal("implementing")
    return lambda: fire(case, "progress", _u("handler1"), text="已采购传感器，下周安装")


def motion_rate():
    _hr_handler()
    case = _motion("replied")
    return lambda: fire(case, "rate", _u("rep1"), satisfaction="satisfied")


def motion_rate_unsatisfied():
    _hr_handler()
    case = _motion("replied")
    return lambda: fire(case, "rate_unsatisfied", _u("rep1"))


def proposal_rate():
    case = _proposal("implemented")
    return lambda: fire(case, "rate", _u("worker1"), attitude="satisfied", result="basically_satisfied")


def _fix_after_unsatisfied(case, rater, **parts):
    """The rater's 不满意 opens a call-back (while replaying); the step under test is the re-handling that
    the call-back's fix outcome fires."""
    fire(case, "rate", _u(rater), **(parts or {"attitude": "basically_satisfied", "result": "unsatisfied"}))
    cb = _db.session.scalar(select(Callback).where(Callback.case_id == case.id, Callback.state == "due"))

    def go():
        fire(cb, "record", _u("staff1"), how="phone", notes="电话回访，同意再办理", outcome="fix",
             deadline="2026-12-31")
        last = _db.session.scalar(select(AuditEntry).where(AuditEntry.case_id == case.id)
                                  .order_by(AuditEntry.id.desc()).limit(1))
        return SimpleNamespace(moved=last.trigger == "rehandle", case=case)
    return go


def proposal_rehandle_declined():
    case = _proposal("submitted")
    fire(case, "decline", _u("staff1"), reply="已有同类改进在实施")
    return _fix_after_unsatisfied(case, "worker1")


def proposal_rehandle_implemented():
    return _fix_after_unsatisfied(_proposal("implemented"), "worker1")


def motion_rehandle():
    _hr_handler()
    return _fix_after_unsatisfied(_motion("replied"), "rep1", attitude="unsatisfied", result="unsatisfied")


def motion_auto_close(clock):
    _hr_handler()
    case = _motion("replied")
    clock.shift(timedelta(days=40))
    return lambda: fire(case, "auto_close", None)


OWNER = {"worker1"}
ROWS = [  # kind, trigger, destination, the way there, who is told
    ("aid", "submit", "submitted", aid_submit, OWNER | {"staff1"}),
    ("aid", "submit", "submitted", aid_submit_by_leader, OWNER | {"leader1", "staff1"}),
    ("aid", "return_for_info", "returned", aid_return, OWNER),
    ("aid", "resubmit", "submitted", aid_resubmit, OWNER | {"staff1"}),
    ("aid", "start_verification", "verifying", aid_start_verification, OWNER | {"leader1"}),
    ("aid", "record_visit", "verifying", aid_record_visit, {"staff1"}),
    ("aid", "verify", "pending_approval", aid_verify, OWNER | COMMITTEE),
    ("aid", "approve", "posting", aid_approve, OWNER | VOTERS),
    ("aid", "reject", "rejected", aid_reject, OWNER | VOTERS),
    ("aid", "place_hold", "submitted", aid_place_hold, set()),
    ("aid", "lift_hold", "submitted", aid_lift_hold, set()),
    ("aid", "anonymise", "withdrawn", aid_anonymise, set()),
    # above the branch's threshold: the company union's committee must act next
    ("aid", "approve", "parent_approval", aid_refer, {"b9worker", "b9c1", "b9c2"} | COMMITTEE),
    ("aid", "parent_approve", "posting", aid_parent_approve, {"b9worker"} | VOTERS),
    ("aid", "parent_reject", "rejected", aid_parent_reject, {"b9worker"} | VOTERS),
    ("aid", "object", "objection_review", aid_object, OWNER | COMMITTEE),
    ("aid", "dismiss_objection", "posting", aid_dismiss_posting, OWNER | VOTERS),
    ("aid", "dismiss_objection", "approved", aid_dismiss_approved, OWNER | VOTERS | {"fund1"}),
    # back to the committee: a new round, so the members who did not vote are told too
    ("aid", "uphold_objection", "pending_approval", aid_uphold_reconsider, OWNER | COMMITTEE - {"committee3"}),
    ("aid", "uphold_objection", "rejected", aid_uphold_reject, OWNER | VOTERS),
    ("aid", "end_posting", "approved", aid_end_posting, OWNER | {"fund1"}),
    ("aid", "disburse", "disbursed", aid_disburse, OWNER),
    ("aid", "confirm_receipt", "closed", aid_confirm_receipt, OWNER),
    ("aid", "confirm_receipt", "closed", aid_confirm_receipt_by_staff, OWNER),
    ("aid", "auto_close", "closed", aid_auto_close, OWNER),
    ("aid", "withdraw", "withdrawn", aid_withdraw, OWNER),
    ("aid", "withdraw_consent", "withdrawn", aid_withdraw_consent, OWNER),
    ("proposal", "submit", "submitted", proposal_submit, OWNER | {"staff1"}),
    ("proposal", "accept", "evaluating", proposal_accept, OWNER | {"evaluator1", "evaluator2"}),
    ("proposal", "decline", "declined", proposal_decline, OWNER),
    ("proposal", "score", "evaluating", proposal_first_score, set()),
    ("proposal", "score", "evaluating", proposal_last_score, {"staff1"}),
    ("proposal", "grade", "graded", proposal_grade, OWNER | COMMITTEE),
    ("proposal", "adopt", "implementing", proposal_adopt, OWNER | VOTERS | {"handler1"}),
    ("proposal", "not_adopt", "not_adopted", proposal_not_adopt, OWNER | VOTERS),
    ("proposal", "report_implemented", "implemented", proposal_report_implemented, OWNER | COMMITTEE),
    ("proposal", "progress", "implementing", proposal_progress, OWNER),
    ("proposal", "acknowledge", "implementing", proposal_acknowledge, OWNER),
    ("proposal", "return_misrouted", "graded", proposal_return_misrouted, OWNER | COMMITTEE),
    ("proposal", "reward", "rewarded", proposal_reward, OWNER | VOTERS),
    ("proposal", "close", "closed", proposal_close, OWNER),
    ("proposal", "rate", "implemented", proposal_rate, {"handler1"}),
    # a call-back's fix: a declined proposal goes back to union staff, an implemented one to its department
    ("proposal", "rehandle", "submitted", proposal_rehandle_declined, OWNER | {"staff1"}),
    ("proposal", "rehandle", "implementing", proposal_rehandle_implemented, OWNER | {"handler1"}),
    ("motion", "open_for_cosigning", "cosigning", motion_open, {"rep1"}),
    ("motion", "cosign", "cosigning", motion_cosign, {"rep1"}),
    ("motion", "withdraw_cosign", "cosigning", motion_withdraw_cosign, {"rep1"}),
    ("motion", "submit", "submitted", motion_submit, {"rep1", "motions1"}),
    ("motion", "lapse", "lapsed", motion_lapse, {"rep1", "rep2"}),
    ("motion", "file", "handling", motion_file, {"rep1", "rep2", "rep3", "handler1", "handler2"}),
    ("motion", "merge", "merged", motion_merge, {"rep2", "rep1"}),
    ("motion", "convert_to_opinion", "opinion", motion_convert, {"rep1", "handler1"}),
    ("motion", "not_file", "not_filed", motion_not_file, {"rep1", "rep2", "rep3"}),
    ("motion", "reply", "replied", motion_reply, {"rep1", "rep2", "rep3"}),
    ("motion", "progress", "handling", motion_progress, {"rep1", "rep2", "rep3"}),
    ("motion", "acknowledge", "handling", motion_acknowledge, {"rep1"}),
    ("motion", "return_misrouted", "submitted", motion_return_misrouted, {"rep1", "motions1"}),
    ("motion", "contribute", "handling", motion_contribute, {"handler1"}),
    ("motion", "rate", "closed", motion_rate, {"handler1", "handler2"}),
    ("motion", "rate_unsatisfied", "handling", motion_rate_unsatisfied, {"handler1", "handler2"}),
    ("motion", "rehandle", "handling", motion_rehandle, {"rep1", "handler1", "handler2"}),
    ("motion", "auto_close", "closed", motion_auto_close, {"rep1"}),
]


def test_every_transition_of_the_three_workflows_has_a_row_and_a_declaration():
    rows = {(kind, trigger, dest) for kind, trigger, dest, _way, _who in ROWS}
    triggers = {(kind, trigger) for kind, trigger, _dest, _way, _who in ROWS}
    for kind in ("aid", "proposal", "motion"):
        wf = workflows.get(kind)
        for t in wf.transitions:
            if t.source == (t.dest,) and (kind, t.trigger) in triggers:
                continue  # a step that stays in any state: one row stands for all of them
            assert (kind, t.trigger, t.dest) in rows, f"{kind}.{t.trigger} -> {t.dest} has no row"
            assert t.trigger in wf.notify, f"{kind}.{t.trigger} declares nobody to tell"


@pytest.mark.parametrize("kind,trigger,dest,way,told", ROWS,
                         ids=[f"{k}.{t}.{w.__name__}" for k, t, _d, w, _who in ROWS])
def test_who_is_told_exactly_once(demo, db, clock, kind, trigger, dest, way, told):
    with replaying():
        go = way(clock) if "clock" in way.__code__.co_varnames[:way.__code__.co_argcount] else way()
    before = db.session.scalar(select(Notification.id).order_by(Notification.id.desc()).limit(1)) or 0
    outcome = go()
    assert outcome is not None and outcome.moved
    assert outcome.case.kind == kind and outcome.case.state == dest
    notes = db.session.scalars(select(Notification).where(Notification.id > before)).all()
    got = Counter(n.user.username for n in notes)
    assert set(got) == told
    assert all(n == 1 for n in got.values()), got
    for note in notes:  # never empty, always linked to the case, in Chinese
        assert note.case_id == outcome.case.id and note.subject and note.body.strip()
        assert outcome.case.number in note.subject


def test_nothing_is_told_while_replaying(demo, db):
    with replaying():
        _aid("pending_approval")
    assert db.session.scalar(select(Notification.id).limit(1)) is None


def test_a_person_in_two_audiences_is_told_once(demo, db):
    """committee1 voted and sits on the committee the case goes back to: one message, the to-do one."""
    with replaying():
        go = aid_uphold_reconsider()
    step_notes_before = db.session.scalar(select(Notification.id).order_by(Notification.id.desc()).limit(1)) or 0
    go()
    mine = db.session.scalars(select(Notification).where(Notification.id > step_notes_before,
                                                         Notification.user.has(username="committee1"))).all()
    assert len(mine) == 1 and mine[0].subject.startswith("【待办】")


def test_recipients_is_what_the_table_says(demo, db):
    """`recipients` is the resolution alone: the applicant and union staff for a submission."""
    case = new_case("aid", _u("worker1"))
    attach(case, "income_proof", _u("worker1"))
    seen = {}
    engine.AFTER_STEP.insert(0, lambda step, _entry: seen.update(recipients(step)))
    try:
        with replaying():
            fire(case, "submit", _u("worker1"))
    finally:
        engine.AFTER_STEP.pop(0)
    assert {u.username for u, _owner in seen.values()} == {"worker1", "staff1"}
    assert {u.username for u, owner in seen.values() if owner} == {"worker1"}


def test_the_readme_table_is_the_declarations():
    from pathlib import Path

    from casework.notifications.steps import who_is_told_table
    text = (Path(__file__).resolve().parent.parent / "README.md").read_text(encoding="utf-8")
    block = text.split("<!-- who-is-told:", 1)[1].split("\n", 1)[1].split("<!-- /who-is-told -->", 1)[0]
    assert block.strip() == who_is_told_table()


def test_every_declared_audience_and_condition_is_resolvable(app):
    from workflows.base import UNIT_ROLES

    from casework.core import engine
    from casework.notifications.steps import AUDIENCES
    for kind in ("aid", "proposal", "motion"):
        for trigger, tells in workflows.get(kind).notify.items():
            for tell in tells:
                assert tell.who in UNIT_ROLES or tell.who in AUDIENCES, (kind, trigger, tell.who)
                assert not tell.when or tell.when in engine.GUARDS, (kind, trigger, tell.when)


# -- the upward report (年度上报): a subject of the engine; its messages name the union and the year -------

def _upward(state: str):
    from casework.accounts.models import Unit
    from casework.upward import operations as upward
    b2 = _db.session.scalar(select(Unit).where(Unit.code == "B2"))
    report = upward.draft(_u("committee3"), {"unit": b2.id, "year": 2026, "summary": "年度工作"})
    if state in ("submitted", "returned"):
        engine.fire(report, "submit", _u("committee3"))
    if state == "returned":
        engine.fire(report, "return_report", _u("staff1"), {"reason": "请补充走访台账"})
    return report


def upward_submit():
    report = _upward("draft")
    return lambda: engine.fire(report, "submit", _u("committee3"))


def upward_resubmit():
    report = _upward("returned")
    return lambda: engine.fire(report, "submit", _u("committee3"))


def upward_accept():
    report = _upward("submitted")
    return lambda: engine.fire(report, "accept_report", _u("staff1"))


def upward_return():
    report = _upward("submitted")
    return lambda: engine.fire(report, "return_report", _u("staff1"), {"reason": "请补充走访台账"})


UPWARD_ROWS = [  # trigger, destination, the way there, who is told
    ("submit", "submitted", upward_submit, {"staff1"}),
    ("submit", "submitted", upward_resubmit, {"staff1"}),
    ("accept_report", "accepted", upward_accept, {"committee3"}),
    ("return_report", "returned", upward_return, {"committee3"}),
]


def test_every_transition_of_the_upward_report_has_a_row_and_a_declaration():
    wf = workflows.get("upward_report")
    rows = {(trigger, dest) for trigger, dest, _way, _who in UPWARD_ROWS}
    for t in wf.transitions:
        assert (t.trigger, t.dest) in rows, f"upward_report.{t.trigger} -> {t.dest} has no row"
        assert t.trigger in wf.notify, f"upward_report.{t.trigger} declares nobody to tell"


@pytest.mark.parametrize("trigger,dest,way,told", UPWARD_ROWS, ids=[w.__name__ for _t, _d, w, _who in UPWARD_ROWS])
def test_who_is_told_of_an_upward_report_exactly_once(demo, db, trigger, dest, way, told):
    with replaying():
        go = way()
    before = db.session.scalar(select(Notification.id).order_by(Notification.id.desc()).limit(1)) or 0
    outcome = go()
    assert outcome.moved and outcome.case.state == dest
    notes = db.session.scalars(select(Notification).where(Notification.id > before)).all()
    got = Counter(n.user.username for n in notes)
    assert set(got) == told and all(n == 1 for n in got.values()), got
    for note in notes:  # in Chinese, naming the union and the year; about no case
        assert note.case_id is None and "生产车间分会" in note.subject and "2026" in note.subject
        assert note.body.strip()
    if dest == "returned":
        assert "请补充走访台账" in notes[0].body
