"""Rationalisation proposals end to end: submission with co-proposers, duplicates, evaluation, adoption,
implementation, reward from the reward fund, the written reply, the annual view, who may do what."""
from __future__ import annotations

import pytest
from sqlalchemy import func, select

import workflows
from casework.core import engine, settings
from casework.core.errors import CaseworkError
from casework.core.models import CaseParty
from casework.extensions import db as _db
from casework.funds.models import Fund, LedgerEntry
from casework.notifications.models import Notification
from casework.proposals.models import Proposal, ProposalTerm

from benchmarks import duplicates as duplicates_bench
from benchmarks.duplicates import ORIGINAL, REWORDED, corpus

from .factories import fire, new_case, walk_steps

COMMITTEE = ("committee1", "committee2", "committee3")
EN = {"Accept-Language": "en"}


def score(case, evaluator, value: int, comment: str = "可行"):
    engine.fire(case, "score", evaluator, {"score": value, "comment": comment})
    _db.session.commit()


def walk(demo, state: str, *, author="worker1", scores=(90, 80), **data) -> Proposal:
    """A proposal walked along the happy path until it reaches `state`."""
    case = new_case("proposal", demo[author], **data)
    steps = [
        ("submitted", lambda: fire(case, "submit", demo[author])),
        ("evaluating", lambda: fire(case, "accept", demo["staff1"], evaluators=["evaluator1", "evaluator2"])),
        ("scored", lambda: [score(case, demo[f"evaluator{i + 1}"], s) for i, s in enumerate(scores)]),
        ("graded", lambda: fire(case, "grade", demo["staff1"])),
        ("implementing", lambda: [fire(case, "adopt", demo[c], department="TECH", deadline="2026-12-31")
                                  for c in COMMITTEE]),
        ("implemented", lambda: (fire(case, "acknowledge", demo["handler1"]),
                                 fire(case, "report_implemented", demo["handler1"], result="已改造完成",
                                      benefit="12000.00"))),
        ("rewarded", lambda: [fire(case, "reward", demo[c], comment="予以表彰") for c in COMMITTEE]),
    ]
    return walk_steps(case, state, steps)


def switch(web, username: str):
    web.post("/logout", {}, form_page="/")
    web.login(username)


# -- submission ------------------------------------------------------------------------------

def test_submit_on_the_page_with_coproposers_and_find_it_in_my_proposals(demo, web):
    web.login("worker1")
    r = web.post("/proposals/new", {"title": "冲压车间照明节能", "problem": "车间照明整夜常开",
                                    "suggestion": "加装人体感应开关", "expected_benefit": "每年省电约两万元",
                                    "coproposers": "worker2, leader1", "do": "submit"})
    assert r.status_code == 302, r.get_data(as_text=True)
    case = _db.session.scalar(select(Proposal))
    assert case.state == "submitted" and case.expected_benefit == "每年省电约两万元"
    assert {u.username for u in case.coproposers} == {"worker2", "leader1"}
    assert case.raised_by() >= {demo["worker2"].id, demo["leader1"].id}
    page = web.get("/proposals/mine").get_data(as_text=True)
    assert case.number in page and "冲压车间照明节能" in page
    switch(web, "worker2")  # a co-proposer follows it too
    assert case.number in web.get("/proposals/mine").get_data(as_text=True)


def test_bad_coproposers_are_refused_with_the_form_kept(demo, web):
    web.login("worker1")
    r = web.post("/proposals/new", {"title": "标题", "problem": "问题", "suggestion": "建议",
                                    "coproposers": "nobody_here", "do": "submit"})
    assert r.status_code == 422
    body = r.get_data(as_text=True)
    assert "nobody_here" in body and "标题" in body
    assert _db.session.scalar(select(func.count()).select_from(Proposal)) == 0


def test_api_coproposers_list_and_refusals(demo, api):
    worker = api.as_("worker1")
    base = {"title": "节能", "problem": "浪费电", "suggestion": "感应开关"}
    r = worker.post("/api/v1/cases/proposal", json={**base, "coproposers": ["worker2"]})
    assert r.status_code == 201
    assert [p.user.username for p in _db.session.scalars(select(CaseParty))] == ["worker2"]
    for bad, reason in ((["ghost"], "ghost"), (["worker1"], "author"), ("x" * 3, "xxx"), ([1, 2], "")):
        r = worker.post("/api/v1/cases/proposal", json={**base, "coproposers": bad})
        assert r.status_code == 422 and "coproposers" in r.get_json()["error"]["fields"], bad
    mine = worker.get("/api/v1/proposals/mine").get_json()["items"]
    assert [m["coproposers"] for m in mine] == [["worker2"]]


def test_editing_a_draft_elsewhere_keeps_its_coproposers(demo, web):
    case = new_case("proposal", demo["worker1"], coproposers=["worker2"])
    web.login("worker1")
    r = web.post(f"/cases/proposal/{case.id}/edit", {"title": "新标题", "problem": "p", "suggestion": "s"})
    assert r.status_code == 302
    _db.session.expire_all()
    assert [u.username for u in case.coproposers] == ["worker2"] and case.title == "新标题"


# -- evaluation, adoption, reward ------------------------------------------------------------

def test_from_submission_to_reward_through_the_api(demo, api):
    fund = _db.session.scalar(select(Fund).where(Fund.purpose == "reward"))
    before = fund.balance
    worker = api.as_("worker1")
    case = worker.post("/api/v1/cases/proposal", json={"title": "交接单电子化", "problem": "夜班交接慢",
                                                       "suggestion": "平板录入"}).get_json()
    url = f"/api/v1/cases/proposal/{case['id']}"

    def go(who, trigger, **body):
        r = api.as_(who).post(f"{url}/transitions/{trigger}", json=body)
        assert r.status_code == 200, (who, trigger, r.get_json())
        return r.get_json()

    go("worker1", "submit")
    go("staff1", "accept", evaluators=["evaluator1", "evaluator2"])
    assert {n.user.username for n in _db.session.scalars(select(Notification))} >= {"evaluator1", "evaluator2"}
    queue = api.as_("evaluator1").get("/api/v1/queue").get_json()["items"]
    assert [(q["case"]["id"], q["transitions"]) for q in queue] == [(case["id"], ["score"])]
    go("evaluator1", "score", score=92, comment="效益明显")
    go("evaluator2", "score", score=84, comment="可推广")
    out = go("staff1", "grade")
    assert out["grade"] == "excellent" and out["mean_score"] == 88.0
    for c in COMMITTEE:
        out = go(c, "adopt", department="TECH", deadline="2026-12-31")
    assert out["state"] == "implementing" and out["deadline"] == "2026-12-31"
    go("handler1", "acknowledge")
    out = go("handler1", "report_implemented", result="已全车间推广", benefit="30000.00")
    assert out["benefit"] == "30000.00"
    for c in COMMITTEE:
        out = go(c, "reward", bonus="100.00", comment="予以表彰")
    assert out["state"] == "rewarded" and out["reward"] == "600.00"
    assert "优秀" in out["reply"] and "600.00" in out["reply"] and "予以表彰" in out["reply"]
    _db.session.refresh(fund)
    assert before - fund.balance == 60000
    line = _db.session.scalar(select(LedgerEntry).where(LedgerEntry.case_id == case["id"]))
    assert line.kind == "payment" and line.amount == 60000 and line.fund_id == fund.id
    # The proposer sees the reply, not the evaluators' notes.
    mine = worker.get(f"{url}").get_json()
    assert mine["reply"] and "scores" not in api.as_("worker1").get("/api/v1/proposals/mine").get_json()["items"][0]


def test_grade_follows_the_units_thresholds_and_reward_its_amounts(demo):
    case = walk(demo, "graded", scores=(85, 85))
    assert case.grade == "excellent"
    settings.put(case.unit, "grade_thresholds", [90, 80, 60])
    settings.put(case.unit, "reward_good", 30000)
    _db.session.commit()
    case = walk(demo, "rewarded", scores=(85, 85))
    assert case.grade == "good" and case.reward == 30000


def test_bad_thresholds_refuse_grading_with_a_reason(demo):
    case = walk(demo, "scored")
    settings.put(case.unit, "grade_thresholds", [60, 70, 85])
    _db.session.commit()
    with pytest.raises(CaseworkError) as err:
        engine.fire(case, "grade", demo["staff1"])
    _db.session.rollback()
    assert err.value.status == 422 and err.value.code == "guard"


def test_below_general_cannot_be_adopted(demo, api):
    case = walk(demo, "graded", scores=(40, 50))
    assert case.grade == "not_adopted"
    r = api.as_("committee1").post(f"/api/v1/cases/proposal/{case.id}/transitions/adopt", headers=EN,
                                   json={"department": "TECH", "deadline": "2026-12-31"})
    assert r.status_code == 422 and "General or better" in r.get_json()["error"]["message"]


def test_scoring_twice_and_unassigned_scoring_are_refused_with_reasons(demo, api):
    case = walk(demo, "evaluating")
    url = f"/api/v1/cases/proposal/{case.id}/transitions/score"
    assert api.as_("evaluator1").post(url, json={"score": 80, "comment": "好"}).status_code == 200
    r = api.as_("evaluator1").post(url, json={"score": 60, "comment": "改主意"}, headers=EN)
    assert r.status_code == 422 and r.get_json()["error"]["message"] == "You have already scored this proposal."
    r = api.as_("evaluator2").post(url, json={"score": 101, "comment": "x"})
    assert r.status_code == 422 and "score" in r.get_json()["error"]["fields"]
    r = api.as_("staff1").post(f"/api/v1/cases/proposal/{case.id}/transitions/grade", json={})
    assert r.status_code == 422  # evaluator2 has not scored
    r = api.as_("committee1").post(url, json={"score": 70, "comment": "x"})
    assert r.status_code == 403


# -- every proposal ends with a written reply ------------------------------------------------

def test_every_final_state_is_reached_only_through_a_written_reply():
    wf = workflows.get("proposal")
    for t in wf.transitions:
        if t.dest in wf.final and t.dest not in t.source:  # rating a final reply leaves it as it ended
            replies = [f for f in t.fields if f.name == "reply" and f.type == "text" and f.required]
            # `close` leaves `rewarded`, which only `reward` enters; its pay_reward effect writes the reply.
            assert replies or (t.trigger == "close" and t.source == ("rewarded",)), t.trigger
    assert all(t.dest != "rewarded" or "pay_reward" in t.effects or t.source == ("rewarded",)
               for t in wf.transitions)


@pytest.mark.parametrize("end", ["declined", "not_adopted", "rewarded"])
def test_each_ending_leaves_a_reply_for_the_proposer(demo, end):
    if end == "declined":
        case = walk(demo, "submitted")
        with pytest.raises(CaseworkError):
            engine.fire(case, "decline", demo["staff1"], {"reply": "  "})
        _db.session.rollback()
        fire(case, "decline", demo["staff1"], reply="已有同类改进在实施")
    elif end == "not_adopted":
        case = walk(demo, "graded")
        for c in COMMITTEE:
            fire(case, "not_adopt", demo[c], reply="暂不具备实施条件")
    else:
        case = walk(demo, "rewarded")
    assert case.state == end and case.reply.strip()
    notes = _db.session.scalars(select(Notification).where(Notification.user_id == demo["worker1"].id)).all()
    assert notes, "the proposer is told"


# -- conflict of interest (回避) --------------------------------------------------------------

def test_a_coproposer_cannot_be_assigned_as_evaluator(demo, api):
    case = new_case("proposal", demo["worker1"], coproposers=["evaluator2"])
    fire(case, "submit", demo["worker1"])
    r = api.as_("staff1").post(f"/api/v1/cases/proposal/{case.id}/transitions/accept", headers=EN,
                               json={"evaluators": ["evaluator1", "evaluator2"]})
    assert r.status_code == 422 and "raised this case" in r.get_json()["error"]["message"]


@pytest.mark.parametrize("role, who, state, trigger, data", [
    ("evaluator", "evaluator1", "evaluating", "score", {"score": 80, "comment": "x"}),
    ("committee member", "committee1", "graded", "adopt", {"department": "TECH", "deadline": "2026-12-31"}),
    ("committee member", "committee1", "implemented", "reward", {}),
    ("handler", "handler1", "implementing", "report_implemented", {"result": "r", "benefit": "1.00"}),
])
def test_who_proposed_a_case_cannot_review_it(demo, role, who, state, trigger, data):
    case = walk(demo, state)
    # Co-proposers are fixed at submission; here one is added afterwards to hold both roles at once.
    case.parties.append(CaseParty(user_id=demo[who].id, role="coproposer"))
    _db.session.commit()
    assert trigger not in engine.available(case, demo[who])
    with pytest.raises(CaseworkError) as err:
        engine.fire(case, trigger, demo[who], data)
    _db.session.rollback()
    assert err.value.code == "conflict_of_interest" and err.value.status == 403, role


# -- who may do what, state by state ---------------------------------------------------------

ALLOWED = {  # state -> trigger -> who may fire it (everyone else of PEOPLE is refused)
    "draft": {"submit": {"worker1"}},
    "submitted": {"accept": {"staff1"}, "decline": {"staff1"}},
    "evaluating": {"score": {"evaluator1", "evaluator2"}, "grade": {"staff1"}},
    "graded": {"adopt": set(COMMITTEE), "not_adopt": set(COMMITTEE)},
    "implementing": {t: {"handler1"} for t in ("acknowledge", "return_misrouted", "report_implemented", "progress")},
    "implemented": {"reward": set(COMMITTEE), "rate": {"worker1"}},  # the proposer rates the implementation
}
PEOPLE = ("worker1", "worker2", "staff1", "committee1", "evaluator1", "handler1", "rep1", "admin")


@pytest.mark.parametrize("state", sorted(ALLOWED))
def test_available_steps_per_state_and_person(demo, state):
    case = walk(demo, state if state != "evaluating" else "evaluating")
    assert case.state == state
    for who in PEOPLE:
        expected = [t for t, people in ALLOWED[state].items() if who in people]
        assert engine.available(case, demo[who]) == expected, (state, who)
        for trigger in ALLOWED[state]:
            if who in ALLOWED[state][trigger]:
                continue
            with pytest.raises(CaseworkError) as err:
                engine.fire(case, trigger, demo[who], {})
            _db.session.rollback()
            assert err.value.status == 403 and str(err.value.message), (state, who, trigger)


def test_steps_of_another_state_are_refused_as_not_possible(demo, api):
    case = walk(demo, "submitted")
    r = api.as_("staff1").post(f"/api/v1/cases/proposal/{case.id}/transitions/grade", json={})
    assert r.status_code == 409 and r.get_json()["error"]["code"] == "not_possible"


# -- duplicates ------------------------------------------------------------------------------

def seed(author, rows):
    return duplicates_bench.seed(author, rows)


def test_a_reworded_earlier_proposal_is_found_among_hundreds(demo, api):
    original = seed(demo["worker2"], corpus(150) + [ORIGINAL] + corpus(150, seed=8))[150]
    case = new_case("proposal", demo["worker1"], **REWORDED)
    fire(case, "submit", demo["worker1"])
    assert _db.session.scalar(select(func.count()).select_from(ProposalTerm)
                              .where(ProposalTerm.proposal_id == case.id)) > 5
    r = api.as_("staff1").get(f"/api/v1/cases/proposal/{case.id}/duplicates")
    assert r.status_code == 200
    items = r.get_json()["items"]
    assert items and items[0]["id"] == original.id and items[0]["similarity"] >= r.get_json()["threshold"]
    assert all(i["similarity"] < items[0]["similarity"] for i in items[1:])
    # The proposer, and anyone who is not staff, does not see the list.
    assert api.as_("worker1").get(f"/api/v1/cases/proposal/{case.id}/duplicates").status_code == 403
    assert api.as_("evaluator1").get(f"/api/v1/cases/proposal/{case.id}/duplicates").status_code == 404


def test_an_unrelated_proposal_has_no_duplicates(demo, api):
    seed(demo["worker2"], corpus(100))
    case = new_case("proposal", demo["worker1"], title="建立职工读书角", problem="午休时间职工无处阅读",
                    suggestion="在办公楼一层设立读书角，定期更新书目")
    fire(case, "submit", demo["worker1"])
    assert api.as_("staff1").get(f"/api/v1/cases/proposal/{case.id}/duplicates").get_json()["items"] == []


def test_staff_mark_a_duplicate_on_the_page_which_answers_it_with_a_link(demo, web):
    original = walk(demo, "submitted", author="worker2", **ORIGINAL)
    case = walk(demo, "submitted", **REWORDED)
    web.login("staff1")
    page = web.get(f"/proposals/{case.id}/duplicates").get_data(as_text=True)
    assert original.number in page and "mark-duplicate" in page
    r = web.post(f"/proposals/{case.id}/duplicate", {"original": str(original.id), "version": str(case.version)},
                 form_page=f"/proposals/{case.id}/duplicates")
    assert r.status_code == 302
    _db.session.expire_all()
    assert case.state == "declined" and original.number in case.reply
    switch(web, "worker1")
    page = web.get("/proposals/mine").get_data(as_text=True)
    assert f'href="/cases/proposal/{original.id}"' in page
    assert web.get(f"/proposals/{case.id}/duplicates").status_code == 403


def test_marking_duplicates_through_the_api_and_its_refusals(demo, api):
    original = walk(demo, "submitted", author="worker2", **ORIGINAL)
    case = walk(demo, "submitted", **REWORDED)
    third = walk(demo, "submitted", author="worker3", **REWORDED)
    url = f"/api/v1/cases/proposal/{case.id}/duplicate-of"
    assert api.as_("worker1").post(url, json={"original": original.number}).status_code == 403
    r = api.as_("staff1").post(url, json={"original": "P1999-00001"})
    assert r.status_code == 422 and "original" in r.get_json()["error"]["fields"]
    assert api.as_("staff1").post(url, json={"original": case.id}).status_code == 422
    r = api.as_("staff1").post(url, json={"original": original.number, "version": case.version - 1})
    assert r.status_code == 409
    r = api.as_("staff1").post(url, json={"original": original.number, "comment": "请关注原建议"})
    assert r.status_code == 200, r.get_json()
    out = r.get_json()
    assert out["state"] == "declined" and out["duplicate_of"] == {"id": original.id, "number": original.number}
    assert "请关注原建议" in out["reply"]
    # A duplicate is not an original; and what is answered cannot be answered again.
    r = api.as_("staff1").post(f"/api/v1/cases/proposal/{third.id}/duplicate-of", json={"original": case.id})
    assert r.status_code == 422 and original.number in r.get_json()["error"]["message"]
    assert api.as_("staff1").post(url, json={"original": original.number}).status_code == 409


# -- the annual view -------------------------------------------------------------------------

def test_annual_figures_per_unit(demo, api, web, clock):
    walk(demo, "rewarded", scores=(90, 90))                      # excellent, implemented, rewarded
    walk(demo, "implementing", author="worker2", scores=(75, 75))  # good, adopted
    walk(demo, "graded", author="worker3", scores=(60, 64))        # general
    walk(demo, "submitted")
    new_case("proposal", demo["worker1"])                        # a draft is not collected
    staff = api.as_("staff1")
    hq = demo["staff1"].unit
    r = staff.get(f"/api/v1/proposals/annual?unit={hq.id}&year=2026")
    assert r.status_code == 200, r.get_json()
    total = r.get_json()["total"]
    assert total == {"collected": 4, "graded": {"excellent": 1, "good": 1, "general": 1}, "adopted": 2,
                     "implemented": 1, "benefit": "12000.00", "rewarded": 1, "rewards_paid": "500.00"}
    units = {u["unit_name"]: u["collected"] for u in r.get_json()["units"]}
    assert units == {"一车间小组": 2, "二车间小组": 1, "综合办公室小组": 1}
    assert staff.get(f"/api/v1/proposals/annual?unit={hq.id}&year=2025").get_json()["total"]["collected"] == 0
    assert staff.get("/api/v1/proposals/annual?year=abc").status_code == 400
    assert api.as_("worker1").get("/api/v1/proposals/annual").status_code == 403
    web.login("committee1")
    page = web.get(f"/proposals/annual?unit={hq.id}&year=2026").get_data(as_text=True)
    assert "12000.00" in page and "500.00" in page
    switch(web, "worker1")
    assert web.get("/proposals/annual").status_code == 403


def test_proposal_pages_and_openapi_answer(demo, web, client):
    case = walk(demo, "submitted")
    web.login("staff1")
    assert web.get("/proposals/new").status_code == 200
    assert web.get(f"/proposals/{case.id}/duplicates").status_code == 200
    assert web.get("/proposals/999999/duplicates").status_code == 404
    paths = client.get("/api/v1/openapi.json").get_json()["paths"]
    assert {"/api/v1/proposals/annual", "/api/v1/proposals/mine", "/api/v1/cases/proposal/{case_id}/duplicates",
            "/api/v1/cases/proposal/{case_id}/duplicate-of"} <= set(paths)


def test_evaluators_score_on_the_evaluation_page_once(demo, web):
    case = walk(demo, "evaluating")
    web.login("evaluator1")
    page = web.get(f"/proposals/{case.id}/score").get_data(as_text=True)
    assert case.problem in page
    r = web.post(f"/proposals/{case.id}/score", {"score": "88", "comment": "可在全厂推广"})
    assert r.status_code == 302
    r = web.post(f"/proposals/{case.id}/score", {"score": "50", "comment": "再评一次"})
    assert r.status_code == 422 and "您已对此建议评过分" in r.get_data(as_text=True)
    r = web.post(f"/proposals/{case.id}/score", {"score": "101", "comment": "x"},
                 form_page=f"/proposals/{case.id}/score")
    assert r.status_code == 422
    from casework.proposals.models import ProposalScore
    assert [(s.score, s.comment) for s in _db.session.scalars(select(ProposalScore))] == [(88, "可在全厂推广")]


def test_the_case_page_panel_lists_duplicates_for_staff_only(demo, app):
    from flask import render_template
    original = walk(demo, "submitted", author="worker2", **ORIGINAL)
    case = walk(demo, "submitted", coproposers=["worker3"], **REWORDED)
    with app.test_request_context():
        staff = render_template("proposals/_case_panel.html", case=case, current_user=demo["staff1"])
        author = render_template("proposals/_case_panel.html", case=case, current_user=demo["worker1"])
    assert original.number in staff and "mark-duplicate" in staff and "欧阳明" in staff
    assert original.number not in author and "mark-duplicate" not in author and "欧阳明" in author
