"""Supervision (督办): progress notes on handled cases, 督办 slips, and the monthly bulletin's public postings.

A slip is a subject of its own (`core.models.Subject`): its steps (answer, close) are fired through the engine
and kept in its own hash-chained audit trail. A progress note is written by a case's `progress` step, so
it is in the case's trail as well.
"""
from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import (Boolean, CheckConstraint, Date, DateTime, ForeignKey, Index, Integer, String, Text,
                        UniqueConstraint)
from sqlalchemy.orm import Mapped, mapped_column, relationship, synonym

from workflows.supervision import COLOURS, RULES, State

from ..accounts.models import Department, Unit, User
from ..clock import utcnow
from ..core.models import Case, Subject
from ..extensions import db

STATUSES = tuple(s.value for s in State)
REASONS = tuple(dict.fromkeys(r.reason for r in RULES)) + ("staff",)


class ProgressNote(db.Model):
    """办理进展: what the handling department has done so far, shown to the author and co-signers."""
    __tablename__ = "progress_notes"
    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"))
    department_id: Mapped[int | None] = mapped_column(ForeignKey("departments.id"))
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    text: Mapped[str] = mapped_column(Text)
    case: Mapped[Case] = relationship()
    department: Mapped[Department | None] = relationship()
    user: Mapped[User] = relationship()
    __table_args__ = (Index("ix_progress_notes_case_at", "case_id", "at"),)


class Slip(Subject, db.Model):
    """督办单: a numbered notice to the handling department (and its leader) with a reply-by date."""
    __tablename__ = "supervision_slips"
    workflow_kind = "supervision"
    id: Mapped[int] = mapped_column(primary_key=True)
    version: Mapped[int] = mapped_column(Integer, nullable=False)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"), index=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("units.id"), index=True)
    department_id: Mapped[int] = mapped_column(ForeignKey("departments.id"), index=True)
    colour: Mapped[str] = mapped_column(String(10))
    reason: Mapped[str] = mapped_column(String(20))
    # The condition a sweep slip answers (e.g. "red:overdue:2026-12-01"): one slip per condition. NULL for
    # staff's own slips.
    basis: Mapped[str | None] = mapped_column(String(80))
    status: Mapped[str] = mapped_column(String(20), default="issued")
    number: Mapped[str] = mapped_column(String(40), default="")
    notice_id: Mapped[int | None] = mapped_column(ForeignKey("notices.id"))
    remark: Mapped[str] = mapped_column(Text, default="")
    issued_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))  # NULL: the sweep
    issued_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    case_deadline: Mapped[date | None] = mapped_column(Date)
    reply_by: Mapped[date] = mapped_column(Date)
    answer: Mapped[str] = mapped_column(Text, default="")
    answered_at: Mapped[datetime | None] = mapped_column(DateTime)
    answered_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    answered_on_time: Mapped[bool | None] = mapped_column(Boolean)
    closed_at: Mapped[datetime | None] = mapped_column(DateTime)
    updated_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow, onupdate=utcnow)

    case: Mapped[Case] = relationship()
    unit: Mapped[Unit] = relationship()
    department: Mapped[Department] = relationship()
    issued_by: Mapped[User | None] = relationship(foreign_keys=[issued_by_id])
    answered_by: Mapped[User | None] = relationship(foreign_keys=[answered_by_id])

    __table_args__ = (UniqueConstraint("case_id", "basis"),
                      CheckConstraint(f"colour IN {COLOURS}", name="colour"),
                      CheckConstraint(f"status IN {STATUSES}", name="status"),
                      CheckConstraint(f"reason IN {REASONS}", name="reason"),
                      Index("ix_supervision_slips_status_dept", "status", "department_id"))
    __mapper_args__ = {"version_id_col": version}
    state = synonym("status")

    @property
    def label(self) -> str:
        return self.number or f"slip:{self.id}"

    @property
    def open(self) -> bool:
        return self.status != "closed"


class BulletinPosting(db.Model):
    """A monthly bulletin (督办通报) put on the public board: departments and figures only."""
    __tablename__ = "supervision_bulletin_postings"
    id: Mapped[int] = mapped_column(primary_key=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("units.id"))
    period: Mapped[str] = mapped_column(String(7))  # YYYY-MM
    notice_id: Mapped[int] = mapped_column(ForeignKey("notices.id"))
    posted_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    posted_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    unit: Mapped[Unit] = relationship()
    __table_args__ = (UniqueConstraint("unit_id", "period"),)


# Rows of one union: seen only within its people's scope (casework/core/tenancy.py).
from ..core.tenancy import unit_scoped  # noqa: E402

unit_scoped(Slip)
unit_scoped(BulletinPosting)
