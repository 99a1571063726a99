"""Anonymous objections and reports worth their promise: 80-bit codes, the receipt, acknowledgement, rewards."""
from __future__ import annotations

import math
from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import func, select

from casework.clock import today
from casework.core.errors import Invalid
from casework.disclosure import operations
from casework.disclosure.models import Objection
from casework.extensions import db as _db
from casework.funds.models import Fund, LedgerEntry
from casework.funds.operations import ledger_balance
from casework.notifications.models import Notification
from casework.scheduler.sweep import run_due

from .conftest import CSRF_RE, _fresh_request_globals
from .factories import page_check


def test_codes_carry_at_least_80_bits_unique_and_normalised():
    alphabet = operations.CODE_ALPHABET
    assert len(set(alphabet)) == len(alphabet) == 32
    assert not set("01OI") & set(alphabet)  # nothing read or typed as something else
    codes = [operations._tracking_code() for _ in range(2000)]
    bits = len(codes[0]) * math.log2(len(alphabet))
    assert bits >= 80
    assert len(set(codes)) == len(codes)
    assert all(len(c) == 16 and set(c) <= set(alphabet) for c in codes)
    assert all(operations.normalise_code(c) == c for c in codes)  # stored as lookups normalise
    grouped = operations.grouped(codes[0])
    assert grouped.count("-") == 3 and [len(p) for p in grouped.split("-")] == [4, 4, 4, 4]
    assert operations.normalise_code(f" {grouped.lower()} ") == codes[0]
    assert operations.normalise_code(grouped.replace("-", " ")) == codes[0]


def test_lookups_accept_grouped_lower_case_and_old_short_codes(demo, api, web):
    hq = demo["admin"].unit
    row = operations.report(hq, "职工之家经费去向未公开", True, None)
    old = Objection(kind="report", tracking_code="ABCDEFGH23", unit_id=hq.id, text="旧的举报", due_on=today())
    _db.session.add(old)
    _db.session.commit()
    assert len(row.tracking_code) == 16 and row.ack_due_on == today() + timedelta(days=7)
    shown = operations.grouped(row.tracking_code)
    for typed in (shown, shown.lower(), shown.replace("-", " "), row.tracking_code.lower()):
        assert operations.find_tracking(typed).id == row.id
    assert operations.find_tracking("abcd-efgh-23").id == old.id
    page = web.get("/board/track", query_string={"code": shown.lower().replace("-", " ")}).get_data(as_text=True)
    assert shown in page
    body = api.get(f"/api/v1/objections/{shown.lower()}").get_json()
    assert body["tracking_code"] == row.tracking_code and body["display_code"] == shown


def _report_on_the_web(web, demo, text="2026年第三季度基金收支未公开"):
    form = web.get("/board/report").get_data(as_text=True)
    _fresh_request_globals()
    return web.client.post("/board/report", data={
        "csrf_token": CSRF_RE.search(form).group(1), "unit": demo["admin"].unit.id, "text": text,
        "anonymous": "1", **page_check(form)})


def test_receipt_after_submitting_without_identity(demo, web):
    r = _report_on_the_web(web, demo)
    assert r.status_code == 200
    row = _db.session.scalar(select(Objection).order_by(Objection.id.desc()))
    page = r.get_data(as_text=True)
    shown = operations.grouped(row.tracking_code)
    assert shown in page and "/board/receipt" in page
    _fresh_request_globals()
    receipt = web.client.post("/board/receipt", data={"csrf_token": CSRF_RE.search(page).group(1),
                                                       "code": shown.lower()})
    assert receipt.status_code == 200
    assert receipt.headers["Content-Disposition"].startswith("attachment;")
    assert receipt.headers["Cache-Control"] == "no-store"
    text = receipt.get_data(as_text=True)
    assert shown in text and "/board/track" in text and row.due_on.isoformat() in text
    assert row.ack_due_on.isoformat() in text and "举报" in text
    assert row.user_id is None and row.contact == ""
    for user in (demo["admin"], demo["staff1"], demo["worker1"]):  # no one's name, whoever looks at it
        assert user.name not in text
    _fresh_request_globals()
    missing = web.client.post("/board/receipt", data={"csrf_token": CSRF_RE.search(page).group(1),
                                                       "code": "ZZZZ-ZZZZ-ZZZZ-ZZZZ"})
    assert missing.status_code == 404


def test_unacknowledged_report_reminds_staff_once(demo, web, clock):
    hq = demo["admin"].unit
    row = operations.report(hq, "食堂补贴发放名单未公示", True, None)
    other = operations.report(hq, "已确认的举报", True, None)
    _db.session.commit()
    staff = demo["staff1"]
    operations.acknowledge(other, staff)
    _db.session.commit()

    def reminders():
        return _db.session.scalar(select(func.count()).select_from(Notification).where(
            Notification.user_id == staff.id, Notification.subject.like("%确认提醒%")))

    due = row.ack_due_on
    clock.move_to(datetime.combine(due, datetime.min.time(), tzinfo=timezone.utc) + timedelta(hours=4))
    assert run_due().tasks["disclosure_ack_reminders"] == 0 and reminders() == 0  # due today: not yet late
    clock.move_to(datetime.combine(due + timedelta(days=1), datetime.min.time(), tzinfo=timezone.utc)
                  + timedelta(hours=4))
    assert run_due().tasks["disclosure_ack_reminders"] == 1
    assert reminders() == 1
    note = _db.session.scalar(select(Notification).where(Notification.user_id == staff.id,
                                                         Notification.subject.like("%确认提醒%")))
    assert operations.grouped(row.tracking_code) in note.subject
    assert run_due().tasks["disclosure_ack_reminders"] == 0 and reminders() == 1  # once
    # Staff acknowledge on the manage page; the reporter sees it.
    web.login("staff1")
    assert "Acknowledge" in web.get("/disclosures").get_data(as_text=True) or \
        "确认收悉" in web.get("/disclosures").get_data(as_text=True)
    r = web.post(f"/disclosures/reports/{row.id}/acknowledge", {}, form_page="/disclosures")
    assert r.status_code == 302
    _db.session.expire_all()
    assert row.acknowledged_at is not None
    with pytest.raises(Exception):
        operations.acknowledge(row, staff)  # a second time: refused
    _db.session.rollback()
    with pytest.raises(Exception):
        operations.acknowledge(other, demo["worker1"])
    _db.session.rollback()
    track = web.get("/board/track", query_string={"code": row.tracking_code}).get_data(as_text=True)
    assert "Acknowledged by union staff" in track or "工会工作人员已于" in track


def test_founded_report_reward_is_paid_against_the_code(demo, api, web):
    hq = demo["admin"].unit
    fund = _db.session.scalar(select(Fund).where(Fund.code == "REWARD"))
    before = fund.balance
    row = operations.report(hq, "补助发放名单与实际不符", True, None)
    _db.session.commit()
    operations.answer_report(row, demo["staff1"], "经核查举报属实，已更正", True, 50000)
    _db.session.commit()
    _db.session.refresh(fund)
    assert fund.balance == before - 50000 and ledger_balance(fund) == (fund.balance, fund.reserved)
    entry = _db.session.scalar(select(LedgerEntry).where(LedgerEntry.objection_id == row.id))
    assert entry.kind == "payment" and entry.amount == 50000 and entry.case_id is None
    assert row.tracking_code in entry.reference and row.acknowledged_at is not None
    track = web.get("/board/track", query_string={"code": row.tracking_code}).get_data(as_text=True)
    assert "500.00" in track and ("union office" in track or "工会办公室" in track)
    assert api.get(f"/api/v1/objections/{row.tracking_code}").get_json()["reward"] == 50000
    # Unfounded: nothing paid.
    plain = operations.report(hq, "另一条举报", True, None)
    _db.session.commit()
    operations.answer_report(plain, demo["staff1"], "经核查不属实", False, 50000)
    _db.session.commit()
    assert plain.reward is None
    assert _db.session.scalar(select(LedgerEntry.id).where(LedgerEntry.objection_id == plain.id)) is None


def test_reward_never_takes_the_fund_below_zero(demo):
    hq = demo["admin"].unit
    fund = _db.session.scalar(select(Fund).where(Fund.code == "REWARD"))
    before = fund.balance
    row = operations.report(hq, "大额举报", True, None)
    _db.session.commit()
    with pytest.raises(Invalid):
        operations.answer_report(row, demo["staff1"], "属实", True, before + 1)
    _db.session.rollback()
    _db.session.refresh(fund)
    _db.session.refresh(row)
    assert fund.balance == before and row.status == "open" and row.reward is None
    with pytest.raises(Invalid):
        operations.answer_report(row, demo["staff1"], "属实", True, -5)
    _db.session.rollback()
