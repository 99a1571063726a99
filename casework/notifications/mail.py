"""E-mail: the Chinese texts, SMTP delivery with retry and back-off, the daily digest.

Only the scheduler process sends (web workers just write outbox rows). A row is claimed by a conditional
UPDATE before it is sent and marked sent right after, so two processes never send the same row; a process
that dies mid-send leaves its claim to expire and the row is tried again.
"""
from __future__ import annotations

import logging
import os
import smtplib
import socket
from datetime import datetime, time, timedelta
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import make_msgid

from flask import current_app
from flask_babel import force_locale
from sqlalchemy import and_, delete, exists, func, or_, select, update
from sqlalchemy.exc import IntegrityError

from ..accounts.models import User
from ..labels import KIND_LABELS
from ..clock import local, to_utc, utcnow
from ..config import public_url
from ..extensions import db
from .models import MailOutbox, Notification, NotificationPref, mail_enabled

log = logging.getLogger("casework.mail")

SENDER_NAME = "工会事务办理系统"
SIGNATURE = ("——\n此邮件由工会事务办理系统自动发送，请勿直接回复。\n"
             "如需更改邮件提醒方式（逐条发送或每天汇总一封），请登录系统（{url}），在“我的通知”页面设置。")
# Minutes to wait after the 1st, 2nd, ... failed attempt; after the last one the row is marked failed.
BACKOFF_MINUTES = (1, 2, 5, 10, 30, 60, 120, 240)
DIGEST_HOUR = 8  # local time: yesterday's digest goes out from 08:00
ME = f"{socket.gethostname()}:{os.getpid()}"


def case_number(case) -> str:
    """职代会提案 M2026-00007: the kind and number, in Chinese."""
    with force_locale("zh"):
        return f"{KIND_LABELS.get(case.kind, case.kind)} {case.number}"


def case_ref(case) -> str:
    """帮扶申请 A2026-00012（张建国）, 合理化建议 P2026-00003《…》. Never an aid request's category: mail
    leaves the system, and "serious illness" next to a name is a sensitive fact."""
    ref = case_number(case)
    if case.kind == "aid":
        return f"{ref}（{case.applicant.name}）"
    return f"{ref}《{case.title}》" if case.title else ref


def signature() -> str:
    # Links come from CASEWORK_PUBLIC_URL only: a mail queued while serving a request with a forged Host
    # must not send people elsewhere.
    return SIGNATURE.format(url=public_url("/notifications"))


def notice_mail(user: User, subject: str, body: str, case=None) -> str:
    lines = [f"{user.name}，您好：", "", (body or "").strip() or subject]
    if case is not None:
        lines += ["", f"相关事项：{case_ref(case)}", f"查看：{public_url(f'/cases/{case.kind}/{case.id}')}"]
    return "\n".join(lines + ["", signature()])


def date_zh(day) -> str:
    return f"{day.year}年{day.month}月{day.day}日"


# -- sending ---------------------------------------------------------------------------------

class ServerDown(Exception):
    """The server cannot be reached or refuses us: stop this run, retry later."""


class Mailer:
    """One SMTP connection for a run, opened on the first message; remembers when the server is down."""

    def __init__(self, config=None, stop=None):
        c = config or current_app.config
        self.stop = stop  # a threading.Event: once set, no new message is started (the scheduler stops)
        self.host, self.port = c.get("CASEWORK_SMTP_HOST") or "", int(c.get("CASEWORK_SMTP_PORT") or 25)
        self.user, self.password = c.get("CASEWORK_SMTP_USER") or "", c.get("CASEWORK_SMTP_PASSWORD") or ""
        self.tls = bool(c.get("CASEWORK_SMTP_TLS"))
        self.sender = c.get("CASEWORK_SMTP_SENDER") or "casework@localhost"
        self.timeout = float(c.get("CASEWORK_SMTP_TIMEOUT", 20))
        self.conn: smtplib.SMTP | None = None
        self.down: str | None = None

    def _connect(self) -> smtplib.SMTP:
        try:
            if self.tls and self.port == 465:
                conn = smtplib.SMTP_SSL(self.host, self.port, timeout=self.timeout)
            else:
                conn = smtplib.SMTP(self.host, self.port, timeout=self.timeout)
                if self.tls:
                    conn.starttls()
            if self.user:
                conn.login(self.user, self.password)
            return conn
        except (OSError, smtplib.SMTPException) as exc:
            self.down = f"{self.host}:{self.port}: {exc}"
            raise ServerDown(self.down) from None

    def message(self, row: MailOutbox) -> EmailMessage:
        msg = EmailMessage()
        msg["Subject"] = row.subject
        msg["From"] = Address(SENDER_NAME, addr_spec=self.sender)
        msg["To"] = Address(row.user.name if row.user else "", addr_spec=row.to_addr)
        msg["Date"] = local(row.created_at)
        # Stable per row: a receiving system can drop a copy sent twice after a crash.
        msg["Message-ID"] = make_msgid(idstring=f"outbox{row.id}",
                                       domain=self.sender.rpartition("@")[2] or None)
        msg.set_content(row.body)
        return msg

    def send(self, msg: EmailMessage) -> None:
        if self.down:
            raise ServerDown(self.down)
        if self.conn is None:
            self.conn = self._connect()
        try:
            self.conn.send_message(msg)
        except (smtplib.SMTPRecipientsRefused, smtplib.SMTPResponseException):
            raise  # the server answered about this message; the connection is fine
        except OSError as exc:  # disconnected, timed out (smtplib's errors are OSErrors too)
            self.close()
            self.down = f"{self.host}:{self.port}: {exc}"
            raise ServerDown(self.down) from None

    def stopping(self) -> bool:
        return self.stop is not None and self.stop.is_set()

    def abort(self) -> None:
        """From another thread: cut the conversation now; the message in flight is retried later."""
        sock = getattr(self.conn, "sock", None)
        if sock is not None:
            try:
                sock.shutdown(socket.SHUT_RDWR)  # the blocked read returns at once
            except OSError:
                pass

    def close(self):
        if self.conn is not None:
            try:
                if self.stopping():
                    self.conn.close()  # no QUIT: its answer could keep a stopping process for a time-out
                else:
                    self.conn.quit()
            except (OSError, smtplib.SMTPException):
                pass
            self.conn = None


def _permanent(exc: Exception) -> bool:
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        return all(code >= 500 for code, _msg in exc.recipients.values())
    if isinstance(exc, smtplib.SMTPResponseException):
        return exc.smtp_code >= 500
    return isinstance(exc, smtplib.SMTPNotSupportedError)


# The delivery below serves every outbox with these columns: e-mail, and the group robots' (robots.py).

def _due(box=MailOutbox):
    now = utcnow()
    return or_(and_(box.status == "pending", box.next_attempt_at <= now),
               and_(box.status == "sending", box.claimed_until < now))


def _claim(row_id: int, hold: timedelta, box=MailOutbox):
    now = utcnow()
    done = db.session.execute(
        update(box).where(box.id == row_id, _due(box))
        .values(status="sending", claimed_by=ME, claimed_until=now + hold, attempts=box.attempts + 1)
        .execution_options(synchronize_session=False))
    db.session.commit()
    if done.rowcount != 1:
        return None
    row = db.session.get(box, row_id)
    if row is None:  # deleted since (its case was anonymised): nothing to send
        return None
    db.session.refresh(row)
    return row


def _finish(row, error: Exception | None, permanent: bool = False, down: bool = False):
    box = type(row)
    now = utcnow()
    values = {"claimed_by": None, "claimed_until": None}
    if error is None:
        values.update(status="sent", sent_at=now, last_error="")
        if getattr(row, "secret", False):
            values["body"] = ""  # a delivered link is the recipient's alone; subject and times stay
    elif permanent or (row.attempts > len(BACKOFF_MINUTES) and not down):
        values.update(status="failed", last_error=str(error)[:2000])
    else:
        # A server that is down fails no message for good: the row waits, however long it takes.
        wait = BACKOFF_MINUTES[min(row.attempts, len(BACKOFF_MINUTES)) - 1]
        values.update(status="pending", last_error=str(error)[:2000],
                      next_attempt_at=now + timedelta(minutes=wait))
    # Only our own claim: if it expired and someone else took the row, theirs decides.
    db.session.execute(update(box).where(box.id == row.id, box.claimed_by == ME)
                       .values(**values).execution_options(synchronize_session=False))
    db.session.commit()
    return values["status"]


def deliver(ids: list[int] | None = None, mailer: Mailer | None = None, limit: int = 500) -> dict[str, int]:
    """Sends the outbox rows that are due (or just `ids`); returns counts by outcome."""
    stats = {"sent": 0, "retry": 0, "failed": 0}
    if not mail_enabled() or ids == []:
        return stats
    own = mailer is None
    mailer = mailer or Mailer()
    if mailer.down:
        return stats
    stmt = select(MailOutbox.id).where(_due())
    if ids is not None:
        stmt = stmt.where(MailOutbox.id.in_(ids))
    due = db.session.scalars(stmt.order_by(MailOutbox.id).limit(limit)).all()
    db.session.commit()
    # Longer than a live sender can spend on one message: a shorter claim could send a row twice.
    hold = timedelta(seconds=current_app.config.get("CASEWORK_MAIL_CLAIM_SECONDS") or 4 * mailer.timeout + 5)
    try:
        for row_id in due:
            if mailer.stopping():
                break
            row = _claim(row_id, hold)
            if row is None:
                continue
            try:
                msg = mailer.message(row)
            except (ValueError, IndexError) as exc:  # a malformed address: no use trying again
                _finish(row, exc, permanent=True)
                stats["failed"] += 1
                continue
            # No transaction while talking to the server (on SQLite it would hold the write lock).
            db.session.commit()
            try:
                mailer.send(msg)
            except ServerDown as exc:
                _finish(row, exc, down=True)
                stats["retry"] += 1
                log.warning("mail server down; e-mails wait for a later run: %s", exc)
                break
            except smtplib.SMTPException as exc:
                outcome = _finish(row, exc, permanent=_permanent(exc))
                stats["failed" if outcome == "failed" else "retry"] += 1
                log.warning("e-mail %s to %s: %s", row.id, row.to_addr, exc)
            except Exception as exc:  # noqa: BLE001  unforeseen: park it where an admin sees it and can retry
                _finish(row, exc, permanent=True)
                stats["failed"] += 1
                log.exception("e-mail %s could not be sent", row_id)
            else:
                _finish(row, None)
                stats["sent"] += 1
    finally:
        if own:
            mailer.close()
    return stats


def retry(row) -> None:
    """An admin sends a failed or waiting row (an e-mail's or a robot message's) again at the next run."""
    if row.status in ("failed", "pending"):
        row.status, row.attempts, row.next_attempt_at, row.last_error = "pending", 0, utcnow(), ""


def take_queued() -> list[int]:
    """Ids of the outbox rows this session queued (notify); call before commit."""
    rows = db.session.info.pop("casework_outbox", [])
    if rows:
        db.session.flush()
    return [r.id for r in rows if r.id is not None]


def forget_queued() -> None:
    db.session.info.pop("casework_outbox", None)


# -- the daily digest --------------------------------------------------------------------------

def queue_digests(at: datetime) -> list[int]:
    """From 08:00 local, one mail per digest reader with what reached their inbox before today."""
    if not mail_enabled():
        return []
    local_at = local(at)
    if local_at.hour < DIGEST_HOUR:
        return []
    day = local_at.date()
    cutoff = to_utc(datetime.combine(day, time.min))
    waiting = select(NotificationPref.user_id).where(
        NotificationPref.mode == "digest",
        ~exists().where(MailOutbox.user_id == NotificationPref.user_id, MailOutbox.covers_until == cutoff,
                        MailOutbox.digest_key.is_not(None)),
        exists().where(Notification.user_id == NotificationPref.user_id,
                       Notification.at >= NotificationPref.since, Notification.at < cutoff))
    user_ids = db.session.scalars(waiting).all()
    db.session.commit()
    queued = []
    for user_id in user_ids:
        try:
            row = _digest(user_id, day, cutoff)
            if row is not None:
                db.session.flush()
                queued.append(row.id)
            db.session.commit()
        except IntegrityError:  # another process queued it first
            db.session.rollback()
    return queued


def _digest(user_id: int, day, cutoff: datetime) -> MailOutbox | None:
    user, pref = db.session.get(User, user_id), db.session.get(NotificationPref, user_id)
    if not (user and user.active and user.email and pref and pref.mode == "digest"):
        return None
    last = db.session.scalar(select(func.max(MailOutbox.covers_until)).where(
        MailOutbox.user_id == user_id, MailOutbox.digest_key.is_not(None)))
    since = max(last or pref.since, pref.since)
    notes = db.session.scalars(select(Notification).where(
        Notification.user_id == user_id, Notification.at >= since, Notification.at < cutoff)
        .order_by(Notification.at, Notification.id)).all()
    if not notes:
        return None
    subject, body = _digest_text(user, day, notes)
    row = MailOutbox(user_id=user.id, digest_key=f"{user.id}:{day.isoformat()}", covers_until=cutoff,
                     to_addr=user.email, subject=subject, body=body)
    db.session.add(row)
    return row


def _digest_text(user: User, day, notes) -> tuple[str, str]:
    lines = [f"{user.name}，您好：", "", f"截至{date_zh(day)}，您在工会事务办理系统中有 {len(notes)} 条新消息：", ""]
    for i, n in enumerate(notes, 1):
        lines.append(f"{i}. [{local(n.at):%m-%d %H:%M}] {n.subject}")
        if n.body and n.body.strip() != n.subject:
            lines += [f"   {line}" for line in n.body.strip().splitlines()]
    return (f"【每日汇总】工会事务办理：{len(notes)} 条新消息（截至{date_zh(day)}）",
            "\n".join(lines + ["", signature()]))


# -- forgetting a case -------------------------------------------------------------------------

def forget_case(case, person: User | None = None) -> int:
    """What the inbox and the outbox hold of `case` goes, in the caller's transaction (consent withdrawn,
    retention over): mail not sent yet is deleted, so neither a run nor an admin's retry sends it; mail sent
    keeps its subject, recipient and times for the record, its body is blanked; notices keep their subjects
    (kind, number, step), not their bodies. A digest still waiting is written again from the inbox as it is
    now. `person` (anonymisation): their own notices of the case and the mail that carried them go whole,
    nothing is left that links them to it. Returns how many of the person's notices went."""
    digests = _digests_telling_of(case)
    about = select(Notification.id).where(Notification.case_id == case.id)
    quiet = {"synchronize_session": False}
    db.session.execute(delete(MailOutbox).where(MailOutbox.notification_id.in_(about),
                                                MailOutbox.status != "sent").execution_options(**quiet))
    gone = 0
    if person is not None:
        mine = (Notification.case_id == case.id, Notification.user_id == person.id)
        db.session.execute(delete(MailOutbox).where(MailOutbox.notification_id.in_(
            select(Notification.id).where(*mine))).execution_options(**quiet))
        gone = db.session.execute(delete(Notification).where(*mine).execution_options(**quiet)).rowcount
    db.session.execute(update(MailOutbox).where(MailOutbox.notification_id.in_(about))
                       .values(body="").execution_options(**quiet))
    db.session.execute(update(Notification).where(Notification.case_id == case.id)
                       .values(body="").execution_options(**quiet))
    for obj in list(db.session.identity_map.values()):  # the statements above bypassed the loaded rows
        if isinstance(obj, (Notification, MailOutbox)):
            db.session.expire(obj)
    for row in digests:
        if row.status == "sent":
            row.body = ""
        else:
            _rewrite_digest(row)
    return gone


def _digests_telling_of(case) -> list[MailOutbox]:
    """Each reader's digests from the first after their first notice of the case to the first after the
    last: every digest that can have told of it (and, harmlessly, those in between)."""
    spans = db.session.execute(select(Notification.user_id, func.min(Notification.at), func.max(Notification.at))
                               .where(Notification.case_id == case.id).group_by(Notification.user_id)).all()
    out = []
    for user_id, first, last in spans:
        for row in db.session.scalars(select(MailOutbox).where(
                MailOutbox.user_id == user_id, MailOutbox.digest_key.is_not(None), MailOutbox.covers_until > first)
                .order_by(MailOutbox.covers_until)):
            out.append(row)
            if row.covers_until > last:
                break
    return out


def _rewrite_digest(row: MailOutbox) -> None:
    """A digest not sent yet, from what its reader's inbox holds now for its day; none left: it goes."""
    pref = db.session.get(NotificationPref, row.user_id)
    before = db.session.scalar(select(func.max(MailOutbox.covers_until)).where(
        MailOutbox.user_id == row.user_id, MailOutbox.digest_key.is_not(None),
        MailOutbox.covers_until < row.covers_until))
    since = max([t for t in (before, pref.since if pref else None) if t is not None], default=datetime.min)
    notes = db.session.scalars(select(Notification).where(
        Notification.user_id == row.user_id, Notification.at >= since, Notification.at < row.covers_until)
        .order_by(Notification.at, Notification.id)).all()
    if not notes:
        db.session.delete(row)
        return
    row.subject, row.body = _digest_text(row.user, local(row.covers_until).date(), notes)
