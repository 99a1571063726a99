"""Congress motions end to end: co-signing, filing with co-handlers, merging, replies, the one reopening,
the session report, co-handling departments, conflict of interest, who may do what."""
from __future__ import annotations

import io
import re
from datetime import date, timedelta

import openpyxl
import pytest
from sqlalchemy import select

from casework.accounts.models import Department, RoleAssignment, Unit
from casework.clock import today
from casework.core import engine
from casework.core.errors import CaseworkError
from casework.core.models import CongressSession
from casework.extensions import db as _db
from casework.motions.models import Motion
from casework.notifications.models import Notification

from .factories import department_handler, fire, new_case, sign_for, walk_steps

EN = {"Accept-Language": "en"}


@pytest.fixture()
def session(demo):
    return _db.session.scalar(select(CongressSession))


@pytest.fixture()
def hr_handler(demo):
    """A handler of 人力资源部 (HR), to co-handle with 生产技术部 (TECH)."""
    return department_handler(demo["handler1"].unit, "handler2", "HR", "钱明")


def grant(user, role: str, unit_code: str = "HQ"):
    unit = _db.session.scalar(select(Unit).where(Unit.code == unit_code))
    user.roles.append(RoleAssignment(role=role, unit=unit))
    _db.session.commit()


def walk(demo, session, state: str, author="rep1", **data) -> Motion:
    """A motion walked along the happy path until it reaches `state`."""
    case = new_case("motion", demo[author], session=session.id, **data)
    others = [r for r in ("rep1", "rep2", "rep3") if r != author]
    steps = [
        ("cosigning", lambda: fire(case, "open_for_cosigning", demo[author])),
        ("cosigned", lambda: [fire(case, "cosign", demo[r]) for r in others]),
        ("submitted", lambda: fire(case, "submit", demo[author])),
        ("handling", lambda: fire(case, "file", demo["motions1"], department="TECH", co_departments=["HR"],
                                  deadline="2027-01-15")),
        ("replied", lambda: (sign_for(case, demo["handler1"], opinions="同意，配合调整班次"),
                             fire(case, "reply", demo["handler1"], text="已增设两个窗口，错峰就餐"))),
    ]
    return walk_steps(case, state, steps)


def test_a_motion_from_draft_to_closed_through_the_api(demo, session, api, hr_handler, clock):
    rep1 = api.as_("rep1")
    case = rep1.post("/api/v1/cases/motion", json={"title": "关于改善职工食堂的提案", "reasons": "食堂就餐拥挤",
                                                   "proposal_text": "增加窗口，错峰就餐", "session": session.id})
    assert case.status_code == 201, case.get_json()
    url = f"/api/v1/cases/motion/{case.get_json()['id']}"

    def go(who, trigger, status=200, **body):
        r = api.as_(who).post(f"{url}/transitions/{trigger}", json=body, headers=EN)
        assert r.status_code == status, (who, trigger, r.get_json())
        return r.get_json()

    go("rep1", "open_for_cosigning")
    assert "cosign" in api.as_("rep2").get(url).get_json()["transitions"]
    go("rep2", "cosign")
    out = go("rep1", "submit", 422)
    assert out["error"]["message"] == "2 co-signers are needed; 1 have signed."
    go("rep3", "cosign")
    go("rep3", "withdraw_cosign")
    go("rep3", "cosign")
    assert go("rep1", "submit")["state"] == "submitted"
    out = go("motions1", "file", department="TECH", co_departments=["HR"], deadline="2027-01-15")
    assert out["state"] == "handling" and out["deadline"] == "2027-01-15"
    queue = api.as_("handler1").get("/api/v1/queue").get_json()["items"]
    assert [(q["case"]["id"], q["transitions"], q["case"]["deadline"]) for q in queue] == \
        [(out["id"], ["acknowledge", "return_misrouted", "reply", "progress"], "2027-01-15")]
    # The lead department signs for it (签收) the same day: the planned deadline stands.
    assert go("handler1", "acknowledge")["deadline"] == "2027-01-15"
    # The co-handling department sees it, and is told who replies.
    co = api.as_("handler2").get("/api/v1/motions/co-handling").get_json()["items"]
    assert [(m["id"], m["co_departments"]) for m in co] == [(out["id"], [hr_handler.departments[0].department_id])]
    go("handler2", "contribute", text="同意错峰安排")
    go("handler1", "reply", text="已增设两个窗口")
    assert api.as_("rep1").get(url).get_json()["reply"] == "已增设两个窗口\n\n会办意见：\n人力资源部：同意错峰安排"
    clock.move_to("2026-12-01 10:00:00 +08:00")
    out = go("rep1", "rate_unsatisfied", comment="高峰时段仍然拥挤")
    assert out["state"] == "handling" and out["reopened"] is True
    assert date.fromisoformat(out["deadline"]) > date(2026, 12, 1) + timedelta(days=30)  # 30 working days
    assert "rate" not in out["transitions"]
    go("handler1", "reply", text="增设流动售餐车，延长供餐时间")
    refused = go("rep1", "rate_unsatisfied", 422)
    assert refused["error"]["message"] == "This motion was reopened once already; the second reply is final."
    out = go("rep1", "rate", satisfaction="basically_satisfied")
    assert out["state"] == "closed" and out["satisfaction"] == "basically_satisfied"
    report = api.as_("motions1").get(f"/api/v1/sessions/{session.id}/report").get_json()
    row = report["motions"][0]
    assert row["replies"] == 2 and row["rating"] == "basically_satisfied" and row["on_time"] is True
    assert row["department"] == "生产技术部" and row["co_departments"] == ["人力资源部"]
    assert row["replied_on"] == "2026-12-01" and report["on_time_rate"] == 1.0


def test_cosigning_twice_and_ones_own_motion_are_refused(demo, session, api):
    case = walk(demo, session, "cosigning")
    url = f"/api/v1/cases/motion/{case.id}/transitions"
    assert api.as_("rep2").post(f"{url}/cosign", json={}).status_code == 200
    r = api.as_("rep2").post(f"{url}/cosign", json={}, headers=EN)
    assert r.status_code == 422 and r.get_json()["error"]["message"] == "You have already co-signed this motion."
    r = api.as_("rep3").post(f"{url}/withdraw_cosign", json={}, headers=EN)
    assert r.status_code == 422 and r.get_json()["error"]["message"] == "You have not co-signed this motion."
    # The author is no co-signer of their own motion: the step is not offered and is refused.
    assert "cosign" not in engine.available(case, demo["rep1"])
    r = api.as_("rep1").post(f"{url}/cosign", json={}, headers=EN)
    assert r.status_code == 403 and r.get_json()["error"]["code"] == "role"
    assert r.get_json()["error"]["message"] == "You cannot co-sign your own motion."
    # Nor is anyone who is not a representative of the session.
    assert api.as_("worker1").post(f"{url}/cosign", json={}).status_code in (403, 404)
    _db.session.expire_all()
    assert sorted(p.user.username for p in case.parties if p.role == "cosigner") == ["rep2"]


def test_cosigning_ends_with_the_window(demo, session, api, clock):
    case = walk(demo, session, "cosigning")
    clock.move_to(session.cosigning_until + timedelta(hours=9))  # naive UTC + 8 h: after the window, local
    r = api.as_("rep2").post(f"/api/v1/cases/motion/{case.id}/transitions/cosign", json={}, headers=EN)
    assert r.status_code == 422 and "window" in r.get_json()["error"]["message"]


def test_merge_into_a_filed_motion_and_both_authors_follow_it(demo, session, api, web):
    target = walk(demo, session, "handling")
    case = walk(demo, session, "submitted", author="rep2", title="关于食堂增加窗口的提案")
    url = f"/api/v1/cases/motion/{case.id}/transitions/merge"
    other = walk(demo, session, "submitted", author="rep3")
    r = api.as_("motions1").post(url, json={"into": other.id}, headers=EN)
    assert r.status_code == 422 and "filed motion" in r.get_json()["error"]["message"]
    r = api.as_("motions1").post(url, json={"into": target.id})
    assert r.status_code == 200 and r.get_json()["state"] == "merged" and r.get_json()["merged_into"] == target.id
    told = {(n.user.username, n.case_id) for n in _db.session.scalars(select(Notification))}
    assert ("rep2", case.id) in told and ("rep1", target.id) in told
    # rep2 follows the merged-into motion: sees it, and finds it from "my motions".
    assert api.as_("rep2").get(f"/api/v1/cases/motion/{target.id}").status_code == 200
    web.login("rep2")
    page = web.get("/motions/mine").get_data(as_text=True)
    assert target.number in page and f'href="/cases/motion/{target.id}"' in page


def test_merge_only_within_the_session(demo, session, api):
    target = walk(demo, session, "handling")
    later = CongressSession(name="第五届职工代表大会第四次会议", unit=session.unit, starts_on=today(),
                            ends_on=today() + timedelta(days=30), cosigning_until=session.cosigning_until)
    _db.session.add(later)
    _db.session.commit()
    case = walk(demo, later, "submitted", author="rep2")
    r = api.as_("motions1").post(f"/api/v1/cases/motion/{case.id}/transitions/merge", json={"into": target.id},
                                 headers=EN)
    assert r.status_code == 422 and "same congress session" in r.get_json()["error"]["message"]


@pytest.mark.parametrize("trigger, data, state", [
    ("convert_to_opinion", {"department": "HR"}, "opinion"),
    ("not_file", {"reason": "不属于职代会职权范围"}, "not_filed"),
])
def test_other_committee_decisions(demo, session, api, trigger, data, state):
    case = walk(demo, session, "submitted")
    r = api.as_("motions1").post(f"/api/v1/cases/motion/{case.id}/transitions/{trigger}", json=data)
    assert r.status_code == 200 and r.get_json()["state"] == state
    if state == "not_filed":
        assert r.get_json()["reply"] == "不属于职代会职权范围"
    r = api.as_("motions1").post(f"/api/v1/cases/motion/{case.id}/transitions/not_file", json={}, headers=EN)
    assert r.status_code == 409


def test_replying_as_the_wrong_department_is_refused(demo, session, api, hr_handler):
    case = walk(demo, session, "handling")
    case.co_department_ids = []
    _db.session.commit()
    # A handler whose department has nothing to do with the motion: not allowed, and not shown it.
    with pytest.raises(CaseworkError) as err:
        engine.fire(case, "reply", hr_handler, {"text": "x"})
    _db.session.rollback()
    assert err.value.status == 403 and err.value.code == "role"
    assert str(err.value.message) == "这件提案没有交由您所在的部门办理。"  # "This motion is not assigned to your department."
    assert api.as_("handler2").post(f"/api/v1/cases/motion/{case.id}/transitions/reply",
                                    json={"text": "x"}).status_code == 404
    # A co-handling department's handler is not offered the reply, and hears the lead department replies.
    case.co_department_ids = [hr_handler.departments[0].department_id]
    _db.session.commit()
    assert engine.available(case, hr_handler) == []
    with pytest.raises(CaseworkError) as err:
        engine.fire(case, "reply", hr_handler, {"text": "我部意见"})
    _db.session.rollback()
    assert err.value.status == 403 and err.value.code == "role"
    assert "生产技术部" in str(err.value.message) and "人力资源部" not in str(err.value.message)


def test_specific_refusals_through_the_web_and_the_api(demo, session, web, api, hr_handler):
    """Both refusals keep the API's 403 and say why, in the caller's language, on the page too."""
    cosigning = walk(demo, session, "cosigning")
    handling = walk(demo, session, "handling", author="rep2")
    handling.co_department_ids = []
    _db.session.commit()
    grant(hr_handler, "representative")  # reads every motion of the session, but handles none here
    r = api.as_("handler2").post(f"/api/v1/cases/motion/{handling.id}/transitions/reply",
                                 json={"text": "我部意见", "version": handling.version}, headers=EN)
    assert r.status_code == 403 and r.get_json()["error"]["code"] == "role"
    assert r.get_json()["error"]["message"] == "This motion is not assigned to your department."
    # Someone in no department at all hears the general answer.
    r = api.as_("rep3").post(f"/api/v1/cases/motion/{handling.id}/transitions/reply", json={"text": "x"},
                             headers=EN)
    assert r.status_code == 403
    assert r.get_json()["error"]["message"] == "You are not allowed to do this on this case."

    web.login("handler2")
    page = f"/cases/motion/{handling.id}?lang=en"  # pages speak the language chosen with the switch
    r = web.post(f"/cases/motion/{handling.id}/do/reply", {"reply-text": "我部意见"}, form_page=page)
    assert r.status_code == 403
    assert "This motion is not assigned to your department." in r.get_data(as_text=True)
    web.post("/logout", {}, form_page="/")
    web.login("rep1")
    page = f"/cases/motion/{cosigning.id}?lang=en"
    r = web.post(f"/cases/motion/{cosigning.id}/do/cosign", {}, form_page=page)
    assert r.status_code == 403 and "You cannot co-sign your own motion." in r.get_data(as_text=True)
    _db.session.expire_all()
    assert handling.state == "handling" and handling.reply == ""
    assert demo["rep1"].id not in cosigning.party_ids("cosigner")


@pytest.mark.parametrize("who, role, state, trigger, data", [
    ("motions1", "motion_committee", "submitted", "file", {"department": "TECH"}),
    ("handler1", "assigned_handler", "handling", "reply", {"text": "已办理"}),
])
def test_who_cosigned_a_motion_cannot_act_on_it(demo, session, who, role, state, trigger, data):
    grant(demo[who], "representative")
    case = walk(demo, session, "cosigning")
    fire(case, "cosign", demo[who])
    case = walk_on(demo, case, state)
    assert trigger not in engine.available(case, demo[who])
    with pytest.raises(CaseworkError) as err:
        engine.fire(case, trigger, demo[who], data)
    _db.session.rollback()
    assert err.value.code == "conflict_of_interest", role


def walk_on(demo, case, state):
    if case.state == "cosigning" and state != "cosigning":
        fire(case, "cosign", demo["rep2"])
        fire(case, "submit", demo["rep1"])
    if case.state == "submitted" and state == "handling":
        fire(case, "file", demo["motions1"], department="TECH")
    return case


# -- who may do what, state by state ---------------------------------------------------------

ALLOWED = {  # state -> trigger -> who may fire it
    "draft": {"open_for_cosigning": {"rep1"}},
    "cosigning": {"cosign": {"rep2", "rep3"}, "withdraw_cosign": {"rep2", "rep3"}, "submit": {"rep1"}},
    "submitted": {t: {"motions1"} for t in ("file", "merge", "convert_to_opinion", "not_file")},
    "handling": {t: {"handler1"} for t in ("acknowledge", "return_misrouted", "reply", "progress")},
    # The author and every co-signer rate the reply (casework/ratings).
    "replied": {"rate": {"rep1", "rep2", "rep3"}, "rate_unsatisfied": {"rep1"}},
}
PEOPLE = ("rep1", "rep2", "rep3", "motions1", "handler1", "staff1", "committee1", "worker1", "admin")
# Allowed by role but refused by a guard that reads no input (nobody has co-signed yet): not offered.
NOT_OFFERED = {"cosigning": {"withdraw_cosign"}}


@pytest.mark.parametrize("state", sorted(ALLOWED))
def test_available_steps_per_state_and_person(demo, session, state):
    case = walk(demo, session, state)
    assert case.state == state
    for who in PEOPLE:
        expected = [t for t, people in ALLOWED[state].items()
                    if who in people and t not in NOT_OFFERED.get(state, ())]
        assert engine.available(case, demo[who]) == expected, (state, who)
        for trigger, people in ALLOWED[state].items():
            if who in people:
                continue
            with pytest.raises(CaseworkError) as err:
                engine.fire(case, trigger, demo[who], {})
            _db.session.rollback()
            assert err.value.status == 403 and str(err.value.message), (state, who, trigger)


def test_a_step_its_standing_guards_refuse_is_not_offered(demo, session, api):
    case = walk(demo, session, "cosigning")
    fire(case, "cosign", demo["rep2"])
    assert engine.available(case, demo["rep2"]) == ["withdraw_cosign"]  # co-signed: not again
    assert engine.available(case, demo["rep3"]) == ["cosign"]
    got = api.as_("rep2").get(f"/api/v1/cases/motion/{case.id}").get_json()
    assert "cosign" not in got["transitions"]


def test_lapse_is_the_schedulers_not_a_persons(demo, session, api):
    case = walk(demo, session, "cosigning")
    r = api.as_("motions1").post(f"/api/v1/cases/motion/{case.id}/transitions/lapse", json={})
    assert r.status_code == 403 and r.get_json()["error"]["code"] == "automatic"


# -- the session report ----------------------------------------------------------------------

def test_session_report_with_on_time_rate(demo, session, api, web, clock):
    on_time = walk(demo, session, "replied")
    late = walk(demo, session, "handling", author="rep2")
    overdue = walk(demo, session, "handling", author="rep3")
    sign_for(late, demo["handler1"])  # on the day it was filed: the planned deadline stands
    walk(demo, session, "draft")  # drafts are nobody's business yet
    clock.move_to("2027-01-20 10:00:00 +08:00")  # after the 2027-01-15 deadline
    fire(late, "reply", demo["handler1"], text="迟到的答复")
    fire(on_time, "rate", demo["rep1"], satisfaction="satisfied")
    report = api.as_("staff1").get(f"/api/v1/sessions/{session.id}/report").get_json()
    rows = {r["number"]: r for r in report["motions"]}
    assert set(rows) == {on_time.number, late.number, overdue.number}
    assert rows[on_time.number]["on_time"] is True and rows[on_time.number]["rating"] == "satisfied"
    assert rows[late.number]["on_time"] is False and rows[late.number]["replied_on"] == "2027-01-20"
    assert rows[overdue.number]["on_time"] is False and rows[overdue.number]["replied_on"] is None
    assert (report["due"], report["on_time"], report["on_time_rate"]) == (3, 1, 0.3333)
    assert report["states"] == {"closed": 1, "replied": 1, "handling": 1}
    web.login("motions1")
    page = web.get(f"/sessions/{session.id}/report").get_data(as_text=True)
    assert late.number in page and "33.3%" in page and "2027-01-20" in page
    # Its export is the page's table, in Chinese, row for row.
    on_page = re.findall(r">(M\d{4}-\d{5})</a>", page)
    assert f"/export/sessions/{session.id}/report.xlsx" in page
    sheet = openpyxl.load_workbook(io.BytesIO(web.get(f"/export/sessions/{session.id}/report.xlsx").data)).active
    rows_out = list(sheet.iter_rows(values_only=True))
    assert rows_out[0][:3] == ("编号", "案由", "提案人") and [r[0] for r in rows_out[1:]] == on_page
    exported = {r[0]: r for r in rows_out[1:]}
    assert exported[late.number][8] == "2027-01-20" and exported[late.number][9] == "否"
    assert exported[on_time.number][10] == "满意"
    web.post("/logout", {}, form_page="/")
    web.login("handler1")
    assert web.get(f"/export/sessions/{session.id}/report.csv").status_code == 403
    assert api.as_("handler1").get(f"/api/v1/sessions/{session.id}/report").status_code == 403
    assert api.as_("staff1").get("/api/v1/sessions/999/report").status_code == 404


def test_motion_pages(demo, session, web, hr_handler):
    case = walk(demo, session, "handling")
    web.login("rep1")
    assert case.number in web.get("/motions/mine").get_data(as_text=True)
    web.post("/logout", {}, form_page="/")
    web.login("handler2")
    page = web.get("/motions/co-handling").get_data(as_text=True)
    assert case.number in page and f'href="/cases/motion/{case.id}"' in page
    # The old brief page's links lead to the case page.
    r = web.get(f"/motions/{case.id}/brief")
    assert r.status_code == 302 and r.headers["Location"].endswith(f"/cases/motion/{case.id}")
    assert web.get(f"/sessions/{session.id}/report").status_code == 403
    web.post("/logout", {}, form_page="/")
    web.login("worker1")
    assert web.get(f"/motions/{case.id}/brief").status_code == 404


@pytest.fixture()
def log_handler(demo):
    """A handler of 后勤保障部 (LOG): a department with nothing to do with the motions walked here."""
    return department_handler(demo["handler1"].unit, "handler3", "LOG", "孙立")


def test_a_co_handling_departments_handler_reads_the_case_like_the_lead_departments(
        demo, session, web, api, hr_handler, log_handler):
    case = walk(demo, session, "handling")
    other = walk(demo, session, "handling", author="rep2")
    other.co_department_ids = []  # TECH alone
    _db.session.commit()
    lead = api.as_("handler1").get(f"/api/v1/cases/motion/{case.id}")
    co = api.as_("handler2").get(f"/api/v1/cases/motion/{case.id}")
    assert lead.status_code == co.status_code == 200
    # The same record, fields and all; only the steps differ (the lead department replies).
    assert {k: v for k, v in co.get_json().items() if k != "transitions"} == \
        {k: v for k, v in lead.get_json().items() if k != "transitions"}
    assert co.get_json()["reasons"] == case.reasons
    listed = api.as_("handler2").get("/api/v1/cases/motion").get_json()["items"]
    assert [m["id"] for m in listed] == [case.id]
    web.login("handler2")
    page = web.get(f"/cases/motion/{case.id}")
    assert page.status_code == 200
    text = page.get_data(as_text=True)
    assert case.reasons in text and case.proposal_text in text and "生产技术部" in text
    assert "本部门为此提案的会办部门" in text  # and is told the lead department replies for all
    page = web.get("/cases?kind=motion").get_data(as_text=True)
    assert case.number in page and other.number not in page
    assert web.get(f"/cases/motion/{other.id}").status_code == 404
    # A department with no part in it sees neither.
    for motion in (case, other):
        assert api.as_("handler3").get(f"/api/v1/cases/motion/{motion.id}").status_code == 404
    assert api.as_("handler3").get("/api/v1/cases/motion").get_json()["items"] == []
    web.post("/logout", {}, form_page="/")
    web.login("handler3")
    assert web.get(f"/cases/motion/{case.id}").status_code == 404
    assert case.number not in web.get("/cases?kind=motion").get_data(as_text=True)


def test_a_co_handling_department_named_again_or_dropped_changes_who_sees_it(demo, session, api, hr_handler,
                                                                            log_handler):
    case = walk(demo, session, "handling")
    hr, log = (_db.session.scalar(select(Department.id).where(Department.code == c)) for c in ("HR", "LOG"))
    case.co_department_ids = [log]
    _db.session.commit()
    assert api.as_("handler2").get(f"/api/v1/cases/motion/{case.id}").status_code == 404
    assert api.as_("handler3").get(f"/api/v1/cases/motion/{case.id}").status_code == 200
    case.co_department_ids = [hr, log]
    _db.session.commit()
    for who in ("handler2", "handler3"):
        assert [m["id"] for m in api.as_(who).get("/api/v1/cases/motion").get_json()["items"]] == [case.id]
    case.co_department_ids = []
    _db.session.commit()
    for who in ("handler2", "handler3"):
        assert api.as_(who).get(f"/api/v1/cases/motion/{case.id}").status_code == 404
        assert api.as_(who).get("/api/v1/motions/co-handling").get_json()["items"] == []


def test_the_case_page_panel_shows_departments_replies_and_merges(demo, session, app):
    from flask import render_template
    case = walk(demo, session, "replied")
    merged = walk(demo, session, "submitted", author="rep2")
    fire(merged, "merge", demo["motions1"], into=case.id)
    with app.test_request_context():
        html = render_template("motions/_case_panel.html", case=case, current_user=demo["rep1"])
    assert "生产技术部" in html and "人力资源部" in html and merged.number in html and today().isoformat() in html
