"""The case page says what happens next: the panel, the workflow drawing, the help page, the confirmation
of steps that cannot be undone (web only: the API is unchanged), a returned case's reason at the top."""
from __future__ import annotations

import re
import xml.etree.ElementTree as ET

import pytest
from sqlalchemy import select

import workflows
from casework.core.models import CongressSession, Vote
from casework.extensions import db as _db
from casework.forms import transition_form
from casework.guide.drawing import workflow_svg
from workflows.base import IRREVERSIBLE_TRIGGERS

from .conftest import Browser
from .factories import aid_to, attach, fire, new_case

SVG = "{http://www.w3.org/2000/svg}"


def _as(app, username: str) -> Browser:
    b = Browser(app.test_client())
    b.login(username)
    return b


def panel(html: str) -> str:
    match = re.search(r'<section class="card next-step".*?</section>', html, re.S)
    assert match, "no next-step panel on the page"
    return match.group(0)


def test_submitted_aid_names_the_staff_and_the_working_day_deadline(app, demo):
    case = aid_to(demo, "submitted")
    html = panel(_as(app, "worker1").get(f"/cases/aid/{case.id}").get_data(as_text=True))
    assert "已提交" in html
    assert "工会干事" in html and demo["staff1"].name in html  # the role, then the people by name
    assert "staff1" not in html  # never a user name
    assert "代为申请的工会小组长" not in html  # nobody applied on the worker's behalf: no such party
    assert str(case.deadline) in html and "5 个工作日" in html  # aid_intake_days, counted from today
    # A legal hold can be placed in any state: a standing option of staff, not the next step of the request.
    assert "法律保全" not in html
    assert "place_hold" in workflows.get("aid").triggers_from("submitted")


def test_evaluating_proposal_names_its_assigned_evaluators(app, demo):
    case = new_case("proposal", demo["worker1"])
    fire(case, "submit", demo["worker1"])
    fire(case, "accept", demo["staff1"], evaluators=["evaluator1", "evaluator2"])
    html = panel(_as(app, "worker1").get(f"/cases/proposal/{case.id}").get_data(as_text=True))
    assert demo["evaluator1"].name in html and demo["evaluator2"].name in html
    assert "evaluator1" not in html
    assert "10 个工作日" in html  # proposal_evaluation_days


def test_cosigning_motion_names_the_author_and_the_representatives_by_role(app, demo):
    session = _db.session.scalar(select(CongressSession))
    case = new_case("motion", demo["rep1"], session=session.id)
    fire(case, "open_for_cosigning", demo["rep1"])
    html = panel(_as(app, "rep1").get(f"/cases/motion/{case.id}").get_data(as_text=True))
    assert "附议" in html and demo["rep1"].name in html
    assert "rep1" not in html


def test_posting_says_the_system_moves_on_and_a_final_state_says_it_is_finished(app, demo):
    case = aid_to(demo, "posting")
    html = panel(_as(app, "worker1").get(f"/cases/aid/{case.id}").get_data(as_text=True))
    assert "由系统自动办理" in html
    draft = new_case("aid", demo["worker1"])
    fire(draft, "withdraw", demo["worker1"])
    html = panel(_as(app, "worker1").get(f"/cases/aid/{draft.id}").get_data(as_text=True))
    assert "已撤回" in html and "已结束" in html


@pytest.mark.parametrize("kind", list(workflows.WORKFLOWS))
def test_drawing_is_valid_svg_with_one_node_per_state_and_the_current_one_marked(app, kind):
    wf = workflows.get(kind)
    current = wf.state_names[2]
    with app.test_request_context("/?lang=zh_CN"):
        svg = str(workflow_svg(kind, current))
    root = ET.fromstring(svg)
    nodes = [g for g in root.iter(SVG + "g") if "wf-node" in g.get("class", "")]
    assert sorted(g.get("data-state") for g in nodes) == sorted(wf.state_names)
    marked = [g.get("data-state") for g in nodes if "wf-current" in g.get("class").split()]
    assert marked == [current]
    texts = {g.get("data-state"): g.find(SVG + "text").text for g in nodes}
    assert texts["draft"] == "草稿"  # Chinese labels from the catalogue
    assert "style" not in svg  # the CSP allows no inline style


def test_the_case_page_draws_its_workflow_with_its_state(app, demo):
    case = aid_to(demo, "verifying")
    html = _as(app, "worker1").get(f"/cases/aid/{case.id}").get_data(as_text=True)
    assert 'class="wf-node wf-current" data-state="verifying"' in html
    assert "/help/workflows" in html


@pytest.mark.parametrize("username", [None, "worker1", "staff1", "committee1", "motions1", "admin"])
def test_help_page_shows_all_three_workflows_to_everyone(app, demo, username):
    b = _as(app, username) if username else Browser(app.test_client())
    r = b.get("/help/workflows")
    assert r.status_code == 200
    html = r.get_data(as_text=True)
    assert html.count('<svg xmlns="http://www.w3.org/2000/svg" class="wf-drawing"') == 3
    for label in ("帮扶申请", "合理化建议", "职代会提案"):
        assert label in html


def test_irreversible_triggers_exist_and_only_their_forms_ask_for_confirmation(app):
    used = {t.trigger for wf in workflows.WORKFLOWS.values() for t in wf.transitions}
    assert IRREVERSIBLE_TRIGGERS <= used
    with app.test_request_context():
        for wf in workflows.WORKFLOWS.values():
            for t in wf.transitions:
                form = transition_form(t)
                assert ("confirm" in form) == (t.trigger in IRREVERSIBLE_TRIGGERS), t.trigger
                assert "confirm" not in form.data_for_engine()


def _refused_then_done(b, case, trigger: str, data: dict, moved_to: str):
    url = f"/cases/{case.kind}/{case.id}"
    fields = {f"{trigger}-{k}": v for k, v in data.items()}
    page = b.get(url).get_data(as_text=True)
    assert f'name="{trigger}-confirm"' in page
    r = b.post(f"{url}/do/{trigger}", {**fields, f"{trigger}-version": case.version}, form_page=url)
    assert r.status_code == 422
    assert "请勾选确认" in r.get_data(as_text=True)
    _db.session.refresh(case)
    assert case.state != moved_to
    r = b.post(f"{url}/do/{trigger}", {**fields, f"{trigger}-version": case.version, f"{trigger}-confirm": "y"},
               form_page=url)
    assert r.status_code == 302
    _db.session.refresh(case)
    assert case.state == moved_to


def test_withdraw_and_withdraw_consent_need_the_confirmation_on_the_page(app, demo):
    case = aid_to(demo, "submitted")
    _refused_then_done(_as(app, "worker1"), case, "withdraw", {}, "withdrawn")
    other = aid_to(demo, "submitted")
    _refused_then_done(_as(app, "worker1"), other, "withdraw_consent", {}, "withdrawn")


def test_decline_needs_the_confirmation(app, demo):
    case = new_case("proposal", demo["worker1"])
    fire(case, "submit", demo["worker1"])
    _refused_then_done(_as(app, "staff1"), case, "decline", {"reply": "不属于合理化建议范围"}, "declined")


def test_not_file_needs_the_confirmation(app, demo):
    session = _db.session.scalar(select(CongressSession))
    case = new_case("motion", demo["rep1"], session=session.id)
    fire(case, "open_for_cosigning", demo["rep1"])
    for r in ("rep2", "rep3"):
        fire(case, "cosign", demo[r])
    fire(case, "submit", demo["rep1"])
    _refused_then_done(_as(app, "motions1"), case, "not_file", {"reason": "属于个人诉求"}, "not_filed")


def _objected(demo):
    case = aid_to(demo, "posted")
    fire(case, "object", None)
    return case


def _graded(demo):
    from .test_proposals import walk
    return walk(demo, "graded")


VOTES = {  # each committee vote that cannot be undone: the case it needs, the voter's inputs
    "reject": (lambda demo: aid_to(demo, "pending_approval"), {"reason": "收入超过困难标准"}),
    "uphold_objection": (_objected, {"answer": "经核实收入情况不符"}),
    "not_adopt": (_graded, {"reply": "暂不具备实施条件"}),
}


@pytest.mark.parametrize("trigger", list(VOTES))
def test_each_vote_that_cannot_be_undone_needs_the_voters_confirmation(app, demo, trigger):
    make, inputs = VOTES[trigger]
    case = make(demo)
    url = f"/cases/{case.kind}/{case.id}"
    fields = {f"{trigger}-{k}": v for k, v in inputs.items()}
    b = _as(app, "committee1")
    r = b.post(f"{url}/do/{trigger}", {**fields, f"{trigger}-version": case.version}, form_page=url)
    assert r.status_code == 422 and "请勾选确认" in r.get_data(as_text=True)
    voted = select(Vote).where(Vote.case_id == case.id, Vote.trigger == trigger)
    assert _db.session.scalar(voted) is None
    r = b.post(f"{url}/do/{trigger}", {**fields, f"{trigger}-version": case.version, f"{trigger}-confirm": "y"},
               form_page=url)
    assert r.status_code == 302
    assert _db.session.scalar(voted) is not None


def test_every_irreversible_trigger_has_a_web_test():
    web_tested = {"withdraw", "withdraw_consent", "decline", "not_file", *VOTES}
    assert web_tested == IRREVERSIBLE_TRIGGERS


def test_the_api_needs_no_confirmation(api, demo):
    case = aid_to(demo, "submitted")
    r = api.as_("worker1").post(f"/api/v1/cases/aid/{case.id}/transitions/withdraw", json={"version": case.version})
    assert r.status_code == 200, r.get_json()
    assert r.get_json()["state"] == "withdrawn"


def test_a_returned_request_shows_its_reason_at_the_top(app, demo):
    case = aid_to(demo, "submitted")
    fire(case, "return_for_info", demo["staff1"], reason="请补充医院出具的诊断证明")
    html = _as(app, "worker1").get(f"/cases/aid/{case.id}").get_data(as_text=True)
    top = panel(html)
    assert "请补充医院出具的诊断证明" in top and demo["staff1"].name in top
    assert html.index(top) < html.index('class="timeline"')  # above the details, not only in the timeline


def _filed_motion(demo, department: str):
    session = _db.session.scalar(select(CongressSession))
    case = new_case("motion", demo["rep1"], session=session.id)
    fire(case, "open_for_cosigning", demo["rep1"])
    for r in ("rep2", "rep3"):
        fire(case, "cosign", demo[r])
    fire(case, "submit", demo["rep1"])
    fire(case, "file", demo["motions1"], department=department)
    return case


def test_a_motion_being_handled_names_the_departments_handlers_and_its_deadline(app, demo):
    case = _filed_motion(demo, "TECH")
    fire(case, "acknowledge", demo["handler1"])  # the reply deadline counts from the receipt
    html = panel(_as(app, "rep1").get(f"/cases/motion/{case.id}").get_data(as_text=True))
    assert "承办部门" in html and demo["handler1"].name in html and "handler1" not in html
    assert "30 个工作日" in html  # motion_handling_days


def test_a_department_without_handlers_still_shows_whose_turn_it_is(app, demo):
    case = _filed_motion(demo, "HR")
    html = panel(_as(app, "rep1").get(f"/cases/motion/{case.id}").get_data(as_text=True))
    assert "<strong>答复</strong>：承办部门</li>" in html


def test_a_legal_hold_is_no_work_in_the_queue(app, demo):
    from casework.core import engine
    from casework.core.queries import work_page
    withdrawn = new_case("aid", demo["worker1"])
    fire(withdrawn, "withdraw", demo["worker1"], comment="不再需要")
    submitted = aid_to(demo, "submitted")
    staff = demo["staff1"]
    assert engine.available(withdrawn, staff) == ["place_hold"]  # still offered on the case page
    work = dict(work_page(staff, size=50)[0])
    assert withdrawn not in work  # its only step stands open in every state: nothing is waiting
    assert "start_verification" in work[submitted] and "place_hold" not in work[submitted]
    html = _as(app, "staff1").get(f"/cases/aid/{withdrawn.id}").get_data(as_text=True)
    assert 'action="/cases/aid/%s/do/place_hold"' % withdrawn.id in html
