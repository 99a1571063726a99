"""The statistics' aggregate, kept by the transition engine at each step (casework/stats/aggregates.py).

A *stay* is the time a case spent in one state: from the audit entry that moved it in to the next one that
moved it out. One row per finished stay, with what the figures ask of it (the deadline its entering step set,
the step that ended it and that step's rating), so a period's figures read its own stays through the
`left_at` index instead of walking every audit entry of the unit tree.
"""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, DateTime, ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from ..extensions import db


class StatStay(db.Model):
    __tablename__ = "stat_stays"
    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"))
    unit_id: Mapped[int] = mapped_column(ForeignKey("units.id"))
    kind: Mapped[str] = mapped_column(String(20))
    state: Mapped[str] = mapped_column(String(40))
    entered_at: Mapped[datetime] = mapped_column(DateTime)
    deadline: Mapped[str | None] = mapped_column(String(40))  # ISO date set by the entering step, as audited
    left_at: Mapped[datetime] = mapped_column(DateTime)
    left_by: Mapped[str] = mapped_column(String(60))  # the trigger of the step that ended the stay
    left_to: Mapped[str] = mapped_column(String(40))  # the state that step entered
    rating: Mapped[str | None] = mapped_column(String(40))  # a motion's rating, when that step rated it
    seconds: Mapped[int] = mapped_column(BigInteger)

    __table_args__ = (
        Index("ix_stat_stays_left_at", "left_at"),
        Index("ix_stat_stays_case_step", "case_id", "left_by", "left_to"),
    )


# Rows of one union: seen only within its people's scope (casework/core/tenancy.py).
from ..core.tenancy import unit_scoped  # noqa: E402

unit_scoped(StatStay)
