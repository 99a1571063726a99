"""A hardship case from application to disbursement, in the browser, with the demo accounts."""
from __future__ import annotations

from .conftest import PDF, act as _act, apply_for_hardship, sign_in as _as


def test_hardship_case_from_application_to_disbursement(live, page, tmp_path, clock):
    proof = tmp_path / "收入证明.pdf"
    proof.write_bytes(PDF)
    _as(page, live, "worker1")
    case_url = apply_for_hardship(page, live, proof)
    page.goto(case_url)
    _act(page, "submit")
    assert "已提交" in page.content() or "Submitted" in page.content()

    _as(page, live, "staff1")
    page.goto(case_url)
    _act(page, "start_verification")
    _act(page, "record_visit", {"visited_on": "2026-11-24", "visitors": "staff1, leader1",
                                "findings": "住房简陋，爱人长期住院，情况属实"})
    _act(page, "verify", {"proposed_amount": "2000.00"})
    assert "2000.00" in page.content()

    for member in ("committee1", "committee2", "committee3"):
        _as(page, live, member)
        page.goto(case_url)
        _act(page, "approve", {"amount": "2000.00", "comment": "同意"})
    assert "公示" in page.content() or "Publicly posted" in page.content()

    # The weekly batch: prepared by staff, signed off by the committee, posted on the board.
    _as(page, live, "staff1")
    page.goto(live + "/disclosures")
    page.locator("form[action$='/disclosures/batch'] button").click()
    for member in ("committee1", "committee2", "committee3"):
        _as(page, live, member)
        page.goto(live + "/disclosures")
        page.locator("form[action*='/signoff'] button").first.click()
    page.goto(live + "/board")
    assert "困难职工帮扶救助公示" in page.content()

    # Time passes beyond the objection period; the scheduler's sweep ends it; the fund manager pays.
    from datetime import datetime, timezone
    from casework.extensions import db
    from casework.scheduler.sweep import run_due
    clock.move_to(datetime(2026, 12, 10, 1, 0, tzinfo=timezone.utc))
    run_due(parts=("steps", "tasks"))
    db.session.commit()
    _as(page, live, "fund1")
    page.goto(case_url)
    assert "爱人重病" not in page.content()  # amount and payee only
    _act(page, "disburse", {"reference": "工行转账-20261125-001"}, choose={"method": "bank_transfer"})
    assert "已发放" in page.content() or "Disbursed" in page.content()
