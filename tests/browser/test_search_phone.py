"""On a phone: a worker finds a proposal by a Chinese word from the header's box, and sees similar earlier
proposals while writing a new one."""
from __future__ import annotations

import pytest

from .conftest import sign_in

PHONE = {"width": 390, "height": 844}  # the phone


@pytest.fixture
def browser_context_args(browser_context_args) -> dict:
    return {**browser_context_args, "viewport": PHONE}


def _submitted(live_user: str, **data):
    from casework.extensions import db
    from tests.factories import fire, new_case
    from casework.accounts.models import User
    try:
        user = db.session.scalar(db.select(User).where(User.username == live_user))
        case = new_case("proposal", user, **data)
        fire(case, "submit", user)
        return case.number
    finally:
        db.session.rollback()


def test_search_by_a_chinese_word_and_similar_proposals_on_a_phone(live, page):
    number = _submitted("worker3", title="一车间照明加装感应开关", problem="通道照明长明，夜间无人时浪费电能",
                        suggestion="在通道和库区照明回路加装人体感应开关")
    sign_in(page, live, "worker3")
    page.fill("#header-q", "感应开关")
    with page.expect_navigation():
        page.press("#header-q", "Enter")
    page.wait_for_selector(f"text={number}")
    assert page.evaluate("document.documentElement.scrollWidth") <= 390 + 1  # nothing wider than the phone
    page.goto(live + "/proposals/new")
    page.fill("input[name=title]", "照明加装感应开关")
    page.wait_for_selector(f"#similar >> text={number}")  # fetched by the page's script as the author types
