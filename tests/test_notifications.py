"""The inbox, the e-mail outbox and its delivery to a real SMTP server (aiosmtpd), the daily digest."""
from __future__ import annotations

import asyncio
import socket
import threading
from datetime import timedelta
from email import message_from_bytes, policy

import pytest
from aiosmtpd.controller import Controller
from sqlalchemy import func, select

from casework.notifications.models import MailOutbox, Notification, notify, set_mode
from casework.notifications.steps import replaying
from casework.scheduler import run_due
from tests.factories import aid_to


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class SmtpServer:
    """A real SMTP server on localhost that keeps what it receives; it can refuse, stop, start and hold."""

    def __init__(self):
        self.port = _free_port()
        self.raw: list[bytes] = []
        self.refuse: set[str] = set()
        self.hold_at: int | None = None  # hold the n-th MAIL FROM (1-based) until `release` is set
        self.mails_seen = 0
        self.holding, self.release = threading.Event(), threading.Event()
        self.controller = None
        self.lock = threading.Lock()

    @property
    def messages(self):
        with self.lock:
            return [message_from_bytes(raw, policy=policy.default) for raw in self.raw]

    async def handle_MAIL(self, server, session, envelope, address, mail_options):
        self.mails_seen += 1
        if self.hold_at == self.mails_seen:
            self.holding.set()
            while not self.release.is_set():
                await asyncio.sleep(0.02)
        envelope.mail_from = address
        envelope.mail_options.extend(mail_options)
        return "250 OK"

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if address in self.refuse:
            return "550 5.1.1 no such mailbox"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        with self.lock:
            self.raw.append(envelope.original_content or envelope.content)
        return "250 Message accepted"

    def start(self):
        self.controller = Controller(self, hostname="127.0.0.1", port=self.port)
        self.controller.start()

    def stop(self):
        if self.controller is not None:
            self.controller.stop()
            self.controller = None


@pytest.fixture()
def smtp(app, monkeypatch):
    server = SmtpServer()
    server.start()
    monkeypatch.setitem(app.config, "CASEWORK_SMTP_HOST", "127.0.0.1")
    monkeypatch.setitem(app.config, "CASEWORK_SMTP_PORT", server.port)
    monkeypatch.setitem(app.config, "CASEWORK_SMTP_TIMEOUT", 5)
    yield server
    server.release.set()
    server.stop()


def _count(db, model, *where):
    n = db.session.scalar(select(func.count()).select_from(model).where(*where))
    db.session.rollback()
    return n


def test_the_outbox_row_is_written_in_the_notifications_transaction(demo, db, app, monkeypatch):
    worker = demo["worker1"]
    # Mail off (no CASEWORK_SMTP_HOST): the inbox gets everything, the outbox nothing.
    notify(worker, "通知一", "正文")
    db.session.commit()
    assert _count(db, Notification) == 1 and _count(db, MailOutbox) == 0
    monkeypatch.setitem(app.config, "CASEWORK_SMTP_HOST", "127.0.0.1")
    notify(worker, "通知二", "正文")
    db.session.rollback()  # the step that caused it failed: neither the notice nor the mail exists
    assert _count(db, Notification) == 1 and _count(db, MailOutbox) == 0
    note = notify(worker, "通知三", "正文")
    db.session.commit()
    row = db.session.scalar(select(MailOutbox))
    assert row.notification_id == note.id and row.to_addr == worker.email and row.status == "pending"
    # Nobody without an address, nobody who chose the digest, gets an immediate mail.
    set_mode(demo["worker2"], "digest")
    notify(demo["worker2"], "通知四")
    db.session.commit()
    assert _count(db, MailOutbox) == 1


def test_a_real_smtp_server_receives_the_mail_in_chinese(demo, db, smtp):
    with replaying():  # the messages below are the test's own
        case = aid_to(demo, "submitted")
    notify(demo["worker1"], "【办理提醒】帮扶申请已受理", "您的申请已进入审核环节。", case)
    notify(demo["committee1"], "【督办】帮扶申请 A2026-00001 已超过办理时限", "请督促办理。", case)
    db.session.commit()
    report = run_due()
    assert report.mail["sent"] == 2
    assert len(smtp.raw) == 2
    assert all(raw.isascii() for raw in smtp.raw)  # headers RFC 2047-encoded, body base64: 7-bit clean
    by_to = {m["To"].addresses[0].addr_spec: m for m in smtp.messages}
    mail = by_to["committee1@union.example.com"]
    assert mail["Subject"] == "【督办】帮扶申请 A2026-00001 已超过办理时限"
    assert mail["To"].addresses[0].display_name == "陈卫东"
    assert mail.get_content_charset() == "utf-8"
    body = mail.get_content()
    assert body.startswith("陈卫东，您好：") and "请督促办理。" in body and case.number in body
    assert "（张建国）" in body and "困难帮扶" not in body and "=?utf-8?" in smtp.raw[0].decode().split("\n\n")[0].lower()
    assert mail["Message-ID"]
    assert _count(db, MailOutbox, MailOutbox.status == "sent") == 2
    # Nothing is sent twice.
    assert run_due().mail["sent"] == 0 and len(smtp.raw) == 2


def test_smtp_down_for_a_while_loses_nothing(demo, db, smtp, clock):
    smtp.stop()
    for i in range(3):
        notify(demo[f"committee{i + 1}"], f"消息 {i}", "正文")
    db.session.commit()
    report = run_due()
    assert report.mail["sent"] == 0 and report.mail["retry"] == 1  # one probe, the rest wait untouched
    rows = db.session.scalars(select(MailOutbox).order_by(MailOutbox.id)).all()
    assert [r.status for r in rows] == ["pending"] * 3
    assert rows[0].attempts == 1 and rows[0].last_error and rows[1].attempts == 0
    db.session.rollback()
    clock.shift(timedelta(minutes=30))
    assert run_due().mail["sent"] == 0  # still down: still nothing lost
    smtp.start()
    clock.shift(timedelta(minutes=30))
    assert run_due().mail["sent"] == 3
    assert sorted(m["Subject"] for m in smtp.messages) == ["消息 0", "消息 1", "消息 2"]
    assert run_due().mail["sent"] == 0 and len(smtp.raw) == 3


def test_a_refused_address_fails_and_an_admin_retries_it(demo, db, smtp, web):
    smtp.refuse.add("worker3@union.example.com")
    notify(demo["worker3"], "地址被拒", "正文")
    notify(demo["worker2"], "正常", "正文")
    db.session.commit()
    report = run_due()
    assert report.mail["sent"] == 1 and report.mail["failed"] == 1
    failed = db.session.scalar(select(MailOutbox).where(MailOutbox.status == "failed"))
    assert "550" in failed.last_error
    web.login("admin")
    page = web.get("/admin/scheduler").get_data(as_text=True)
    assert "地址被拒" in page and "失败：1" in page
    smtp.refuse.clear()
    r = web.post(f"/admin/scheduler/outbox/{failed.id}/retry", {}, form_page="/admin/scheduler")
    assert r.status_code == 302
    assert run_due().mail["sent"] == 1
    assert [m["Subject"] for m in smtp.messages] == ["正常", "地址被拒"]


def test_digest_readers_get_one_mail_a_day(demo, db, smtp, clock, web):
    web.login("worker1")
    r = web.post("/notifications/preferences", {"mode": "digest"}, form_page="/notifications")
    assert r.status_code == 302
    worker = demo["worker1"]
    clock.move_to("2026-11-25 10:00 +08:00")
    for i in range(3):
        notify(worker, f"今天的消息 {i}", "正文")
    notify(demo["worker2"], "给别人的", "正文")  # worker2 reads immediately
    db.session.commit()
    run_due()
    assert [m["Subject"] for m in smtp.messages] == ["给别人的"]
    clock.move_to("2026-11-26 07:30 +08:00")
    run_due()
    assert len(smtp.raw) == 1  # the digest goes out from 08:00
    clock.move_to("2026-11-26 08:05 +08:00")
    run_due()
    run_due()
    assert len(smtp.raw) == 2
    digest = smtp.messages[1]
    assert digest["To"].addresses[0].addr_spec == worker.email
    assert digest["Subject"] == "【每日汇总】工会事务办理：3 条新消息（截至2026年11月26日）"
    assert all(f"今天的消息 {i}" in digest.get_content() for i in range(3))
    notify(worker, "第二天的消息", "正文")
    db.session.commit()
    clock.move_to("2026-11-26 18:00 +08:00")
    run_due()
    assert len(smtp.raw) == 2  # still one mail on the 26th
    clock.move_to("2026-11-27 09:00 +08:00")
    run_due()
    assert len(smtp.raw) == 3
    last = smtp.messages[2].get_content()
    assert "第二天的消息" in last and "今天的消息" not in last


def test_inbox_page_unread_count_and_marking_read(demo, db, web):
    with replaying():  # the messages below are the test's own
        case = aid_to(demo, "submitted")
    first = notify(demo["worker1"], "第一条", "正文一", case)
    notify(demo["worker1"], "第二条", "正文二")
    other = notify(demo["worker2"], "别人的", "")
    db.session.commit()
    web.login("worker1")
    page = web.get("/notifications?lang=en").get_data(as_text=True)
    assert "第一条" in page and "第二条" in page and "别人的" not in page and "2 unread" in page
    assert page.index("第二条") < page.index("第一条")  # newest first
    r = web.post(f"/notifications/{first.id}/read", {"open": "1"}, form_page="/notifications")
    assert r.status_code == 302 and r.headers["Location"].endswith(f"/cases/aid/{case.id}")
    assert "1 unread" in web.get("/notifications?lang=en").get_data(as_text=True)
    assert web.post(f"/notifications/{other.id}/read", {}, form_page="/notifications").status_code == 404
    web.post("/notifications/read-all", {}, form_page="/notifications")
    assert "0 unread" in web.get("/notifications?lang=en").get_data(as_text=True)
    refused = web.post("/notifications/preferences", {"mode": "weekly"}, form_page="/notifications")
    assert refused.status_code == 302
    assert _count(db, Notification, Notification.read_at.is_(None)) == 1  # only worker2's


def test_notifications_api(demo, db, api, app, monkeypatch):
    monkeypatch.setitem(app.config, "CASEWORK_PAGE_SIZE", 5)
    with replaying():  # the messages below are the test's own
        case = aid_to(demo, "submitted")
    for i in range(7):
        notify(demo["worker1"], f"消息 {i}", f"正文 {i}", case if i == 6 else None)
    notify(demo["worker2"], "别人的")
    db.session.commit()
    me = api.as_("worker1")
    r = me.get("/api/v1/notifications")
    assert r.status_code == 200
    body = r.get_json()
    assert body["unread"] == 7 and len(body["items"]) == 5 and body["next"]
    top = body["items"][0]
    assert set(top) >= {"id", "at", "subject", "body", "case", "read"}
    assert top["subject"] == "消息 6" and top["case"] == case.id and top["case_number"] == case.number
    assert top["read"] is False and top["at"].endswith("Z")
    rest = me.get(f"/api/v1/notifications?after={body['next']}").get_json()
    assert [n["subject"] for n in rest["items"]] == ["消息 1", "消息 0"] and rest["next"] is None
    assert me.get("/api/v1/notifications?after=!!").status_code == 400
    assert me.get("/api/v1/notifications?unread=maybe").status_code == 400
    read = me.post(f"/api/v1/notifications/{top['id']}/read")
    assert read.status_code == 200 and read.get_json()["read"] is True
    unread = me.get("/api/v1/notifications?unread=true").get_json()
    assert unread["unread"] == 6 and top["id"] not in [n["id"] for n in unread["items"]]
    theirs = db.session.scalar(select(Notification.id).where(Notification.subject == "别人的"))
    assert me.post(f"/api/v1/notifications/{theirs}/read").get_json()["error"]["code"] == "not_found"
    assert me.post("/api/v1/notifications/read-all").get_json()["unread"] == 0
    assert me.get("/api/v1/notifications/preferences").get_json() == {"mode": "immediate"}
    prefs = "/api/v1/notifications/preferences"
    assert me.post(prefs, json={"mode": "digest"}).get_json() == {"mode": "digest"}
    bad = me.post(prefs, json={"mode": "weekly"}, headers={"Accept-Language": "en"})
    assert bad.status_code == 422 and "mode" in bad.get_json()["error"]["fields"]
    assert api.get("/api/v1/notifications").status_code == 401
    spec = api.client.get("/api/v1/openapi.json").get_json()
    assert "/api/v1/notifications" in spec["paths"]
