"""督办 on a 390-px phone: the handling department signs for (签收) a filed motion, answers the red slip union
staff issue on it, and the supervision board then shows the department's answered red slip and its figures."""
from __future__ import annotations

from pathlib import Path

import pytest

from .conftest import act, answer_slip, issue_slip, sign_in
from .test_supervision import filed  # noqa: F401  (the fixture: a motion filed to 生产技术部, not signed for)

PHONE = {"width": 390, "height": 844}
DOCS = Path(__file__).resolve().parents[2] / "docs"
SHOTS = Path("/tmp/casework-browser-shots")


@pytest.fixture()
def browser_context_args(browser_context_args) -> dict:
    return {**browser_context_args, "viewport": PHONE}


def _fits(page) -> None:
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"], page.url


def test_on_a_phone_the_department_signs_for_answers_a_red_slip_and_the_board_shows_it(live, filed, page):  # noqa: F811
    from casework.core.models import Case
    from casework.extensions import db
    case_id, number = filed
    SHOTS.mkdir(parents=True, exist_ok=True)

    # 签收: the motion waits in the department's work for its receipt.
    sign_in(page, live, "handler1")
    page.goto(live + "/work")
    _fits(page)
    with page.expect_navigation():
        page.click(f"a:has-text('{number}')")
    assert page.locator(".awaiting-receipt").is_visible()
    act(page, "acknowledge")
    assert page.locator(".flash.success").count()
    assert page.locator(".awaiting-receipt").count() == 0
    try:
        assert db.session.get(Case, case_id).deadline is not None  # the reply deadline counts from now
    finally:
        db.session.rollback()
    _fits(page)

    # Union staff issue a red slip from the case page.
    slip_number = issue_slip(page, live, case_id, "请本周内答复办理情况")

    # The department finds it at the top of its work and answers on the slip.
    def on_the_phone(step):
        _fits(page)
        if step == "filled":
            assert "请本周内答复办理情况" in page.inner_text("section.card")
            box = page.locator("form[action$='/answer'] textarea[name=answer]").bounding_box()
            assert box["x"] >= 0 and box["x"] + box["width"] <= PHONE["width"]
    answer_slip(page, live, slip_number, "已清理被占用的休息室，设施下周配齐", check=on_the_phone)
    assert "按期" in page.inner_text("dl.details")
    _fits(page)
    page.screenshot(path=str(SHOTS / "phone-slip.png"), full_page=True)

    # The committee's board: the department's answered red slip, on time, its open item.
    sign_in(page, live, "committee1")
    page.goto(live + "/supervision")
    _fits(page)
    row = page.locator("table.supervision-board tbody tr", has=page.locator("td.dept", has_text="生产技术部"))
    assert row.count() == 1
    assert row.locator("td.slip-red").inner_text() == "1"
    assert row.locator("td", has_text="%").first.inner_text().startswith("100%")
    # On a phone the header row is hidden: each cell names its column.
    labels = row.locator("td").evaluate_all(
        "tds => tds.map(td => getComputedStyle(td, '::before').content)")
    assert all(label not in ("none", "normal", "") for label in labels), labels
    slip_row = page.locator("table.open-slips tbody tr", has_text=slip_number)
    assert slip_row.count() == 1 and number in slip_row.inner_text()
    assert "已答复" in slip_row.inner_text()
    page.screenshot(path=str(SHOTS / "phone-board.png"), full_page=True)
    DOCS.mkdir(exist_ok=True)
    page.screenshot(path=str(DOCS / "phone-supervision.png"), full_page=True)
