"""The in-app inbox. Written in the same transaction as the step that causes it."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import DateTime, ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..accounts.models import User
from ..clock import utcnow
from ..core.models import Case
from ..extensions import db


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


def notify(user: User, subject: str, body: str = "", case: Case | None = None) -> Notification:
    note = Notification(user_id=user.id, case_id=case.id if case else None, subject=subject[:200], body=body)
    db.session.add(note)
    return note
