"""Each routing of a case to a department, and the opinions its co-handling departments owe the lead."""
from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Boolean, Date, DateTime, ForeignKey, Integer, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..accounts.models import Department, User
from ..extensions import db


class Routing(db.Model):
    """A case given to a department (a motion filed, a proposal adopted): when it signed for it, or returned
    it as not its own and why. One row per routing, so the time each department spent stays on the case."""
    __tablename__ = "case_routings"
    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"), index=True)
    department_id: Mapped[int] = mapped_column(ForeignKey("departments.id"))
    routed_at: Mapped[datetime] = mapped_column(DateTime)
    receipt_due: Mapped[date] = mapped_column(Date)
    # Working days the routing allowed for handling, counted from the receipt; None: the unit's default.
    handling_days: Mapped[int | None] = mapped_column(Integer)
    acknowledged_at: Mapped[datetime | None] = mapped_column(DateTime)
    acknowledged_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    returned_at: Mapped[datetime | None] = mapped_column(DateTime)
    returned_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    return_reason: Mapped[str | None] = mapped_column(Text)
    department: Mapped[Department] = relationship()
    acknowledged_by: Mapped[User | None] = relationship(foreign_keys=[acknowledged_by_id])
    returned_by: Mapped[User | None] = relationship(foreign_keys=[returned_by_id])


class Opinion(db.Model):
    """会办意见: what one co-handling department contributes to the lead department's reply, by its due date."""
    __tablename__ = "case_opinions"
    id: Mapped[int] = mapped_column(primary_key=True)
    routing_id: Mapped[int] = mapped_column(ForeignKey("case_routings.id", ondelete="CASCADE"))
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"), index=True)
    department_id: Mapped[int] = mapped_column(ForeignKey("departments.id"))
    due: Mapped[date] = mapped_column(Date)
    text: Mapped[str | None] = mapped_column(Text)
    submitted_at: Mapped[datetime | None] = mapped_column(DateTime)
    submitted_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    # Set when the lead replied past the due date without it: the reply says it is missing.
    missing_at_reply: Mapped[bool] = mapped_column(Boolean, default=False)
    department: Mapped[Department] = relationship()
    submitted_by: Mapped[User | None] = relationship()
    __table_args__ = (UniqueConstraint("routing_id", "department_id"),)
