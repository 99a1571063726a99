"""The ratings ledger (one row per rating, never deleted) and the call-back (回访), a subject of the engine
with its own workflow (workflows/callback.py)."""
from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import (Boolean, CheckConstraint, Date, DateTime, ForeignKey, Index, Integer, String, Text,
                        UniqueConstraint, select)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from workflows.callback import HOW, OUTCOMES, State
from workflows.ratings import RATINGS

from ..accounts.models import Department, DepartmentMember, Unit, User
from ..clock import utcnow
from ..core.models import Case, Subject
from ..extensions import db

CALLBACK_STATES = tuple(s.value for s in State)
RATER_ROLES = ("author", "cosigner")


class Callback(Subject, db.Model):
    """A call-back owed after a 不满意 rating of one reply of a case (all 不满意 ratings of that reply
    while it is due)."""
    __tablename__ = "callbacks"
    workflow_kind = "callback"
    id: Mapped[int] = mapped_column(primary_key=True)
    version: Mapped[int] = mapped_column(Integer, nullable=False)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"), index=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("units.id"), index=True)
    department_id: Mapped[int | None] = mapped_column(ForeignKey("departments.id"), index=True)
    round: Mapped[int] = mapped_column(Integer)  # the reply rated (1 = the first reply)
    state: Mapped[str] = mapped_column(String(20), default="due")
    opened_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    due_on: Mapped[date] = mapped_column(Date, index=True)
    called_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    called_on: Mapped[date | None] = mapped_column(Date)
    how: Mapped[str | None] = mapped_column(String(20))
    notes: Mapped[str] = mapped_column(Text, default="")
    outcome: Mapped[str | None] = mapped_column(String(20))
    fix_by: Mapped[date | None] = mapped_column(Date)
    fix_started: Mapped[bool] = mapped_column(Boolean, default=False)
    explanation: Mapped[str] = mapped_column(Text, default="")
    decision: Mapped[str] = mapped_column(Text, default="")  # the committee's reasons on an appeal
    decided_at: Mapped[datetime | None] = mapped_column(DateTime)
    reminded: Mapped[str | None] = mapped_column(String(20))  # the latest reminder phase sent
    updated_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow, onupdate=utcnow)

    case: Mapped[Case] = relationship()
    unit: Mapped[Unit] = relationship()
    department: Mapped[Department | None] = relationship()
    called_by: Mapped[User | None] = relationship()
    ratings: Mapped[list[Rating]] = relationship(back_populates="callback", order_by="Rating.id")

    __table_args__ = (CheckConstraint(f"state IN {CALLBACK_STATES}", name="state"),
                      CheckConstraint(f"how IS NULL OR how IN {HOW}", name="how"),
                      CheckConstraint(f"outcome IS NULL OR outcome IN {OUTCOMES}", name="outcome"),
                      Index("ix_callbacks_state_due", "state", "due_on"))
    __mapper_args__ = {"version_id_col": version}

    @property
    def label(self) -> str:
        return f"callback:{self.id}"

    def raised_by(self) -> set[int]:
        """The raters and the handling department's people: none of them decides an appeal (回避)."""
        ids = self.case.raised_by()
        if self.department_id is not None:
            ids |= set(db.session.scalars(select(DepartmentMember.user_id)
                                          .where(DepartmentMember.department_id == self.department_id)))
        return ids


class Rating(db.Model):
    """One rater's rating of one reply: attitude (办理态度) and result (办理结果). Set aside by an upheld
    appeal, it stays here, flagged, and counts no more."""
    __tablename__ = "ratings"
    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"), index=True)
    kind: Mapped[str] = mapped_column(String(20))
    unit_id: Mapped[int] = mapped_column(ForeignKey("units.id"))
    department_id: Mapped[int | None] = mapped_column(ForeignKey("departments.id"))
    rater_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    role: Mapped[str] = mapped_column(String(20))
    round: Mapped[int] = mapped_column(Integer)
    attitude: Mapped[str | None] = mapped_column(String(30))  # None: rated by the old single rating
    result: Mapped[str] = mapped_column(String(30))
    comment: Mapped[str] = mapped_column(Text, default="")
    at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    callback_id: Mapped[int | None] = mapped_column(ForeignKey("callbacks.id"), index=True)
    set_aside: Mapped[bool] = mapped_column(Boolean, default=False)
    set_aside_at: Mapped[datetime | None] = mapped_column(DateTime)

    rater: Mapped[User] = relationship()
    department: Mapped[Department | None] = relationship()
    callback: Mapped[Callback | None] = relationship(back_populates="ratings")

    __table_args__ = (UniqueConstraint("case_id", "round", "rater_id"),
                      CheckConstraint(f"attitude IS NULL OR attitude IN {RATINGS}", name="attitude"),
                      CheckConstraint(f"result IN {RATINGS}", name="result"),
                      CheckConstraint(f"role IN {RATER_ROLES}", name="role"),
                      Index("ix_ratings_department_at", "department_id", "at"),
                      Index("ix_ratings_unit_at", "unit_id", "at"))

    @property
    def unsatisfied(self) -> bool:
        return "unsatisfied" in (self.attitude, self.result)


# Rows of one union: seen only within its people's scope (casework/core/tenancy.py).
from ..core.tenancy import unit_scoped  # noqa: E402

unit_scoped(Callback)
unit_scoped(Rating)
