"""Mail forgets with the case: once consent is withdrawn or the retention period is over, no mail waiting in the
outbox still carries the case's words or the person's name, sent mail keeps only its subject, recipient and
times, a digest not sent yet is written again from the cleared inbox, and nothing cleared is delivered
later. A delivered password-reset link does not stay in the outbox either."""
from __future__ import annotations

import json
import re
from datetime import timedelta

from sqlalchemy import func, select

from casework.aid.models import AidRequest
from casework.extensions import db
from casework.notifications.mail import deliver, queue_digests
from casework.notifications.models import MailOutbox, Notification, notify, set_mode
from casework.clock import utcnow
from casework.scheduler import run_due

from .factories import aid_to, fire
from .test_notifications import smtp  # noqa: F401  (the real SMTP server fixture)
from .test_retention import SENSITIVE, _after, _closed_case, _dump

NAME = "张建国"  # worker1, the applicant


def _outbox_text() -> str:
    rows = db.session.execute(select(MailOutbox.__table__)).mappings().all()
    db.session.rollback()
    return json.dumps([{k: v for k, v in r.items() if isinstance(v, str)} for r in rows], ensure_ascii=False)


def _delivered_text(messages) -> str:
    return "\n".join(f"{m['To']}\n{m['Subject']}\n{m.get_content()}" for m in messages)


def _count(model, *where) -> int:
    n = db.session.scalar(select(func.count()).select_from(model).where(*where))
    db.session.rollback()
    return n


def test_anonymisation_clears_the_outbox_and_nothing_cleared_is_delivered(demo, smtp, clock):  # noqa: F811
    set_mode(demo["committee1"], "digest")
    db.session.commit()
    smtp.refuse.add("worker3@union.example.com")
    case, _stored = _closed_case(demo)
    # Mail that tells of the case's words, to the applicant, to staff, and to a digest reader.
    notify(demo["worker1"], "您的帮扶申请已办结", f"走访情况：{SENSITIVE[2]}", case)
    notify(demo["worker3"], "帮扶申请 办结", f"申请人{NAME}：{SENSITIVE[0]}", case)
    notify(demo["committee1"], "帮扶申请 审批", f"理由：{SENSITIVE[4]}", case)
    db.session.commit()
    report = run_due(parts=("mail",))
    assert report.mail["sent"] > 0 and report.mail["failed"] >= 1  # worker3's address is refused: failed
    clock.move_to(f"{(utcnow() + timedelta(days=1)).date().isoformat()} 08:30 +08:00")
    assert queue_digests(utcnow()) and deliver()["sent"] == 1  # committee1's digest
    assert SENSITIVE[4] in _delivered_text(smtp.messages) and NAME in _delivered_text(smtp.messages)
    sent_before = len(smtp.raw)

    # Years later, the day before anonymisation: more mail, the server down, a digest waiting.
    clock.move_to(_after(case, days=-1))
    notify(demo["worker1"], "提醒", f"请补充：{SENSITIVE[1]}", case)
    notify(demo["staff1"], "提醒", f"{NAME} 的申请：{SENSITIVE[3]}", case)
    notify(demo["committee1"], "提醒", f"{NAME}：{SENSITIVE[5]}", case)
    notify(demo["committee1"], "另一件事", "请于周五前审阅年度报告。")
    db.session.commit()
    smtp.stop()
    clock.move_to(_after(case).replace("09:00", "08:10"))
    digest_ids = queue_digests(utcnow())
    assert len(digest_ids) == 1 and deliver()["retry"] == 1
    assert _count(MailOutbox, MailOutbox.status == "pending") >= 3

    clock.move_to(_after(case))
    run_due(parts=("tasks",))
    db.session.expire_all()
    assert db.session.get(AidRequest, case.id).anonymised_at is not None

    # Nothing of the case is left in the outbox, nor anywhere in the database.
    outbox = _outbox_text()
    assert not [s for s in SENSITIVE if s in outbox] and NAME not in outbox
    assert not [s for s in SENSITIVE if s in _dump()]
    # The applicant's own mail of the case goes whole; the others' sent mail keeps only its record.
    assert _count(MailOutbox, MailOutbox.user_id == demo["worker1"].id) == 0
    assert _count(Notification, Notification.user_id == demo["worker1"].id, Notification.case_id == case.id) == 0
    sent = db.session.scalars(select(MailOutbox).where(MailOutbox.status == "sent",
                                                       MailOutbox.digest_key.is_(None))).all()
    assert sent and all(r.body == "" and r.subject and r.to_addr and r.sent_at for r in sent)
    # No mail of the case waits any more (the refused one neither: an admin's retry cannot send it); the
    # waiting digest was written again from the cleared inbox, the other news in it stays.
    waiting = db.session.scalars(select(MailOutbox).where(MailOutbox.status != "sent")).all()
    assert [r.id for r in waiting] == digest_ids
    [digest] = waiting
    assert "请于周五前审阅年度报告。" in digest.body and "2 条新消息" in digest.subject
    db.session.rollback()

    # The server back: what goes out now says nothing of the case, and nothing goes twice.
    smtp.start()
    clock.shift(timedelta(hours=1))
    assert run_due(parts=("mail",)).mail["sent"] == 1
    later = _delivered_text(smtp.messages[sent_before:])
    assert "年度报告" in later and "提醒" in later
    assert not [s for s in SENSITIVE if s in later] and NAME not in later
    clock.shift(timedelta(days=1))
    run_due()
    assert not [s for s in SENSITIVE if s in _delivered_text(smtp.messages[sent_before:])]


def test_withdrawn_consent_clears_the_mail_of_the_case(demo, smtp):  # noqa: F811
    secret = "女儿患有先天性心脏病，每月药费三千元"
    case = aid_to(demo, "verifying", circumstances=secret)
    notify(demo["staff1"], "帮扶申请 走访", f"核实：{secret}", case)
    db.session.commit()
    assert deliver()["sent"] > 0
    notify(demo["worker3"], "帮扶申请 提醒", f"核实：{secret}", case)  # waits
    db.session.commit()
    fire(case, "withdraw_consent", demo["worker1"])
    db.session.expire_all()
    assert db.session.get(AidRequest, case.id).state == "withdrawn"
    assert secret not in _outbox_text() and secret not in _dump()
    assert _count(MailOutbox, MailOutbox.to_addr == "worker3@union.example.com") == 0
    sent = db.session.scalars(select(MailOutbox).where(MailOutbox.status == "sent")).all()
    assert sent and all(r.body == "" for r in sent)
    db.session.rollback()
    before = len(smtp.raw)
    deliver()
    news = smtp.messages[before:]
    assert news and case.number in _delivered_text(news)  # the withdrawal's own news
    assert secret not in _delivered_text(news)


LINK_RE = re.compile(r"/login/reset/[0-9A-F]{64}")


def test_a_delivered_reset_link_is_blanked_in_the_outbox(demo, web, smtp):  # noqa: F811
    r = web.post("/login/forgot", {"login": "E1001"})
    assert r.status_code == 302
    row = db.session.scalar(select(MailOutbox))
    assert row.secret and LINK_RE.search(row.body)  # waiting: the link is needed to send it
    db.session.rollback()
    assert deliver()["sent"] == 1
    [message] = smtp.messages
    assert LINK_RE.search(message.get_body().get_content())
    row = db.session.scalar(select(MailOutbox))
    assert row.body == "" and row.subject == "重设密码" and row.to_addr == "worker1@union.example.com"
    assert row.sent_at is not None and row.status == "sent"
    assert not LINK_RE.search(_dump())
    # A notice's mail keeps its body: it is the inbox's copy, no secret.
    notify(demo["worker2"], "通知", "正文", None)
    db.session.commit()
    deliver()
    kept = db.session.scalar(select(MailOutbox).where(MailOutbox.secret.is_(False)))
    assert kept.status == "sent" and "正文" in kept.body
