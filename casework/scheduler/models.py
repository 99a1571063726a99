"""What the scheduler keeps: effects done (exactly once), its lease, its jobs' last runs, failures."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, Boolean, DateTime, Float, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..clock import utcnow
from ..core.models import Case
from ..extensions import db


class ScheduledEffect(db.Model):
    """One reminder or automatic step, done once per case, state entry and kind.

    The row is inserted in the same transaction as the effect: a second process, a retry after a crash
    or a repeated run hits the unique constraint and does nothing.
    """
    __tablename__ = "scheduled_effects"
    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"))
    state_seq: Mapped[int] = mapped_column(Integer)
    kind: Mapped[str] = mapped_column(String(40))  # remind_before, remind_due, escalate, step:<trigger>
    state: Mapped[str] = mapped_column(String(30))
    at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    recipients: Mapped[int] = mapped_column(Integer, default=0)
    case: Mapped[Case] = relationship()
    __table_args__ = (UniqueConstraint("case_id", "state_seq", "kind"),)


class SchedulerLease(db.Model):
    """Who runs the jobs. On SQLite the row is the lease (expiry by the database's clock); on PostgreSQL an
    advisory lock is, and the row only tells the admin page who holds it."""
    __tablename__ = "scheduler_lease"
    name: Mapped[str] = mapped_column(String(40), primary_key=True)
    holder: Mapped[str | None] = mapped_column(String(120))
    host: Mapped[str | None] = mapped_column(String(100))
    pid: Mapped[int | None] = mapped_column(Integer)
    acquired_at: Mapped[datetime | None] = mapped_column(DateTime)
    renewed_at: Mapped[datetime | None] = mapped_column(DateTime)
    # Seconds since the epoch on the database's clock, so processes with skewed clocks agree.
    expires: Mapped[float] = mapped_column(Float, default=0.0)


class SchedulerJob(db.Model):
    """The last run of each job, for the admin page (the scheduler runs in another process)."""
    __tablename__ = "scheduler_jobs"
    id: Mapped[str] = mapped_column(String(60), primary_key=True)
    description: Mapped[str] = mapped_column(String(200), default="")
    trigger: Mapped[str] = mapped_column(String(200), default="")
    last_started_at: Mapped[datetime | None] = mapped_column(DateTime)
    last_finished_at: Mapped[datetime | None] = mapped_column(DateTime)
    last_ok: Mapped[bool | None] = mapped_column(Boolean)
    last_error: Mapped[str] = mapped_column(Text, default="")
    last_summary: Mapped[dict] = mapped_column(JSON, default=dict)
    next_run_at: Mapped[datetime | None] = mapped_column(DateTime)
    runs: Mapped[int] = mapped_column(Integer, default=0)
    failed_runs: Mapped[int] = mapped_column(Integer, default=0)


class SchedulerFailure(db.Model):
    """A piece of due work that raised: kept (and counted) until an admin clears it."""
    __tablename__ = "scheduler_failures"
    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(120), unique=True)
    case_id: Mapped[int | None] = mapped_column(ForeignKey("cases.id"))
    what: Mapped[str] = mapped_column(String(60))
    error: Mapped[str] = mapped_column(Text, default="")
    count: Mapped[int] = mapped_column(Integer, default=1)
    first_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    last_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    case: Mapped[Case | None] = relationship()
