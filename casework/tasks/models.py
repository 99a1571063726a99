"""The job rows: one per background job of any kind, with its progress, and the parts it has made."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, CheckConstraint, DateTime, ForeignKey, Integer, LargeBinary, String, Text, \
    UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from ..clock import utcnow
from ..extensions import db

JOB_STATES = ("queued", "running", "done", "failed")


class Job(db.Model):
    """A background job: what to do (kind, args), how far it got, and what it made (result)."""
    __tablename__ = "jobs"
    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(40))
    args: Mapped[dict] = mapped_column(JSON, default=dict)
    state: Mapped[str] = mapped_column(String(20), default="queued")
    done: Mapped[int] = mapped_column(Integer, default=0)
    total: Mapped[int] = mapped_column(Integer, default=0)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    error: Mapped[str] = mapped_column(Text, default="")
    result: Mapped[str | None] = mapped_column(String(200))
    # host:pid of the process running it: a worker starting on the same host re-queues a dead one's job.
    holder: Mapped[str] = mapped_column(String(200), default="")
    created_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    started_at: Mapped[datetime | None] = mapped_column(DateTime)
    heartbeat_at: Mapped[datetime | None] = mapped_column(DateTime)
    finished_at: Mapped[datetime | None] = mapped_column(DateTime)
    __table_args__ = (CheckConstraint(f"state IN {JOB_STATES}", name="state"),
                      CheckConstraint("done >= 0 AND done <= total", name="progress"),
                      CheckConstraint("attempts >= 0", name="attempts"))


class JobPart(db.Model):
    """One effect of a job, made once: a re-run after a worker died finds it here and does not make it again."""
    __tablename__ = "job_parts"
    id: Mapped[int] = mapped_column(primary_key=True)
    job_id: Mapped[int] = mapped_column(ForeignKey("jobs.id", ondelete="CASCADE"))
    part: Mapped[str] = mapped_column(String(100))
    attempt: Mapped[int] = mapped_column(Integer)  # the job's attempt that made it
    size: Mapped[int] = mapped_column(Integer, default=0)
    data: Mapped[bytes | None] = mapped_column(LargeBinary, deferred=True)  # cleared once the job is done
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    __table_args__ = (UniqueConstraint("job_id", "part"),)
