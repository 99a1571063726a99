"""The yearly upward report (年度上报) of a union to the union above it: one per union and year. Its review is
the `upward_report` workflow (workflows/upward_report.py), fired through the engine: steps, roles, 回避, the
optimistic lock and the hash-chained audit trail are the engine's."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, CheckConstraint, DateTime, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship, synonym

from ..accounts.models import Unit, User
from ..clock import utcnow
from ..core.models import Subject
from ..extensions import db

STATUSES = ("draft", "submitted", "returned", "accepted")


class UpwardReport(Subject, db.Model):
    __tablename__ = "upward_reports"
    workflow_kind = "upward_report"
    id: Mapped[int] = mapped_column(primary_key=True)
    version: Mapped[int] = mapped_column(Integer, nullable=False)
    unit_id: Mapped[int] = mapped_column(ForeignKey("units.id"), index=True)
    # The union it goes to, fixed when drafted: the inbox lists by it.
    upper_unit_id: Mapped[int] = mapped_column(ForeignKey("units.id"), index=True)
    year: Mapped[int] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(20), default="draft")
    summary: Mapped[str] = mapped_column(Text, default="")  # the union's own account of its year
    # The annual reports' values per kind (aid, proposal, motion), frozen at the last submission.
    figures: Mapped[dict | None] = mapped_column(JSON)
    drafted_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    submitted_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    submitted_at: Mapped[datetime | None] = mapped_column(DateTime)
    submissions: Mapped[int] = mapped_column(Integer, default=0)
    reviewed_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    reviewed_at: Mapped[datetime | None] = mapped_column(DateTime)
    return_reason: Mapped[str] = mapped_column(Text, default="")
    updated_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow, onupdate=utcnow)

    unit: Mapped[Unit] = relationship(foreign_keys=[unit_id])
    upper_unit: Mapped[Unit] = relationship(foreign_keys=[upper_unit_id])
    drafted_by: Mapped[User] = relationship(foreign_keys=[drafted_by_id])
    submitted_by: Mapped[User | None] = relationship(foreign_keys=[submitted_by_id])
    reviewed_by: Mapped[User | None] = relationship(foreign_keys=[reviewed_by_id])

    __table_args__ = (UniqueConstraint("unit_id", "year"),
                      CheckConstraint(f"status IN {STATUSES}", name="status"),
                      CheckConstraint("unit_id <> upper_unit_id", name="upper_unit"),
                      CheckConstraint("status NOT IN ('submitted', 'accepted') OR figures IS NOT NULL",
                                      name="figures_frozen"),
                      CheckConstraint("status <> 'returned' OR return_reason <> ''", name="return_reason"))
    __mapper_args__ = {"version_id_col": version}
    state = synonym("status")

    @property
    def kind(self) -> str:
        return self.workflow_kind  # who may act now (core.actors) reads the workflow by it

    @property
    def parties(self) -> list:
        return []

    @property
    def label(self) -> str:
        return f"upward_report:{self.unit.code}:{self.year}"

    def raised_by(self) -> set[int]:
        """While it waits for review, who drafted or submitted it may not review it (回避); before, they are the
        ones who submit it."""
        if self.status != "submitted":
            return set()
        return {i for i in (self.drafted_by_id, self.submitted_by_id) if i is not None}


# Rows of one union: seen only within its people's scope (casework/core/tenancy.py).
from ..core.tenancy import unit_scoped  # noqa: E402

unit_scoped(UpwardReport)
