"""On a 390-px phone the case page opens with what happens next, and the workflow drawing fits the screen."""
from __future__ import annotations

from pathlib import Path

import pytest

from casework.extensions import db

from ..factories import aid_to
from .conftest import sign_in

PHONE = {"width": 390, "height": 844}
SHOT = Path(__file__).resolve().parents[2] / "docs" / "phone-case-next-step.png"


@pytest.fixture()
def browser_context_args(browser_context_args) -> dict:
    return {**browser_context_args, "viewport": PHONE}


def test_case_page_on_a_phone_shows_the_next_step_and_the_drawing(live, page, demo):
    case = aid_to(demo, "submitted")
    case_id, staff_name = case.id, demo["staff1"].name
    db.session.rollback()  # the served app writes (its reads log): this thread holds no transaction
    sign_in(page, live, "worker1")
    page.goto(f"{live}/cases/aid/{case_id}")
    panel = page.locator("section.next-step")
    assert panel.is_visible()
    text = panel.inner_text()
    assert "已提交" in text and staff_name in text and "个工作日" in text
    # The panel comes first: above the details and the timeline.
    assert panel.bounding_box()["y"] < page.locator("ol.timeline").bounding_box()["y"]
    panel.locator("details.wf-details > summary").click()
    drawing = panel.locator("svg.wf-drawing")
    assert drawing.is_visible()
    box = drawing.bounding_box()
    assert box["x"] >= 0 and box["x"] + box["width"] <= PHONE["width"]
    assert drawing.locator("g.wf-current").get_attribute("data-state") == "submitted"
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    SHOT.parent.mkdir(exist_ok=True)
    panel.screenshot(path=str(SHOT))

    page.goto(f"{live}/help/workflows")
    assert page.locator("svg.wf-drawing").count() == 3
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
