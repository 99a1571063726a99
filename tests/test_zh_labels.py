"""Labels and values in the Chinese UI are joined by the full-width colon, and the outbox shows its states as
words, not codes."""
from __future__ import annotations

from .factories import attach, fire, new_case


def test_headings_and_case_lines_use_the_chinese_colon(web, demo):
    case = new_case("aid", demo["worker1"])
    attach(case, "income_proof", demo["worker1"])
    fire(case, "submit", demo["worker1"])
    web.login("worker1")
    for path in ("/cases/aid/new", "/cases/aid/new?category=hardship"):
        assert "<h1>新建帮扶申请</h1>" in web.get(path).get_data(as_text=True), path
    page = web.get(f"/cases/aid/{case.id}").get_data(as_text=True)
    assert f"申请人：{demo['worker1'].name}" in page and f"办理期限：{case.deadline}" in page
    assert "申请人: " not in page and "办理期限: " not in page


def test_the_outbox_counts_name_their_states(web, demo):
    web.login("admin")
    page = web.get("/admin/scheduler").get_data(as_text=True)
    for word in ("等待中：0", "发送中：0", "已发送：0", "失败：0"):
        assert word in page
    assert "pending:" not in page and "sending:" not in page


def test_the_human_check_asks_in_chinese_only(app):
    import re

    from casework.disclosure import human
    with app.app_context():
        _token, question = human.new()
    assert question.endswith("等于几？（请填阿拉伯数字）")
    assert not re.search(r"[A-Za-z()]", question)  # no English word, no half-width bracket


def test_the_consent_record_notes_who_gave_it_in_chinese_brackets(web, demo):
    case = new_case("aid", demo["worker1"])
    web.login("worker1")
    page = web.get(f"/cases/aid/{case.id}").get_data(as_text=True)
    assert f"{demo['worker1'].name}（申请人本人同意）" in page


def test_the_committee_vote_and_its_tally_use_chinese_brackets(web, demo):
    from .factories import aid_to
    case = aid_to(demo, "pending_approval", amount_requested="3000.00")
    fire(case, "approve", demo["committee1"], amount="3000.00")
    web.login("committee2")
    page = web.get(f"/cases/aid/{case.id}").get_data(as_text=True)
    assert "（审批小组表决）" in page and "(审批小组表决)" not in page
