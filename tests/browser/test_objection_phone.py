"""On a 390-px phone: someone objects to an aid request on the public board, anonymously, solving the human
check; each committee member reads the objection on the case page beside the vote, and the third vote
dismisses it."""
from __future__ import annotations

import re

import pytest

from .conftest import act, sign_in

PHONE = {"width": 390, "height": 844}
DIGITS = "零一二三四五六七八九十"
TEXT = "此人家庭并不困难，另有商铺出租"


@pytest.fixture()
def browser_context_args(browser_context_args) -> dict:
    return {**browser_context_args, "viewport": PHONE}


def _posted_case(app) -> tuple[int, int]:
    """An aid request of worker1 on the board now: (case id, posting id). Made in a thread of its own: the
    page's event loop runs in this one, and signing the notices runs one of its own."""
    from concurrent.futures import ThreadPoolExecutor

    def made():
        with app.app_context():
            return _post_one()
    with ThreadPoolExecutor(1) as pool:
        return pool.submit(made).result()


def _post_one() -> tuple[int, int]:
    from sqlalchemy import select

    from casework.accounts.models import User
    from casework.disclosure.models import DisclosureItem
    from casework.extensions import db
    from tests.factories import aid_to

    class Users:
        def __getitem__(self, name):
            return db.session.scalar(select(User).where(User.username == name))
    try:
        case = aid_to(Users(), "posted")
        item = db.session.scalar(select(DisclosureItem).where(DisclosureItem.case_id == case.id))
        return case.id, item.disclosure_id
    finally:
        db.session.rollback()


def _answer(question: str) -> str:
    a, b = re.match(rf"([{DIGITS}])加([{DIGITS}])等于几", question).groups()
    return str(DIGITS.index(a) + DIGITS.index(b))


def test_an_objection_from_the_board_is_read_and_decided_by_the_committee_on_a_phone(app, live, page):
    case_id, posting = _posted_case(app)
    page.goto(f"{live}/board/{posting}")
    page.fill("textarea[name=text]", TEXT)
    page.fill("input[name=human]", _answer(page.inner_text("label[for=human]")))
    with page.expect_navigation():
        page.click("form[action$='/objections'] button[type=submit]")
    assert not page.locator(".form-error, small.error").count()
    for i in (1, 2, 3):
        sign_in(page, live, f"committee{i}")
        page.goto(f"{live}/cases/aid/{case_id}")
        panel = page.inner_text("section.objections")
        assert TEXT in panel  # the objection's words beside the vote, before deciding
        assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
        act(page, "dismiss_objection", {"answer": "经再次走访核实，情况属实"})
    assert "已答复" in page.inner_text("section.objections")
