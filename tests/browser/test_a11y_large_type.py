"""On a 390-px phone an older worker turns on 大字: the text grows, the choice survives the next page
(served with it, so no script is needed to apply it), and the skip link leads to the content."""
from __future__ import annotations

from pathlib import Path

import pytest

from .conftest import sign_in

PHONE = {"width": 390, "height": 844}
SHOT = Path(__file__).resolve().parents[2] / "docs" / "phone-large-type.png"


@pytest.fixture
def browser_context_args(browser_context_args) -> dict:
    return {**browser_context_args, "viewport": PHONE}


def _base_size(page) -> float:
    return float(page.evaluate("parseFloat(getComputedStyle(document.body).fontSize)"))


def test_large_type_on_a_phone_is_remembered(live, page):
    sign_in(page, live, "worker1")
    page.goto(live + "/work")
    normal = _base_size(page)
    toggle = page.get_by_role("button", name="大字")
    assert toggle.get_attribute("aria-pressed") == "false"
    toggle.click()
    assert toggle.get_attribute("aria-pressed") == "true"
    assert _base_size(page) > normal

    page.goto(live + "/cases")
    assert "large-type" in page.locator("html").get_attribute("class")  # set by the server from the cookie
    assert _base_size(page) > normal
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"] + 1
    SHOT.parent.mkdir(exist_ok=True)
    page.screenshot(path=str(SHOT))

    page.keyboard.press("Tab")
    skip = page.locator("a.skip-link")
    assert skip.inner_text() == "跳到正文" and skip.evaluate("el => el === document.activeElement")
    assert skip.bounding_box()["y"] >= 0  # shown when focused

    page.get_by_role("button", name="大字").click()
    page.goto(live + "/work")
    assert _base_size(page) == normal
