"""督办 in Chromium: staff issue a red slip on a motion, the department answers it from its queue, and the
supervision board shows the answered red slip against the department."""
from __future__ import annotations

import threading

import pytest
from sqlalchemy import select

from ..factories import fire, new_case
from .conftest import answer_slip, issue_slip, sign_in as as_user


@pytest.fixture()
def filed(app, live):
    """A motion filed to 生产技术部 (made in a thread of its own: signing the filing notice runs an event loop,
    and Playwright's runs in this one)."""
    out = {}

    def make():
        from casework.accounts.models import User
        from casework.core.models import CongressSession
        from casework.extensions import db
        with app.app_context():
            who = {u.username: u for u in db.session.scalars(select(User))}
            session = db.session.scalar(select(CongressSession))
            case = new_case("motion", who["rep1"], session=session.id, title="关于规范职工休息室管理的提案",
                            reasons="休息室被挪作仓库", proposal_text="清理并配齐设施")
            for trigger, name, data in (("open_for_cosigning", "rep1", {}), ("cosign", "rep2", {}),
                                        ("cosign", "rep3", {}), ("submit", "rep1", {}),
                                        ("file", "motions1", {"department": "TECH", "deadline": "2026-12-10"})):
                fire(case, trigger, who[name], **data)
            db.session.commit()
            out["case"] = case.id, case.number
            db.session.remove()

    worker = threading.Thread(target=make)
    worker.start()
    worker.join()
    return out["case"]


def test_the_department_answers_a_red_slip_and_the_board_shows_it(live, filed, page):
    case_id, number = filed
    slip_number = issue_slip(page, live, case_id, "请本周内答复")
    answer_slip(page, live, slip_number, "已清理被占用的休息室，设施下周配齐")

    as_user(page, live, "committee1")
    page.goto(live + "/supervision")
    row = page.locator("table.supervision-board tr:has-text('生产技术部')")
    cells = row.locator("td").all_inner_texts()
    assert cells[1] == "生产技术部" and cells[2] == "1"  # one open item
    assert cells[5] == "1"  # one red slip
    assert cells[7].startswith("100%")  # answered by its reply-by date
    assert page.locator(f"table.open-slips tr:has-text('{slip_number}')").count() == 1
    assert number in page.inner_text("table.open-slips")
