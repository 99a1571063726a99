from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, CheckConstraint, DateTime, Float, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..accounts.models import User
from ..clock import utcnow
from ..core.models import Case
from ..extensions import db


class Proposal(Case):
    """合理化建议. Benefit and reward in fen."""
    __tablename__ = "proposals"
    id: Mapped[int] = mapped_column(ForeignKey("cases.id"), primary_key=True)
    problem: Mapped[str] = mapped_column(Text)
    suggestion: Mapped[str] = mapped_column(Text)
    expected_benefit: Mapped[str] = mapped_column(Text, default="")
    mean_score: Mapped[float | None] = mapped_column(Float)
    grade: Mapped[str | None] = mapped_column(String(20))
    benefit: Mapped[int | None] = mapped_column(BigInteger)
    reward: Mapped[int | None] = mapped_column(BigInteger)
    reply: Mapped[str] = mapped_column(Text, default="")
    __mapper_args__ = {"polymorphic_identity": "proposal"}


class ProposalScore(db.Model):
    """One evaluator's score (0-100) with comment; one per evaluator and proposal."""
    __tablename__ = "proposal_scores"
    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("proposals.id"), index=True)
    evaluator_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    score: Mapped[int] = mapped_column(Integer)
    comment: Mapped[str] = mapped_column(Text, default="")
    at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    evaluator: Mapped[User] = relationship()
    __table_args__ = (UniqueConstraint("case_id", "evaluator_id"),
                      CheckConstraint("score BETWEEN 0 AND 100", name="score"))
