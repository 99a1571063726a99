"""The aid request (a case kind: category, amounts in fen, private circumstances and details) and its visits."""
from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import JSON, BigInteger, CheckConstraint, Date, DateTime, ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..clock import utcnow
from ..core.models import Case
from ..extensions import db

CATEGORIES = ("hardship", "illness", "education", "holiday_visit")


class AidRequest(Case):
    """帮扶申请. Money in fen (分)."""
    __tablename__ = "aid_requests"
    id: Mapped[int] = mapped_column(ForeignKey("cases.id"), primary_key=True)
    category: Mapped[str] = mapped_column(String(20))
    amount_requested: Mapped[int] = mapped_column(BigInteger)
    amount_proposed: Mapped[int | None] = mapped_column(BigInteger)
    amount_approved: Mapped[int | None] = mapped_column(BigInteger)
    circumstances: Mapped[str] = mapped_column(Text, default="")  # private
    details: Mapped[dict] = mapped_column(JSON, default=dict)     # category-specific, private
    fund_id: Mapped[int | None] = mapped_column(ForeignKey("funds.id"))
    # Multi-level approval (casework/aid/levels.py): the parent union the grassroots committee referred the
    # request to, and the amount it approved then; None while the grassroots committee decides alone.
    referred_unit_id: Mapped[int | None] = mapped_column(ForeignKey("units.id"))
    referred_amount: Mapped[int | None] = mapped_column(BigInteger)
    referred_unit: Mapped["Unit | None"] = relationship(foreign_keys=[referred_unit_id], lazy="selectin")
    # Separate consent to processing the sensitive parts (casework/privacy/consent.py): the exact text agreed
    # to is kept with its version, who gave it (the applicant, or a group leader for them) and how.
    consent_version: Mapped[str | None] = mapped_column(String(20))
    consent_text: Mapped[str | None] = mapped_column(Text)
    consent_given_by: Mapped[str | None] = mapped_column(String(10))
    consent_how: Mapped[str | None] = mapped_column(String(20))
    consent_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    consent_at: Mapped[datetime | None] = mapped_column(DateTime)
    consent_withdrawn_at: Mapped[datetime | None] = mapped_column(DateTime)
    consent_by: Mapped["User | None"] = relationship(foreign_keys=[consent_by_id], lazy="selectin")
    # Retention (casework/privacy/retention.py): when the case was anonymised, and a legal hold that stops it.
    anonymised_at: Mapped[datetime | None] = mapped_column(DateTime)
    hold_reason: Mapped[str | None] = mapped_column(Text)
    hold_at: Mapped[datetime | None] = mapped_column(DateTime)
    hold_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    hold_by: Mapped["User | None"] = relationship(foreign_keys=[hold_by_id])
    __mapper_args__ = {"polymorphic_identity": "aid", "polymorphic_load": "selectin"}
    __table_args__ = (CheckConstraint(f"category IN {CATEGORIES}", name="category"),
                      CheckConstraint("amount_requested >= 0", name="amount_requested"),
                      CheckConstraint("consent_given_by IS NULL OR consent_given_by IN ('self', 'on_behalf')",
                                      name="consent_given_by"),
                      CheckConstraint("(consent_at IS NULL) = (consent_version IS NULL)", name="consent_at"))


class AidVisit(db.Model):
    """走访核实: a home visit by at least two people; findings are private to reviewers."""
    __tablename__ = "aid_visits"
    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("aid_requests.id"), index=True)
    visited_on: Mapped[date] = mapped_column(Date, index=True)
    visitor_ids: Mapped[list] = mapped_column(JSON)
    findings: Mapped[str] = mapped_column(Text)
    recorded_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
