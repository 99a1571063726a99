"""Supervision (督办): the colour rules over working days, progress notes through the engine, slips issued by
staff and by the sweep (once per condition), answered on the slip, the supervision board and the bulletin."""
from __future__ import annotations

import io
from datetime import date

import pdfplumber
import pytest
from sqlalchemy import func, select

from casework.accounts.models import Department, DepartmentMember, User
from casework.core import calendar
from casework.core.errors import CaseworkError
from casework.core.models import CongressSession, entries_of, verify_chain
from casework.extensions import db as _db
from casework.notices.models import Notice
from casework.notifications.models import Notification
from casework.ratings.models import Callback
from casework.scheduler import run_due
from casework.supervision import operations as ops
from casework.supervision.models import Slip
from workflows import supervision as rules

from .conftest import Browser
from .factories import fire, new_case

D = date.fromisoformat
EN = {"Accept-Language": "en"}


# -- the colour, as a table over working days ---------------------------------------------------------------
# New Year 2026: 1-3 January off, Sunday 4 January a make-up workday (调休). National Day 2026: 1-7 October
# off, Saturday 10 October a make-up workday. Defaults: blue within 2 working days, yellow after 10 (here 3).

COLOUR_TABLE = [
    # deadline, last progress, rating, today, colour
    ("2026-01-05", "2025-12-31", None, "2025-12-31", "blue"),    # 4 Jan (Sun, worked) and 5 Jan: 2 days
    ("2026-01-06", "2025-12-31", None, "2025-12-31", None),      # 4, 5, 6 January: 3 days away
    ("2026-01-06", "2026-01-04", None, "2026-01-04", "blue"),    # on the make-up Sunday: 5, 6 January
    ("2026-01-05", "2026-01-02", None, "2026-01-02", "blue"),    # a holiday: still 2 working days away
    ("2026-01-02", "2025-12-31", None, "2026-01-02", "blue"),    # the deadline is today (a holiday)
    ("2025-12-31", "2025-12-31", None, "2026-01-01", "red"),     # overdue from the next day on
    ("2026-03-01", "2025-12-30", None, "2026-01-04", None),      # no note since 30 Dec: 31 Dec, 4 Jan = 2
    ("2026-03-01", "2025-12-30", None, "2026-01-05", "yellow"),  # ... and 5 Jan: 3 working days
    ("2026-03-01", "2025-12-31", None, "2026-01-03", None),      # the holidays do not count as lag
    ("2026-03-01", "2026-01-05", "unsatisfied", "2026-01-05", "yellow"),  # rated 不满意
    ("2026-03-01", "2026-01-05", "basically_satisfied", "2026-01-05", None),
    ("2025-12-31", "2025-12-30", "unsatisfied", "2026-01-05", "red"),     # red outranks yellow
    ("2026-01-05", "2025-12-25", None, "2025-12-31", "yellow"),  # lag outranks a near deadline
    ("2026-10-09", "2026-09-29", None, "2026-09-30", "blue"),    # over National Day: 8, 9 October
    ("2026-10-09", "2026-09-28", None, "2026-09-29", None),      # 30 Sep, 8, 9 Oct: 3 days
    ("2026-10-12", "2026-10-09", None, "2026-10-09", "blue"),    # the make-up Saturday 10 Oct counts
    (None, "2026-11-23", None, "2026-11-25", None),              # no deadline, recent progress
    (None, "2026-11-20", None, "2026-11-25", "yellow"),          # no deadline, 23-25 Nov without a note
]


@pytest.mark.parametrize("deadline,last,rating,today,expected", COLOUR_TABLE)
def test_colour_over_working_days(db, deadline, last, rating, today, expected):
    got = rules.colour(deadline and D(deadline), D(last), rating, D(today), calendar, blue_days=2, yellow_days=3)
    assert got == expected


def test_the_rules_are_data_most_urgent_first():
    assert [r.colour for r in rules.RULES] == ["red", "yellow", "yellow", "blue"]
    assert rules.SETTINGS == {"slip_blue_days": 2, "slip_yellow_days": 10, "slip_reply_days": 3}


# -- a motion under supervision ----------------------------------------------------------------------------

@pytest.fixture()
def motion(demo):
    session = _db.session.scalar(select(CongressSession))
    case = new_case("motion", demo["rep1"], session=session.id, title="关于延长食堂供餐时间的提案",
                    reasons="夜班职工就餐难", proposal_text="延长供餐时间")
    fire(case, "open_for_cosigning", demo["rep1"])
    fire(case, "cosign", demo["rep2"])
    fire(case, "cosign", demo["rep3"])
    fire(case, "submit", demo["rep1"])
    fire(case, "file", demo["motions1"], department="TECH", deadline="2026-12-10")
    fire(case, "acknowledge", demo["handler1"])  # signed for the same day: the deadline stands
    _db.session.commit()
    return case


def test_a_progress_note_is_a_step_of_the_engine_shown_to_author_and_cosigners(demo, motion, api):
    r = api.as_("handler1").post(f"/api/v1/cases/motion/{motion.id}/progress",
                                 json={"text": "已与食堂承包方商谈，拟于下月起延长至21点"})
    assert r.status_code == 201, r.get_json()
    assert r.get_json()["department"] == "生产技术部"
    last = _db.session.scalars(entries_of(motion)).all()[-1]
    assert (last.trigger, last.from_state, last.to_state) == ("progress", "handling", "handling")
    assert last.changes["inputs"]["text"].startswith("已与食堂")
    assert verify_chain(motion) == (True, None)
    for reader in ("rep1", "rep2", "rep3"):
        got = api.as_(reader).get(f"/api/v1/cases/motion/{motion.id}/progress").get_json()
        assert [n["text"] for n in got["items"]] == ["已与食堂承包方商谈，拟于下月起延长至21点"]
        assert _db.session.scalar(select(Notification).where(
            Notification.user_id == demo[reader].id, Notification.case_id == motion.id,
            Notification.subject.like("%" + motion.number + "%")))
    # Nobody else writes one: not the author, not the committee.
    for who in ("rep1", "motions1"):
        r = api.as_(who).post(f"/api/v1/cases/motion/{motion.id}/progress", json={"text": "x"}, headers=EN)
        assert r.status_code == 403, who
    r = api.as_("handler1").post(f"/api/v1/cases/motion/{motion.id}/progress", json={"text": ""}, headers=EN)
    assert r.status_code == 422 and "text" in r.get_json()["error"]["fields"]


def test_staff_issue_a_numbered_slip_the_department_answers_staff_close_it(demo, motion, api):
    r = api.as_("staff1").post(f"/api/v1/cases/motion/{motion.id}/slips",
                               json={"colour": "yellow", "remark": "请加快办理进度"})
    assert r.status_code == 201, r.get_json()
    out = r.get_json()
    assert out["number"] == "工督〔2026〕1号" and out["state"] == "issued" and out["reason"] == "staff"
    assert out["reply_by"] == "2026-11-30"  # 3 working days after Wednesday 25 November
    notice = _db.session.get(Notice, out["notice_id"])
    assert notice.kind == "supervision_slip" and notice.case_id == motion.id
    # The department's handlers and its leader (handler1 leads 生产技术部) are told.
    assert _db.session.scalar(select(Notification).where(
        Notification.user_id == demo["handler1"].id, Notification.subject.like("【黄色督办】工督〔2026〕1号%")))
    # A second staff slip takes the next number of the series.
    second = api.as_("staff1").post(f"/api/v1/cases/motion/{motion.id}/slips", json={"colour": "blue"}).get_json()
    assert second["number"] == "工督〔2026〕2号"
    # Only union staff issue; the department sees its open slips.
    assert api.as_("rep1").post(f"/api/v1/cases/motion/{motion.id}/slips", json={"colour": "red"},
                                headers=EN).status_code == 403
    mine = api.as_("handler1").get("/api/v1/slips").get_json()["items"]
    assert [s["number"] for s in mine] == ["工督〔2026〕1号", "工督〔2026〕2号"]
    assert mine[0]["transitions"] == ["answer"]
    # Staff cannot answer for the department; the department answers once.
    assert api.as_("staff1").post(f"/api/v1/slips/{out['id']}/answer", json={"answer": "x"},
                                  headers=EN).status_code == 403
    r = api.as_("handler1").post(f"/api/v1/slips/{out['id']}/answer",
                                 json={"answer": "已成立专班，12月5日前答复", "version": out["version"]})
    assert r.status_code == 200, r.get_json()
    assert r.get_json()["state"] == "answered" and r.get_json()["answered_on_time"] is True
    assert api.as_("handler1").post(f"/api/v1/slips/{out['id']}/answer", json={"answer": "again"},
                                    headers=EN).status_code == 409
    r = api.as_("staff1").post(f"/api/v1/slips/{out['id']}/close", json={"comment": "答复可行"})
    assert r.get_json()["state"] == "closed"
    audit = api.as_("staff1").get(f"/api/v1/slips/{out['id']}/audit").get_json()
    assert audit["intact"] is True
    assert [e["trigger"] for e in audit["items"]] == ["create", "answer", "close"]
    assert audit["items"][0]["changes"]["notices"][0].startswith("工督〔2026〕1号 sha256:")
    # Someone outside the department and the union's staff does not see the slip.
    assert api.as_("rep2").get(f"/api/v1/slips/{out['id']}", headers=EN).status_code == 404


def test_the_sweep_issues_each_slip_once_per_condition_and_closes_them_when_handling_ends(demo, motion, clock):
    def run_at(moment):
        clock.move_to(moment)
        run_due(parts=("tasks",))
        return [(s.colour, s.reason) for s in _db.session.scalars(select(Slip).order_by(Slip.id))]

    # Filed on 25 November with a deadline of 10 December: nothing yet.
    assert run_at("2026-11-26 09:00 +08:00") == []
    # 8 December: 9 and 10 December are 2 working days away.
    assert run_at("2026-12-08 09:00 +08:00") == [("blue", "deadline_near")]
    assert run_at("2026-12-08 15:00 +08:00") == [("blue", "deadline_near")]  # again: nothing new
    assert run_at("2026-12-11 09:00 +08:00") == [("blue", "deadline_near"), ("red", "overdue")]
    assert run_at("2026-12-14 09:00 +08:00") == [("blue", "deadline_near"), ("red", "overdue")]
    slips = _db.session.scalars(select(Slip).order_by(Slip.id)).all()
    assert all(s.issued_by_id is None and s.status == "issued" for s in slips)
    assert [s.number for s in slips] == ["工督〔2026〕1号", "工督〔2026〕2号"]
    case = _db.session.get(type(motion), motion.id)
    fire(case, "reply", demo["handler1"], text="已延长供餐时间至21点")
    _db.session.commit()
    run_at("2026-12-14 10:00 +08:00")
    assert {s.status for s in _db.session.scalars(select(Slip))} == {"closed"}
    trail = _db.session.scalars(entries_of(slips[1])).all()
    assert [(e.trigger, e.actor_label) for e in trail] == [("create", "scheduler"), ("auto_close", "scheduler")]


def test_no_progress_and_an_unsatisfied_rating_give_yellow_slips(demo, motion, clock):
    clock.move_to("2026-12-04 09:00 +08:00")  # 7 working days after filing: below the default 10
    fire(motion, "progress", demo["handler1"], text="调研中")
    _db.session.commit()
    clock.move_to("2026-12-09 09:00 +08:00")
    # A progress note resets the lag; the deadline (10 Dec) is near: blue.
    assert ops.finding(motion).reason == "deadline_near"
    fire(motion, "reply", demo["handler1"], text="暂无条件延长")
    fire(motion, "rate_unsatisfied", demo["rep1"])
    _db.session.commit()
    assert motion.state == "handling" and ops.rating_of(motion) == "unsatisfied"
    run_due(parts=("tasks",))
    slip = _db.session.scalar(select(Slip))
    assert (slip.colour, slip.reason) == ("yellow", "unsatisfied")
    run_due(parts=("tasks",))
    assert _db.session.scalar(select(func.count()).select_from(Slip)) == 1


def test_unsatisfied_on_the_attitude_alone_gives_a_call_back_and_then_a_yellow_slip(demo, motion, api, clock):
    fire(motion, "reply", demo["handler1"], text="已办理")
    fire(motion, "rate", demo["rep1"], attitude="unsatisfied", result="satisfied", comment="答复敷衍")
    _db.session.commit()
    assert motion.state == "closed" and ops.rating_of(motion) == "unsatisfied"
    cb = _db.session.scalar(select(Callback).where(Callback.case_id == motion.id))
    fire(cb, "record", demo["staff1"], how="phone", notes="代表要求重新答复", outcome="fix", deadline="2026-12-18")
    _db.session.commit()
    assert motion.state == "handling"  # handled again: the standing 不满意 is what the sweep sees
    run_due(parts=("tasks",))
    slip = _db.session.scalar(select(Slip))
    assert (slip.colour, slip.reason) == ("yellow", "unsatisfied")
    board = api.as_("committee1").get("/api/v1/supervision?period=2026").get_json()
    tech = next(r for r in board["departments"] if r["code"] == "TECH")
    assert (tech["ratings"], tech["average_rating"], tech["satisfaction"]) == (2, 2.0, 0.5)
    assert (tech["callbacks_opened"], tech["callbacks_made"], tech["callback_rate"]) == (1, 1, 1.0)


def test_the_board_counts_per_department_and_ranks(demo, motion, api, clock):
    first = ops.issue(motion, demo["staff1"], colour="red", remark="已超期")
    ops.issue(motion, demo["staff1"], colour="blue")
    _db.session.commit()
    ops.answer(first, demo["handler1"], "本周内答复")
    _db.session.commit()
    board = api.as_("committee1").get("/api/v1/supervision?period=2026-11").get_json()
    rows = {r["department"]: r for r in board["departments"]}
    tech = rows["生产技术部"]
    assert tech["open_items"] == 1 and tech["slips"] == {"blue": 1, "yellow": 0, "red": 1}
    assert tech["open_slips"] == 2 and (tech["due"], tech["on_time"], tech["on_time_rate"]) == (1, 1, 1.0)
    assert tech["rank"] == 1
    assert api.as_("committee1").get("/api/v1/supervision?period=2026-10").get_json()["departments"][0][
        "slips"] == {"blue": 0, "yellow": 0, "red": 0}
    assert api.as_("rep1").get("/api/v1/supervision", headers=EN).status_code == 403
    assert api.as_("staff1").get("/api/v1/supervision?period=11/2026", headers=EN).status_code == 422


def test_the_average_rating_and_the_on_time_rate_of_late_answers(demo, motion, clock):
    slip = ops.issue(motion, demo["staff1"], colour="yellow")
    _db.session.commit()
    clock.move_to("2026-12-02 09:00 +08:00")  # reply-by was 30 November
    ops.answer(slip, demo["handler1"], "迟复")
    fire(motion, "reply", demo["handler1"], text="已办理")
    fire(motion, "rate", demo["rep1"], satisfaction="basically_satisfied")
    _db.session.commit()
    tech = next(r for r in ops.figures(demo["staff1"].unit, ops.parse_period("2026"))["departments"]
                if r["code"] == "TECH")
    assert (tech["due"], tech["on_time"], tech["on_time_rate"]) == (1, 0, 0.0)
    assert (tech["ratings"], tech["average_rating"]) == (1, 2.0)
    assert tech["open_items"] == 0 and tech["open_slips"] == 1


def test_only_supervised_cases_get_slips(demo, motion):
    fire(motion, "reply", demo["handler1"], text="已办理")
    with pytest.raises(CaseworkError):
        ops.issue(motion, demo["staff1"], colour="red")
    with pytest.raises(CaseworkError):
        ops.issue(motion, demo["staff1"], colour="green")


def _pdf_text(pdf: bytes) -> str:
    with pdfplumber.open(io.BytesIO(pdf)) as doc:
        return "".join("".join(page.extract_text() or "" for page in doc.pages).split())


def test_the_bulletin_names_departments_only_and_can_be_posted_publicly(demo, motion, web, client):
    ops.issue(motion, demo["staff1"], colour="red", remark="林晓峰代表反映强烈")
    _db.session.commit()
    web.login("staff1")
    r = web.post("/supervision/bulletins", {"period": "2026-11", "unit": demo["staff1"].unit_id},
                 form_page="/supervision")
    assert r.status_code == 303
    notice = _db.session.scalar(select(Notice).where(Notice.kind == "supervision_bulletin"))
    assert notice.number == "工督通〔2026〕1号"
    text = _pdf_text(notice.pdf)
    assert "生产技术部" in text and "督办通报" in text
    names = [n for n in _db.session.scalars(select(User.name)) if n]
    assert names and not [n for n in names if n in text or n in str(notice.fields)]
    # Unchanged figures: the same bulletin, no new number.
    web.post("/supervision/bulletins", {"period": "2026-11", "unit": demo["staff1"].unit_id},
             form_page="/supervision")
    assert _db.session.scalar(select(func.count()).select_from(Notice).where(
        Notice.kind == "supervision_bulletin")) == 1
    assert client.get(f"/notices/{notice.id}.pdf").status_code == 200  # staff see it
    r = web.post(f"/supervision/bulletins/{notice.id}/post", {}, form_page="/supervision")
    assert r.status_code == 303
    anonymous = Browser(client.application.test_client())  # signed in as nobody
    page = anonymous.get("/board").get_data(as_text=True)
    assert "2026-11" in page
    link = page.split("/board/supervision/")[1].split('"')[0]
    pdf = anonymous.get(f"/board/supervision/{link}")
    assert pdf.status_code == 200 and pdf.data == notice.pdf
    assert anonymous.get(f"/notices/{notice.id}.pdf").status_code in (302, 401)


def test_pages_case_queue_board_and_slip(demo, motion, web):
    slip = ops.issue(motion, demo["staff1"], colour="red")
    fire(motion, "progress", demo["handler1"], text="已召开协调会")
    _db.session.commit()
    web.login("handler1")
    queue = web.get("/work").get_data(as_text=True)
    assert slip.number in queue
    page = web.get(f"/cases/motion/{motion.id}").get_data(as_text=True)
    assert "已召开协调会" in page and slip.number in page
    r = web.post(f"/supervision/slips/{slip.id}/answer", {"answer": "已于本周完成", "version": slip.version},
                 form_page=f"/supervision/slips/{slip.id}")
    assert r.status_code == 303
    _db.session.refresh(slip)
    assert slip.status == "answered" and slip.answer == "已于本周完成"
    assert web.get("/supervision").status_code == 403  # a handler is not a supervisor
    web = Browser(web.client.application.test_client())
    web.login("staff1")
    board = web.get("/supervision?period=2026-11").get_data(as_text=True)
    assert "生产技术部" in board and slip.number in board
    case_page = web.get(f"/cases/motion/{motion.id}").get_data(as_text=True)
    assert "supervision/slips" in case_page and f"/cases/motion/{motion.id}/slips" in case_page


def test_department_leaders(demo):
    tech = _db.session.scalar(select(Department).where(Department.code == "TECH"))
    assert [u.username for u in tech.leaders] == ["handler1"]
    assert _db.session.scalar(select(DepartmentMember.leader).where(
        DepartmentMember.user_id == demo["handler1"].id)) is True
