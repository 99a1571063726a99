"""A worker's aid request on a 390-px phone: submitted, returned by union staff with a reason, changed and
resubmitted; at each step the people concerned find the in-app notification in /notifications."""
from __future__ import annotations

import pytest

from .conftest import PDF, act, apply_for_hardship, sign_in

PHONE = {"width": 390, "height": 844}
REASON = "请补充爱人的住院费用清单，并说明家庭月收入的构成"


@pytest.fixture()
def browser_context_args(browser_context_args) -> dict:
    return {**browser_context_args, "viewport": PHONE}


def fits(page) -> None:
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"], page.url


def inbox(page, live: str) -> list[str]:
    """The notifications' texts as the person reads them, newest first; the page fits the phone."""
    page.goto(live + "/notifications")
    fits(page)
    return page.locator("table.notes tbody tr").all_inner_texts()


def test_returned_request_is_changed_and_resubmitted_with_a_notification_at_each_step(live, page, tmp_path):
    proof = tmp_path / "收入证明.pdf"
    proof.write_bytes(PDF)

    # The worker applies and submits.
    sign_in(page, live, "worker1")
    case_url = apply_for_hardship(page, live, proof)
    number = page.locator("h1").inner_text().split()[0]
    act(page, "submit")
    fits(page)
    notes = inbox(page, live)
    assert any(number in n and "提交" in n for n in notes), notes

    # Union staff are told work has arrived, and return it with a reason.
    sign_in(page, live, "staff1")
    notes = inbox(page, live)
    assert any("【待办】" in n and number in n and "提交" in n for n in notes), notes
    page.goto(case_url)
    act(page, "return_for_info", {"reason": REASON})
    assert "退回补充材料" in page.locator("h1").inner_text()

    # The worker is told why, and sees the reason at the top of the case page, above the details.
    sign_in(page, live, "worker1")
    notes = inbox(page, live)
    assert any(number in n and "退回补充材料" in n and REASON in n for n in notes), notes
    page.goto(case_url)
    fits(page)
    reason = page.locator("section.next-step .return-reason")
    assert REASON in reason.inner_text()
    details = page.locator("section.card h2", has_text="详细信息")
    assert reason.bounding_box()["y"] < details.bounding_box()["y"]

    # The worker changes the details (a page reached by a click) and resubmits.
    page.get_by_role("link", name="修改申请内容").click()
    page.wait_for_selector("input[name=amount_requested]")
    fits(page)
    page.fill("input[name=amount_requested]", "2800.00")
    page.fill("input[name=monthly_income]", "1800.00")
    page.fill("textarea[name=cause]", "爱人患病住院，子女上学；月收入为本人工资")
    page.get_by_role("button", name="保存修改").click()
    page.wait_for_selector("ol.timeline >> text=修改了：")
    assert page.url == case_url
    assert "2800.00" in page.locator("section.card", has_text="详细信息").first.inner_text()
    act(page, "resubmit")
    assert "已提交" in page.locator("h1").inner_text()
    notes = inbox(page, live)
    assert any(number in n and "重新提交" in n for n in notes), notes

    # Union staff are told it is back on their desk.
    sign_in(page, live, "staff1")
    notes = inbox(page, live)
    assert any("【待办】" in n and number in n and "重新提交" in n for n in notes), notes
