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


def _header_search(page, q: str) -> list[str]:
    """Search from the header's box; the case numbers of the results."""
    page.fill("#header-q", q)
    with page.expect_navigation():
        page.press("#header-q", "Enter")
    assert page.input_value("#header-q") == q  # the box keeps what was typed
    return page.locator("table.cards td[data-label='编号'] a").all_inner_texts()


def test_search_by_a_partial_case_number_on_a_phone(live, page, demo):
    from casework.extensions import db
    from tests.factories import attach, fire, new_case
    worker = demo["worker1"]
    try:
        first = new_case("proposal", worker, title="二车间通道加装防滑地垫")
        second = new_case("proposal", worker, title="更衣室增设储物柜")
        aid = new_case("aid", worker)
        attach(aid, "income_proof", worker)
        for case in (first, second, aid):
            fire(case, "submit", worker)
        numbers = first.number, second.number, aid.number
    finally:
        db.session.rollback()  # the served app writes: this thread holds no transaction
    first_no, second_no, aid_no = numbers
    assert first_no[-5:] == aid_no[-5:]  # each kind counts on its own: the last digits are shared
    sign_in(page, live, "worker1")

    found = _header_search(page, second_no[-5:])  # the last digits of the case code
    assert second_no in found and first_no not in found and aid_no not in found
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"] + 1

    found = _header_search(page, first_no[1:])  # with the year prefix, without the kind's letter
    assert first_no in found and aid_no in found and second_no not in found

    found = _header_search(page, aid_no.lower())  # the whole code, typed in lower case
    assert found == [aid_no]
    row = page.locator("table.cards tr", has_text=aid_no)
    assert "困难帮扶" in row.inner_text() and "已提交" in row.inner_text()
    with page.expect_navigation():
        row.locator("a").click()
    assert aid_no in page.inner_text("h1")
