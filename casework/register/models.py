"""The hardship household register (困难职工档案): households, their members, the yearly re-checks and the
reminders for them. Private: never on the public board. A household's review (the committee's vote, re-checks,
removal) is the `register` workflow, fired through the engine: its votes and audit are the engine's."""
from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import (JSON, BigInteger, CheckConstraint, Date, DateTime, ForeignKey, Integer, String, Text,
                        UniqueConstraint)
from sqlalchemy.orm import Mapped, mapped_column, relationship, synonym

from ..accounts.models import Unit, User
from ..clock import utcnow
from ..core.models import Subject
from ..extensions import db

GRADES = ("general", "special")  # 一般困难 / 特别困难
CAUSES = ("illness", "disability", "single_parent", "spouse_unemployed", "children_in_school", "disaster")
STATUSES = ("proposed", "registered", "rejected", "removed")
RELATIONS = ("self", "spouse", "child", "parent", "other")
POSITIONS = ("approve", "reject")  # the committee's two decisions: the `register` workflow's votes
OUTCOMES = ("kept", "grade_changed", "removed")


class Household(Subject, db.Model):
    """One worker's household; staff propose it after a visit, a committee quorum registers it."""
    __tablename__ = "hardship_households"
    workflow_kind = "register"
    id: Mapped[int] = mapped_column(primary_key=True)
    version: Mapped[int] = mapped_column(Integer, nullable=False)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), unique=True)  # one file per worker, reopened
    unit_id: Mapped[int] = mapped_column(ForeignKey("units.id"), index=True)
    grade: Mapped[str] = mapped_column(String(20))
    causes: Mapped[list] = mapped_column(JSON, default=list)
    status: Mapped[str] = mapped_column(String(20), default="proposed")
    circumstances: Mapped[str] = mapped_column(Text, default="")
    visited_on: Mapped[date] = mapped_column(Date)
    visitor_ids: Mapped[list] = mapped_column(JSON, default=list)
    findings: Mapped[str] = mapped_column(Text, default="")
    proposed_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    proposed_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    round: Mapped[int] = mapped_column(Integer, default=1)  # each proposal is a new voting round
    decided_at: Mapped[datetime | None] = mapped_column(DateTime)
    registered_on: Mapped[date | None] = mapped_column(Date)
    next_review_on: Mapped[date | None] = mapped_column(Date, index=True)
    removed_reason: Mapped[str] = mapped_column(Text, default="")
    updated_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow, onupdate=utcnow)

    user: Mapped[User] = relationship(foreign_keys=[user_id])
    unit: Mapped[Unit] = relationship()
    proposed_by: Mapped[User] = relationship(foreign_keys=[proposed_by_id])
    members: Mapped[list[HouseholdMember]] = relationship(back_populates="household",
                                                          order_by="HouseholdMember.id",
                                                          cascade="all, delete-orphan")
    reviews: Mapped[list[HouseholdReview]] = relationship(back_populates="household",
                                                          order_by="HouseholdReview.id")

    __table_args__ = (CheckConstraint(f"grade IN {GRADES}", name="grade"),
                      CheckConstraint(f"status IN {STATUSES}", name="status"),
                      CheckConstraint("status <> 'registered' OR registered_on IS NOT NULL",
                                      name="registered_on"))
    __mapper_args__ = {"version_id_col": version}
    state = synonym("status")

    @property
    def label(self) -> str:
        return f"household:{self.id}"

    def raised_by(self) -> set[int]:
        """The worker, and while it waits for the vote the staff who proposed it: neither decides it (回避);
        staff re-check and propose again the files they proposed."""
        return {self.user_id, self.proposed_by_id} if self.status == "proposed" else {self.user_id}

    @property
    def monthly_income(self) -> int:
        return sum(m.monthly_income or 0 for m in self.members)

    @property
    def per_capita_income(self) -> int:
        return self.monthly_income // len(self.members) if self.members else 0


class HouseholdMember(db.Model):
    __tablename__ = "hardship_household_members"
    id: Mapped[int] = mapped_column(primary_key=True)
    household_id: Mapped[int] = mapped_column(ForeignKey("hardship_households.id"), index=True)
    name: Mapped[str] = mapped_column(String(60))
    relation: Mapped[str] = mapped_column(String(20))
    monthly_income: Mapped[int] = mapped_column(BigInteger, default=0)  # fen
    note: Mapped[str] = mapped_column(String(200), default="")  # e.g. 在读初二, 长期透析
    # A member who has an account (a colleague): related to the worker, so never their reviewer (回避).
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), index=True)
    household: Mapped[Household] = relationship(back_populates="members")
    __table_args__ = (CheckConstraint(f"relation IN {RELATIONS}", name="relation"),
                      CheckConstraint("monthly_income >= 0", name="monthly_income"))


class HouseholdReview(db.Model):
    """The yearly re-check (动态管理): kept, grade changed, or removed with a reason."""
    __tablename__ = "hardship_household_reviews"
    id: Mapped[int] = mapped_column(primary_key=True)
    household_id: Mapped[int] = mapped_column(ForeignKey("hardship_households.id"), index=True)
    due_on: Mapped[date] = mapped_column(Date)  # the review date this re-check answers
    reviewed_on: Mapped[date] = mapped_column(Date)
    outcome: Mapped[str] = mapped_column(String(20))
    old_grade: Mapped[str] = mapped_column(String(20))
    new_grade: Mapped[str | None] = mapped_column(String(20))
    reason: Mapped[str] = mapped_column(Text, default="")
    reviewed_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    household: Mapped[Household] = relationship(back_populates="reviews")
    reviewed_by: Mapped[User] = relationship()
    __table_args__ = (UniqueConstraint("household_id", "due_on"),
                      CheckConstraint(f"outcome IN {OUTCOMES}", name="outcome"))


class ReviewReminder(db.Model):
    """At most one reminder per household and year: the key is inserted with the notices it sends."""
    __tablename__ = "hardship_review_reminders"
    id: Mapped[int] = mapped_column(primary_key=True)
    household_id: Mapped[int] = mapped_column(ForeignKey("hardship_households.id"))
    year: Mapped[int] = mapped_column(Integer)
    due_on: Mapped[date] = mapped_column(Date)
    at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    recipients: Mapped[int] = mapped_column(Integer, default=0)
    __table_args__ = (UniqueConstraint("household_id", "year"),)


# Rows of one union: seen only within its people's scope (casework/core/tenancy.py).
from ..core.tenancy import unit_scoped  # noqa: E402

unit_scoped(Household)
