"""Disclosures (公示) on the public board, their frozen items, objections and reports. A disclosure's life
(sign-off by the committee's quorum, posting, ending, superseding) is the `board` workflow, fired through the
engine: its votes and hash-chained audit entries are the engine's (core/models.py)."""
from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import (JSON, BigInteger, Boolean, CheckConstraint, Date, DateTime, ForeignKey, Index, Integer,
                        String, Text, UniqueConstraint)
from sqlalchemy import select
from sqlalchemy.orm import Mapped, mapped_column, relationship, synonym

from ..accounts.models import Unit
from ..clock import utcnow
from ..core.models import Subject
from ..extensions import db

KINDS = ("aid", "proposal", "motion", "fund")
STATUSES = ("awaiting_signoff", "scheduled", "posted", "ended", "superseded")


class Disclosure(Subject, db.Model):
    __tablename__ = "disclosures"
    workflow_kind = "board"
    id: Mapped[int] = mapped_column(primary_key=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("units.id"), index=True)
    kind: Mapped[str] = mapped_column(String(20))
    title: Mapped[str] = mapped_column(String(200))
    status: Mapped[str] = mapped_column(String(20), default="awaiting_signoff")
    version: Mapped[int] = mapped_column(Integer, default=1)  # the posting's version (corrections)
    lock_version: Mapped[int] = mapped_column(Integer, nullable=False)  # optimistic lock of the row
    updated_at: Mapped[datetime | None] = mapped_column(DateTime, default=utcnow)
    supersedes_id: Mapped[int | None] = mapped_column(ForeignKey("disclosures.id"))
    correction: Mapped[str] = mapped_column(Text, default="")  # what changed and why, on a new version
    period_days: Mapped[int] = mapped_column(Integer, default=5)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    starts_at: Mapped[datetime | None] = mapped_column(DateTime)
    ends_on: Mapped[date | None] = mapped_column(Date, index=True)  # last day of the objection period
    signed_off_at: Mapped[datetime | None] = mapped_column(DateTime)
    signers: Mapped[list] = mapped_column(JSON, default=list)  # names printed in the sign-off block
    # One scheduled batch per unit, kind and week: a second sweep for the same week adds nothing.
    batch_key: Mapped[str | None] = mapped_column(String(60), unique=True)
    unit: Mapped[Unit] = relationship()
    items: Mapped[list[DisclosureItem]] = relationship(back_populates="disclosure", order_by="DisclosureItem.seq",
                                                       cascade="all, delete-orphan")
    __table_args__ = (CheckConstraint(f"kind IN {KINDS}", name="kind"),
                      CheckConstraint(f"status IN {STATUSES}", name="status"),
                      Index("ix_disclosures_status_ends", "status", "ends_on"))
    __mapper_args__ = {"version_id_col": lock_version}
    state = synonym("status")

    @property
    def label(self) -> str:
        return f"disclosure:{self.id}"

    def raised_by(self) -> set[int]:
        """The people its cases are for or were raised by: they (and their relatives) do not sign it off."""
        from ..core.models import Case
        ids = select(PendingItem.case_id).where(PendingItem.disclosure_id == self.id).union(
            select(DisclosureItem.case_id).where(DisclosureItem.disclosure_id == self.id,
                                                 DisclosureItem.case_id.is_not(None)))
        out: set[int] = set()
        for case in db.session.scalars(select(Case).where(Case.id.in_(ids))):
            out |= case.raised_by()
        return out


class DisclosureItem(db.Model):
    """A frozen line of a disclosure: only what may be public (masked name, unit, category, amount)."""
    __tablename__ = "disclosure_items"
    id: Mapped[int] = mapped_column(primary_key=True)
    disclosure_id: Mapped[int] = mapped_column(ForeignKey("disclosures.id"), index=True)
    seq: Mapped[int] = mapped_column(Integer)
    case_id: Mapped[int | None] = mapped_column(ForeignKey("cases.id"), index=True)
    case_number: Mapped[str] = mapped_column(String(30), default="")
    masked_name: Mapped[str] = mapped_column(String(60))
    unit_name: Mapped[str] = mapped_column(String(100))
    category: Mapped[str] = mapped_column(String(40))
    amount: Mapped[int | None] = mapped_column(BigInteger)
    note: Mapped[str] = mapped_column(String(200), default="")
    withdrawn: Mapped[bool] = mapped_column(Boolean, default=False)  # struck by a correction
    disclosure: Mapped[Disclosure] = relationship(back_populates="items")
    __table_args__ = (UniqueConstraint("disclosure_id", "seq"),)


class PendingItem(db.Model):
    """A case waiting for the next batch of its unit (joined at approval or reward)."""
    __tablename__ = "disclosure_pending"
    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"), unique=True)
    kind: Mapped[str] = mapped_column(String(20))
    unit_id: Mapped[int] = mapped_column(ForeignKey("units.id"), index=True)
    disclosure_id: Mapped[int | None] = mapped_column(ForeignKey("disclosures.id"))
    at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)


class Objection(db.Model):
    """An objection to an item during its period (异议), or a report of false or missing disclosure (举报)."""
    __tablename__ = "objections"
    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(20))  # objection | report
    # Stored without dashes, upper case: 16 symbols of CODE_ALPHABET (80 bits); older rows have 10.
    tracking_code: Mapped[str] = mapped_column(String(20), unique=True)
    disclosure_id: Mapped[int | None] = mapped_column(ForeignKey("disclosures.id"), index=True)
    item_id: Mapped[int | None] = mapped_column(ForeignKey("disclosure_items.id"))
    unit_id: Mapped[int] = mapped_column(ForeignKey("units.id"))
    text: Mapped[str] = mapped_column(Text)
    anonymous: Mapped[bool] = mapped_column(Boolean, default=True)
    # Set only when not anonymous: anonymous ones keep no account link and no address.
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    contact: Mapped[str] = mapped_column(String(100), default="")
    status: Mapped[str] = mapped_column(String(20), default="open")
    answer: Mapped[str] = mapped_column(Text, default="")
    answered_at: Mapped[datetime | None] = mapped_column(DateTime)
    due_on: Mapped[date] = mapped_column(Date)
    substantiated: Mapped[bool | None] = mapped_column(Boolean)
    reward: Mapped[int | None] = mapped_column(BigInteger)
    at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    # Acknowledgement by union staff (回执确认), due by ack_due_on; the sweep reminds staff once after it.
    ack_due_on: Mapped[date | None] = mapped_column(Date, index=True)
    acknowledged_at: Mapped[datetime | None] = mapped_column(DateTime)
    ack_reminded_at: Mapped[datetime | None] = mapped_column(DateTime)
    item: Mapped[DisclosureItem | None] = relationship()
    disclosure: Mapped[Disclosure | None] = relationship()
    __table_args__ = (CheckConstraint("kind IN ('objection', 'report')", name="kind"),
                      CheckConstraint("status IN ('open', 'answered')", name="status"),
                      CheckConstraint("NOT anonymous OR user_id IS NULL", name="anonymous"))


# Rows of one union: seen only within its people's scope (casework/core/tenancy.py).
from ..core.tenancy import unit_scoped  # noqa: E402

unit_scoped(Disclosure)
unit_scoped(PendingItem)
unit_scoped(Objection)
