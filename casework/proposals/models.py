"""The rationalisation proposal (a case kind), its evaluators' scores, search terms and duplicates."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import (BigInteger, CheckConstraint, DateTime, Float, ForeignKey, Integer, String, Text,
                        UniqueConstraint)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..accounts.models import User
from ..clock import utcnow
from ..core.models import Case, CaseParty
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
    __mapper_args__ = {"polymorphic_identity": "proposal", "polymorphic_load": "selectin"}

    @property
    def coproposers(self) -> list[User]:
        return [p.user for p in self.parties if p.role == "coproposer"]

    @coproposers.setter
    def coproposers(self, users: list[User]):
        # Set on a draft (create and edit): the co-proposer rows follow the list given.
        wanted = {u.id for u in users}
        for p in [p for p in self.parties if p.role == "coproposer" and p.user_id not in wanted]:
            self.parties.remove(p)
        have = self.party_ids("coproposer")
        for user in users:
            if user.id not in have:
                self.parties.append(CaseParty(user=user, role="coproposer"))
                have.add(user.id)


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


class ProposalTerm(db.Model):
    """A submitted proposal's words (jieba) with their counts: the index duplicate detection ranks by."""
    __tablename__ = "proposal_terms"
    proposal_id: Mapped[int] = mapped_column(ForeignKey("proposals.id"), primary_key=True)
    term: Mapped[str] = mapped_column(String(32), primary_key=True, index=True)
    tf: Mapped[int] = mapped_column(Integer)


class ProposalDuplicate(db.Model):
    """Staff marked a proposal as saying the same as an earlier one; it was declined with a link to it."""
    __tablename__ = "proposal_duplicates"
    proposal_id: Mapped[int] = mapped_column(ForeignKey("proposals.id"), primary_key=True)
    original_id: Mapped[int] = mapped_column(ForeignKey("proposals.id"), index=True)
    similarity: Mapped[float | None] = mapped_column(Float)
    marked_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    original: Mapped[Proposal] = relationship(foreign_keys=[original_id])
    marked_by: Mapped[User] = relationship()
    __table_args__ = (CheckConstraint("proposal_id <> original_id", name="not_itself"),)
