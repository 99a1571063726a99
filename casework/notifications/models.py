"""The in-app inbox and the e-mail outbox, written in the same transaction as the step that causes them."""
from __future__ import annotations

from datetime import datetime

from flask import current_app, has_app_context
from sqlalchemy import Boolean, CheckConstraint, DateTime, ForeignKey, Index, Integer, String, Text, select
from sqlalchemy import false as sa_false
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..accounts.models import User
from ..clock import utcnow
from ..core.models import Case
from ..extensions import db

MODES = ("immediate", "digest")
OUTBOX_STATUSES = ("pending", "sending", "sent", "failed")


class Notification(db.Model):
    __tablename__ = "notifications"
    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    case_id: Mapped[int | None] = mapped_column(ForeignKey("cases.id"))
    at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    subject: Mapped[str] = mapped_column(String(200))
    body: Mapped[str] = mapped_column(Text, default="")
    read_at: Mapped[datetime | None] = mapped_column(DateTime)
    user: Mapped[User] = relationship()
    case: Mapped[Case | None] = relationship()
    __table_args__ = (Index("ix_notifications_user_unread", "user_id", "read_at"),)


class NotificationPref(db.Model):
    """How a person wants e-mail: each notification at once (no row), or one digest a day."""
    __tablename__ = "notification_prefs"
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), primary_key=True)
    mode: Mapped[str] = mapped_column(String(20), default="immediate")
    since: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    __table_args__ = (CheckConstraint(f"mode IN {MODES}", name="mode"),)


class OutboxDelivery:
    """The delivery columns of every outbox: one sender claims a row, retries it with back-off, and a row that
    keeps failing waits on the admin page."""
    status: Mapped[str] = mapped_column(String(10), default="pending")
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    claimed_by: Mapped[str | None] = mapped_column(String(120))
    claimed_until: Mapped[datetime | None] = mapped_column(DateTime)
    last_error: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    sent_at: Mapped[datetime | None] = mapped_column(DateTime)

    @staticmethod
    def delivery_args(table: str, *more) -> tuple:
        return (CheckConstraint(f"status IN {OUTBOX_STATUSES}", name="status"),
                Index(f"ix_{table}_status_next", "status", "next_attempt_at"), *more)


class MailOutbox(OutboxDelivery, db.Model):
    """One e-mail to send. A notification has at most one; a digest at most one per person and day."""
    __tablename__ = "mail_outbox"
    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    notification_id: Mapped[int | None] = mapped_column(ForeignKey("notifications.id"), unique=True)
    digest_key: Mapped[str | None] = mapped_column(String(40), unique=True)  # "<user id>:<local date>"
    covers_until: Mapped[datetime | None] = mapped_column(DateTime)  # a digest: notifications before this
    to_addr: Mapped[str] = mapped_column(String(200))
    subject: Mapped[str] = mapped_column(String(200))
    body: Mapped[str] = mapped_column(Text)
    # The body holds a secret (a password-reset link): blanked once delivered, subject and times stay.
    secret: Mapped[bool] = mapped_column(Boolean, default=False, server_default=sa_false())
    user: Mapped[User] = relationship()
    notification: Mapped[Notification | None] = relationship()
    __table_args__ = OutboxDelivery.delivery_args("mail_outbox")


def mail_enabled() -> bool:
    return has_app_context() and bool(current_app.config.get("CASEWORK_SMTP_HOST"))


def mode_of(user: User) -> str:
    pref = db.session.get(NotificationPref, user.id)
    return pref.mode if pref else "immediate"


def set_mode(user: User, mode: str) -> None:
    if mode not in MODES:
        raise ValueError(mode)
    pref = db.session.get(NotificationPref, user.id)
    if pref is None:
        db.session.add(NotificationPref(user_id=user.id, mode=mode, since=utcnow()))
    elif pref.mode != mode:
        pref.mode, pref.since = mode, utcnow()


def notify(user: User, subject: str, body: str = "", case: Case | None = None) -> Notification:
    """Puts a notice in the person's inbox and, for e-mail at once, a mail in the outbox: same transaction."""
    note = Notification(user_id=user.id, case_id=case.id if case else None, subject=subject[:200], body=body)
    db.session.add(note)
    if mail_enabled() and user.email and user.active and mode_of(user) == "immediate":
        from .mail import notice_mail
        row = MailOutbox(user_id=user.id, notification=note, to_addr=user.email, subject=subject[:200],
                         body=notice_mail(user, subject, body, case))
        db.session.add(row)
        # The scheduler sends what its own step queued right after committing it.
        db.session.info.setdefault("casework_outbox", []).append(row)
    return note


def mail_only(user: User, subject: str, body: str) -> MailOutbox | None:
    """An e-mail with no inbox notice, sent at once whatever the person's digest setting (a password reset
    link: the person cannot sign in to read the inbox). Such a mail carries a secret: its body is blanked once
    it is delivered. None when mail is off or the person has no address."""
    if not (mail_enabled() and user.email and user.active):
        return None
    from .mail import signature
    row = MailOutbox(user_id=user.id, to_addr=user.email, subject=subject[:200], secret=True,
                     body="\n".join([f"{user.name}，您好：", "", body.strip(), "", signature()]))
    db.session.add(row)
    db.session.info.setdefault("casework_outbox", []).append(row)
    return row


def unread_count(user: User) -> int:
    from sqlalchemy import func
    return db.session.scalar(select(func.count()).select_from(Notification)
                             .where(Notification.user_id == user.id, Notification.read_at.is_(None))) or 0
