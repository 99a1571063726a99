"""Handling by departments: receipt (签收) with its deadline, reminder and escalation; return of misrouted work
(退办) with and without a reason, and re-routing that keeps the audit and the time spent; co-handling
departments' opinions (会办意见) that arrive on time, late, or never."""
from __future__ import annotations

import re
from collections import defaultdict
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from casework.core import calendar
from casework.core.models import AuditEntry, CongressSession
from casework.extensions import db as _db
from casework.notifications.models import Notification
from casework.scheduler import run_due
from casework.scheduler.models import ScheduledEffect

from casework.notifications.steps import replaying

from .factories import fire as _fire_told
from .factories import department_handler, new_case


def fire(*args, **kw):
    """Steps tell nobody here: these tests count the sweep's reminders and escalations alone (who is told of
    each step is tests/test_notify_table.py's)."""
    with replaying():
        return _fire_told(*args, **kw)

TZ = ZoneInfo("Asia/Shanghai")
EN = {"Accept-Language": "en"}
COMMITTEE = {f"committee{i}" for i in range(1, 6)}


def at(day: date, hour: int = 9):
    return datetime(day.year, day.month, day.day, hour, tzinfo=TZ)


@pytest.fixture()
def co_handlers(demo):
    """A handler of 人力资源部 (HR) and one of 后勤保障部 (LOG), the co-handling departments."""
    unit = demo["handler1"].unit
    return {"HR": department_handler(unit, "hr1", "HR", "钱明"),
            "LOG": department_handler(unit, "log1", "LOG", "曹丽")}


def submitted_motion(demo, title="关于改善职工食堂的提案"):
    session = _db.session.scalar(select(CongressSession))
    case = new_case("motion", demo["rep1"], session=session.id, title=title)
    fire(case, "open_for_cosigning", demo["rep1"])
    for rep in ("rep2", "rep3"):
        fire(case, "cosign", demo[rep])
    fire(case, "submit", demo["rep1"])
    return case


def subjects(case) -> dict[str, set[str]]:
    out = defaultdict(set)
    for note in _db.session.scalars(select(Notification).where(Notification.case_id == case.id)):
        out[note.subject].add(note.user.username)
    return dict(out)


def walk_days(clock, first: date, last: date, case) -> dict[str, list[date]]:
    """Runs the sweep twice a day from `first` to `last`; the new notices' subjects by the day they came."""
    seen, came = set(), defaultdict(list)
    day = first
    while day <= last:
        clock.move_to(at(day))
        run_due()
        run_due()
        for note in _db.session.scalars(select(Notification).where(Notification.case_id == case.id)):
            if note.id not in seen:
                seen.add(note.id)
                came[note.subject].append(day)
        day += timedelta(days=1)
    return {s: sorted(set(d)) for s, d in came.items()}


def handling(api, case, who="motions1"):
    r = api.as_(who).get(f"/api/v1/cases/{case.kind}/{case.id}/handling")
    assert r.status_code == 200, r.get_json()
    return r.get_json()


# -- 签收 ---------------------------------------------------------------------------------------

def test_an_unsigned_motion_is_reminded_on_its_receipt_date_then_escalated_once(demo, db, clock, api):
    clock.move_to(at(date(2026, 12, 7)))  # a Monday
    case = submitted_motion(demo)
    fire(case, "file", demo["motions1"], department="TECH")
    assert case.state == "handling" and case.deadline is None  # the handling deadline waits for the receipt
    out = handling(api, case)
    assert out["awaiting_receipt"] is True and out["receipt_due"] == "2026-12-09"  # 2 working days
    queue = api.as_("handler1").get("/api/v1/queue").get_json()["items"]
    assert [q["transitions"][0] for q in queue if q["case"]["id"] == case.id] == ["acknowledge"]

    came = walk_days(clock, date(2026, 12, 7), date(2026, 12, 18), case)
    n = case.number
    # On the receipt date the department; 3 working days after it (escalate_after_days) also the motion
    # committee and the union committee. Each once, however often the sweep runs.
    assert came == {f"【签收提醒】职代会提案 {n} 请于2026年12月9日前签收": [date(2026, 12, 9)],
                    f"【督办】职代会提案 {n} 超过签收时限未签收": [date(2026, 12, 14)]}
    assert subjects(case)[f"【督办】职代会提案 {n} 超过签收时限未签收"] == {"handler1", "motions1"} | COMMITTEE
    assert subjects(case)[f"【签收提醒】职代会提案 {n} 请于2026年12月9日前签收"] == {"handler1"}
    kinds = {e.kind for e in db.session.scalars(select(ScheduledEffect).where(ScheduledEffect.case_id == case.id))}
    assert kinds == {"receipt_remind", "receipt_escalate"}

    # Signed for late: the handling deadline (30 working days by default) counts from the receipt.
    clock.move_to(at(date(2026, 12, 18), 10))
    fire(case, "acknowledge", demo["handler1"])
    assert case.deadline == calendar.add_working_days(date(2026, 12, 18), 30)
    out = handling(api, case)
    assert out["awaiting_receipt"] is False and out["routings"][0]["acknowledged_on"] == "2026-12-18"
    assert out["routings"][0]["acknowledged_by"] == "handler1"
    # Signed for: the step is no longer offered, and trying it again says why.
    assert "acknowledge" not in api.as_("handler1").get(f"/api/v1/cases/motion/{case.id}").get_json()["transitions"]
    r = api.as_("handler1").post(f"/api/v1/cases/motion/{case.id}/transitions/acknowledge", json={}, headers=EN)
    assert r.status_code == 403 and r.get_json()["error"]["message"] == "Your department signed for this case already."


def test_a_motion_signed_for_in_time_gets_no_receipt_reminder(demo, db, clock):
    clock.move_to(at(date(2026, 12, 7)))
    case = submitted_motion(demo)
    fire(case, "file", demo["motions1"], department="TECH")
    clock.move_to(at(date(2026, 12, 8), 15))
    fire(case, "acknowledge", demo["handler1"])
    came = walk_days(clock, date(2026, 12, 8), date(2026, 12, 16), case)
    assert not [s for s in came if "签收" in s]


def test_a_planned_deadline_moves_with_a_late_receipt_and_the_reply_waits_for_it(demo, db, clock, api):
    clock.move_to(at(date(2026, 12, 7)))
    case = submitted_motion(demo)
    fire(case, "file", demo["motions1"], department="TECH", deadline="2027-01-15")
    assert case.deadline == date(2027, 1, 15)  # the plan, as the filing notice prints it
    r = api.as_("handler1").post(f"/api/v1/cases/motion/{case.id}/transitions/reply", json={"text": "已办"},
                                 headers=EN)
    assert r.status_code == 422
    assert r.get_json()["error"]["message"] == "Sign for the case first (签收): its handling starts with the receipt."
    clock.move_to(at(date(2026, 12, 9), 10))  # two working days later
    fire(case, "acknowledge", demo["handler1"])
    planned = calendar.working_days_between(date(2026, 12, 7), date(2027, 1, 15))
    assert case.deadline == calendar.add_working_days(date(2026, 12, 9), planned) > date(2027, 1, 15)
    fire(case, "reply", demo["handler1"], text="已增设两个窗口")
    assert case.state == "replied"


def test_an_adopted_proposal_is_signed_for_before_its_implementation_is_reported(demo, db, clock, api):
    from .test_proposals import COMMITTEE as VOTERS, walk as proposal_walk
    case = proposal_walk(demo, "graded")
    for c in VOTERS:
        fire(case, "adopt", demo[c], department="TECH", deadline="2026-12-31")
    assert case.state == "implementing"
    r = api.as_("handler1").post(f"/api/v1/cases/proposal/{case.id}/transitions/report_implemented",
                                 json={"result": "完成", "benefit": "100.00"}, headers=EN)
    assert r.status_code == 422 and "Sign for the case first" in r.get_json()["error"]["message"]
    fire(case, "acknowledge", demo["handler1"])
    fire(case, "report_implemented", demo["handler1"], result="完成", benefit="100.00")
    assert case.state == "implemented"


# -- 退办 ---------------------------------------------------------------------------------------

def test_a_return_needs_a_reason(demo, db, clock, api):
    case = submitted_motion(demo)
    fire(case, "file", demo["motions1"], department="TECH")
    url = f"/api/v1/cases/motion/{case.id}/transitions/return_misrouted"
    for body in ({}, {"reason": "   "}):
        r = api.as_("handler1").post(url, json=body, headers=EN)
        assert r.status_code == 422, body
        assert r.get_json()["error"]["message"] == \
            "A return (退办) needs a reason: say why this is not your department's work."
    r = api.as_("handler1").post(url, json={})
    assert r.status_code == 422 and "退办须说明理由" in r.get_json()["error"]["message"]
    assert api.as_("handler1").get(f"/api/v1/cases/motion/{case.id}").get_json()["state"] == "handling"


def test_returned_and_rerouted_the_audit_keeps_each_routing_and_the_time_spent(demo, db, clock, api, web,
                                                                              co_handlers):
    clock.move_to(at(date(2026, 12, 7)))
    case = submitted_motion(demo, title="关于规范加班调休管理的提案")
    fire(case, "file", demo["motions1"], department="TECH", co_departments=["LOG"])
    clock.move_to(at(date(2026, 12, 8), 10))
    fire(case, "acknowledge", demo["handler1"])
    clock.move_to(at(date(2026, 12, 10), 16))
    r = api.as_("handler1").post(f"/api/v1/cases/motion/{case.id}/transitions/return_misrouted",
                                 json={"reason": "加班调休属于人力资源部职责"})
    assert r.status_code == 200, r.get_json()
    assert r.get_json()["state"] == "submitted" and r.get_json()["department"] is None
    # The motion committee is told, to route it again; the returning department no longer has it.
    told = [n for n in db.session.scalars(select(Notification).where(Notification.case_id == case.id))
            if n.user.username == "motions1"]
    assert len(told) == 1 and told[0].subject.startswith("【待办】") and case.number in told[0].subject
    assert api.as_("handler1").get(f"/api/v1/cases/motion/{case.id}").status_code == 404
    # Not back to the department that returned it.
    r = api.as_("motions1").post(f"/api/v1/cases/motion/{case.id}/transitions/file", json={"department": "TECH"},
                                 headers=EN)
    assert r.status_code == 422
    assert r.get_json()["error"]["message"] == "生产技术部 returned this case as not its own: route it to another department."
    clock.move_to(at(date(2026, 12, 11), 9))
    r = api.as_("motions1").post(f"/api/v1/cases/motion/{case.id}/transitions/file", json={"department": "HR"})
    assert r.status_code == 200 and r.get_json()["state"] == "handling"
    clock.move_to(at(date(2026, 12, 15), 9))
    fire(case, "acknowledge", co_handlers["HR"])

    out = handling(api, case)
    assert [(x["department_code"], x["routed_on"], x["acknowledged_on"], x["returned_on"], x["working_days"])
            for x in out["routings"]] == [("TECH", "2026-12-07", "2026-12-08", "2026-12-10", 3),
                                          ("HR", "2026-12-11", "2026-12-15", None, 2)]
    assert out["routings"][0]["return_reason"] == "加班调休属于人力资源部职责" and out["working_days"] == 5
    audit = api.as_("motions1").get(f"/api/v1/cases/motion/{case.id}/audit").get_json()
    assert audit["intact"] is True
    steps = [(e["trigger"], e["from"], e["to"]) for e in audit["items"]][-4:]
    assert steps == [("acknowledge", "handling", "handling"), ("return_misrouted", "handling", "submitted"),
                     ("file", "submitted", "handling"), ("acknowledge", "handling", "handling")]
    entries = db.session.scalars(select(AuditEntry).where(AuditEntry.case_id == case.id)
                                 .order_by(AuditEntry.seq)).all()
    back = next(e for e in entries if e.trigger == "return_misrouted")
    assert back.changes["returned_by"] == [None, "TECH"] and back.changes["working_days"] == [None, 3]
    assert back.changes["inputs"] == {"reason": "加班调休属于人力资源部职责"}
    files = [e.changes["inputs"]["department"] for e in entries if e.trigger == "file"]
    assert files == ["TECH", "HR"]
    # The case page shows the routings and the working days each department spent.
    web.login("motions1")
    page = web.get(f"/cases/motion/{case.id}").get_data(as_text=True)
    assert "加班调休属于人力资源部职责" in page and "人力资源部" in page and "退办" in page
    # On a phone the header row is hidden: each cell of the 签收 table carries its column's name.
    table = page[page.index('<table class="table cards routings">'):]
    table = table[:table.index("</table>")]
    heads = re.findall(r"<th>([^<]+)</th>", table)
    rows = re.findall(r"<tr>(.*?)</tr>", table[table.index("<tbody>"):], re.S)
    assert len(heads) == 6 and len(rows) == 2
    for row in rows:
        assert re.findall(r'<td data-label="([^"]+)"', row) == heads


def test_a_return_comes_within_seven_working_days_of_the_receipt(demo, db, clock, api):
    clock.move_to(at(date(2026, 12, 7)))
    case = submitted_motion(demo)
    fire(case, "file", demo["motions1"], department="TECH")
    fire(case, "acknowledge", demo["handler1"])
    clock.move_to(at(calendar.add_working_days(date(2026, 12, 7), 8)))
    r = api.as_("handler1").post(f"/api/v1/cases/motion/{case.id}/transitions/return_misrouted",
                                 json={"reason": "不属于本部门"}, headers=EN)
    assert r.status_code == 422
    assert r.get_json()["error"]["message"] == \
        "A case can be returned only within 7 working days of signing for it (signed on 2026-12-07)."
    clock.move_to(at(calendar.add_working_days(date(2026, 12, 7), 7)))
    fire(case, "return_misrouted", demo["handler1"], reason="不属于本部门")
    assert case.state == "submitted"


def test_a_returned_proposal_is_adopted_again_for_another_department(demo, db, clock, api, co_handlers):
    from .test_proposals import COMMITTEE as VOTERS, walk as proposal_walk
    case = proposal_walk(demo, "graded")
    for c in VOTERS:
        fire(case, "adopt", demo[c], department="TECH", deadline="2026-12-31")
    fire(case, "return_misrouted", demo["handler1"], reason="属于后勤保障部职责")
    assert case.state == "graded" and case.department is None
    r = api.as_(sorted(VOTERS)[0]).post(f"/api/v1/cases/proposal/{case.id}/transitions/adopt",
                                        json={"department": "TECH", "deadline": "2026-12-31"}, headers=EN)
    assert r.status_code == 422 and "returned this case as not its own" in r.get_json()["error"]["message"]
    for c in VOTERS:
        fire(case, "adopt", demo[c], department="LOG", deadline="2026-12-31")
    assert case.state == "implementing" and case.department.code == "LOG"
    fire(case, "acknowledge", co_handlers["LOG"])
    assert [x["department_code"] for x in handling(api, case, "staff1")["routings"]] == ["TECH", "LOG"]


# -- 会办意见 -----------------------------------------------------------------------------------

def co_handled(demo, clock, co_handlers):
    """A motion led by TECH with HR and LOG co-handling, signed for on Monday 7 December: the opinions are
    due 10 working days later, on 21 December."""
    clock.move_to(at(date(2026, 12, 7)))
    case = submitted_motion(demo)
    fire(case, "file", demo["motions1"], department="TECH", co_departments=["HR", "LOG"])
    fire(case, "acknowledge", demo["handler1"])
    return case


def reply(api, case, status, text="已增设两个就餐窗口"):
    r = api.as_("handler1").post(f"/api/v1/cases/motion/{case.id}/transitions/reply", json={"text": text},
                                 headers=EN)
    assert r.status_code == status, r.get_json()
    return r.get_json()


def test_co_handlers_opinions_on_time_let_the_reply_go_and_are_part_of_it(demo, db, clock, api, co_handlers):
    case = co_handled(demo, clock, co_handlers)
    out = handling(api, case)
    assert [(o["department_code"], o["due"], o["text"]) for o in out["opinions"]] == \
        [("HR", "2026-12-21", None), ("LOG", "2026-12-21", None)]
    # Each co-handler has the step in its queue until its opinion is in; the lead cannot give it.
    for code, who in co_handlers.items():
        queue = api.as_(who.username).get("/api/v1/queue").get_json()["items"]
        assert [q["transitions"] for q in queue if q["case"]["id"] == case.id] == [["contribute"]], code
    r = api.as_("handler1").post(f"/api/v1/cases/motion/{case.id}/transitions/contribute", json={"text": "x"})
    assert r.status_code == 403
    clock.move_to(at(date(2026, 12, 9), 11))
    fire(case, "contribute", co_handlers["HR"], text="同意调整班次")
    assert not [q for q in api.as_("hr1").get("/api/v1/queue").get_json()["items"] if q["case"]["id"] == case.id]
    r = api.as_("hr1").post(f"/api/v1/cases/motion/{case.id}/transitions/contribute", json={"text": "再补充"},
                            headers=EN)
    assert r.status_code == 403
    out = reply(api, case, 422)
    assert out["error"]["message"] == ("The reply waits for the opinions of the co-handling departments: 后勤保障部. "
                                       "It can be sent once they are in, or after their deadline (2026-12-21).")
    fire(case, "contribute", co_handlers["LOG"], text="食堂可延长供餐半小时")
    out = reply(api, case, 200)
    assert out["state"] == "replied"
    assert out["reply"] == "已增设两个就餐窗口\n\n会办意见：\n人力资源部：同意调整班次\n后勤保障部：食堂可延长供餐半小时"
    assert [o["on_time"] for o in handling(api, case)["opinions"]] == [True, True]


def test_an_opinion_that_arrives_late_is_marked_so_and_still_part_of_the_reply(demo, db, clock, api, co_handlers):
    case = co_handled(demo, clock, co_handlers)
    fire(case, "contribute", co_handlers["HR"], text="同意调整班次")
    clock.move_to(at(date(2026, 12, 23), 10))  # past the 21st
    fire(case, "contribute", co_handlers["LOG"], text="食堂可延长供餐半小时")
    opinions = handling(api, case)["opinions"]
    assert [(o["department_code"], o["on_time"], o["submitted_on"]) for o in opinions] == \
        [("HR", True, "2026-12-07"), ("LOG", False, "2026-12-23")]
    audit = db.session.scalars(select(AuditEntry).where(AuditEntry.case_id == case.id,
                                                        AuditEntry.trigger == "contribute")
                               .order_by(AuditEntry.seq)).all()
    assert [(e.changes["opinion_of"][1], e.changes["on_time"][1]) for e in audit] == [("HR", True), ("LOG", False)]
    assert "后勤保障部：食堂可延长供餐半小时" in reply(api, case, 200)["reply"]


def test_an_opinion_that_never_comes_is_reminded_escalated_and_named_in_the_reply(demo, db, clock, api,
                                                                                 co_handlers):
    case = co_handled(demo, clock, co_handlers)
    fire(case, "contribute", co_handlers["HR"], text="同意调整班次")
    came = walk_days(clock, date(2026, 12, 8), date(2026, 12, 28), case)
    n = case.number
    # LOG is reminded like any handler: 2 working days before, on the day, and escalated 3 after; HR, whose
    # opinion is in, is not.
    assert {s: d for s, d in came.items() if "会办" in s} == {
        f"【会办提醒】职代会提案 {n} 会办意见将于2026年12月21日到期": [date(2026, 12, 17)],
        f"【今日到期】职代会提案 {n} 会办意见今天到期": [date(2026, 12, 21)],
        f"【督办】职代会提案 {n} 会办意见超过时限": [date(2026, 12, 24)],
    }
    got = subjects(case)
    assert got[f"【会办提醒】职代会提案 {n} 会办意见将于2026年12月21日到期"] == {"log1"}
    assert got[f"【督办】职代会提案 {n} 会办意见超过时限"] == {"log1"} | COMMITTEE
    # Before the due date the reply waits; after it, it goes, saying whose opinion is missing.
    clock.move_to(at(date(2026, 12, 21), 16))
    reply(api, case, 422)
    clock.move_to(at(date(2026, 12, 22), 9))
    out = reply(api, case, 200)
    assert out["reply"].endswith("人力资源部：同意调整班次\n后勤保障部：未在2026-12-21前提交会办意见。")
    opinions = handling(api, case)["opinions"]
    assert [(o["department_code"], o["missing_at_reply"]) for o in opinions] == [("HR", False), ("LOG", True)]
    entry = db.session.scalar(select(AuditEntry).where(AuditEntry.case_id == case.id, AuditEntry.trigger == "reply"))
    assert entry.changes["missing_opinions"] == [None, ["LOG"]]
    # Too late now: the motion was replied to.
    r = api.as_("log1").post(f"/api/v1/cases/motion/{case.id}/transitions/contribute", json={"text": "迟到"})
    assert r.status_code == 409
