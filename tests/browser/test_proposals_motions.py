"""A proposal from submission to reward, and a motion from draft to closed, clicked through in Chromium."""
from __future__ import annotations

from sqlalchemy import select

from .conftest import act, sign_in as as_user


def state_of(case_id: int, model):
    # End the read at once: an open transaction here would lock SQLite for the served app.
    from casework.extensions import db
    db.session.expire_all()
    try:
        return db.session.get(model, case_id).state
    finally:
        db.session.rollback()


def only(model):
    """(id, number, session id or None) of the one case of `model`, read without keeping a transaction."""
    from casework.extensions import db
    try:
        case = db.session.scalar(select(model))
        return case.id, case.number, getattr(case, "session_id", None)
    finally:
        db.session.rollback()


def test_a_proposal_from_submission_to_reward(live, page):
    from casework.proposals.models import Proposal
    as_user(page, live, "worker1")
    page.goto(live + "/proposals/new")
    page.fill("input[name=title]", "冲压车间照明加装感应开关")
    page.fill("textarea[name=problem]", "车间照明整夜常开，无人时也亮着")
    page.fill("textarea[name=suggestion]", "通道和库区加装人体感应开关")
    page.fill("textarea[name=expected_benefit]", "每年节电约两万元")
    page.fill("input[name=coproposers]", "worker2")
    with page.expect_navigation():
        page.click('button[name=do][value=submit]')
    page.wait_for_selector("h1 >> text=P20")
    case_id, number, _ = only(Proposal)
    url = f"{live}/cases/proposal/{case_id}"
    assert state_of(case_id, Proposal) == "submitted"

    as_user(page, live, "staff1")
    page.goto(url)
    act(page, "accept", {"evaluators": "evaluator1, evaluator2"})
    for who, score in (("evaluator1", "90"), ("evaluator2", "86")):
        as_user(page, live, who)
        page.goto(live + "/work")
        with page.expect_navigation():
            page.click(f"text={number}")
        # The evaluation page (the generic case form cannot carry a step's own `comment` input yet).
        page.goto(f"{live}/proposals/{case_id}/score")
        page.fill("input[name=score]", score)
        page.fill("textarea[name=comment]", "节能效果明显")
        with page.expect_navigation():
            page.click("form.form button[type=submit]")
        assert page.locator(".flash.success").count()
    as_user(page, live, "staff1")
    page.goto(url)
    act(page, "grade")
    assert state_of(case_id, Proposal) == "graded"
    for who in ("committee1", "committee2", "committee3"):
        as_user(page, live, who)
        page.goto(url)
        act(page, "adopt", {"deadline": "2026-12-31"}, {"department": "生产技术部"})
    assert state_of(case_id, Proposal) == "implementing"
    as_user(page, live, "handler1")
    page.goto(url)
    act(page, "acknowledge")  # 签收: the implementation deadline counts from here
    act(page, "report_implemented", {"result": "全车间已加装", "benefit": "20000.00"})
    for who in ("committee1", "committee2", "committee3"):
        as_user(page, live, who)
        page.goto(url)
        act(page, "reward", {"comment": "予以表彰"})
    assert state_of(case_id, Proposal) == "rewarded"

    as_user(page, live, "worker1")
    page.goto(live + "/proposals/mine")
    row = page.locator(f"tr:has-text('{number}')")
    assert "500.00" in row.inner_text() and "优秀" in row.inner_text()


def test_a_motion_from_draft_to_closed_with_one_reopening(live, page):
    from casework.motions.models import Motion
    as_user(page, live, "rep1")
    page.goto(live + "/cases/motion/new")
    page.fill("input[name=title]", "关于改善职工食堂就餐环境的提案")
    page.fill("textarea[name=reasons]", "午餐高峰排队时间长")
    page.fill("textarea[name=proposal_text]", "增加售餐窗口，实行错峰就餐")
    with page.expect_navigation():
        page.click("form.form button[type=submit]")
    page.wait_for_selector("h1 >> text=M20")
    case_id, number, session_id = only(Motion)
    url = f"{live}/cases/motion/{case_id}"
    act(page, "open_for_cosigning")
    for who in ("rep2", "rep3"):
        as_user(page, live, who)
        page.goto(url)
        act(page, "cosign")
    as_user(page, live, "rep1")
    page.goto(url)
    act(page, "submit")
    as_user(page, live, "motions1")
    page.goto(url)
    act(page, "file", selects={"department": "生产技术部"})
    assert state_of(case_id, Motion) == "handling"

    # The department's handler finds it in the queue awaiting receipt (签收), and signs for it.
    as_user(page, live, "handler1")
    page.goto(live + "/work")
    row = page.locator(f"tr:has-text('{number}')")
    assert "签收" in row.inner_text()
    with page.expect_navigation():
        row.locator(f"text={number}").click()
    assert "等待生产技术部签收" in page.inner_text(".handling-panel")
    act(page, "acknowledge")
    panel = page.inner_text(".handling-panel")
    assert "等待生产技术部签收" not in panel and "签收日期" in panel
    assert state_of(case_id, Motion) == "handling"
    act(page, "reply", {"text": "已增设两个售餐窗口"})
    as_user(page, live, "rep1")
    page.goto(url)
    act(page, "rate_unsatisfied", {"comment": "高峰时段仍然拥挤"})
    assert state_of(case_id, Motion) == "handling"
    as_user(page, live, "handler1")
    page.goto(url)
    act(page, "reply", {"text": "另设流动售餐车，延长供餐时间"})
    as_user(page, live, "rep1")
    page.goto(url)
    act(page, "rate", selects={"attitude": "满意", "result": "满意"})
    assert state_of(case_id, Motion) == "closed"

    as_user(page, live, "motions1")
    page.goto(f"{live}/sessions/{session_id}/report")
    row = page.locator(f"tr:has-text('{number}')")
    assert "满意" in row.inner_text() and "生产技术部" in row.inner_text()
