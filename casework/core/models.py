"""What every case type shares: the case row, its parties, votes, audit trail, serials, unit settings."""
from __future__ import annotations

import hashlib
import json
from datetime import date, datetime
from typing import Any

from sqlalchemy import (JSON, CheckConstraint, Date, DateTime, ForeignKey, Index, Integer, String,
                        Text, UniqueConstraint, event, insert, select, update)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..accounts.models import Department, Unit, User
from ..clock import utcnow
from ..extensions import db

KINDS = ("aid", "proposal", "motion")
PARTY_KINDS = ("cosigner", "coproposer", "evaluator", "visitor")
KIND_PREFIX = {"aid": "A", "proposal": "P", "motion": "M"}


class Case(db.Model):
    __tablename__ = "cases"
    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(20))
    number: Mapped[str] = mapped_column(String(30), unique=True)
    state: Mapped[str] = mapped_column(String(30))
    version: Mapped[int] = mapped_column(Integer, nullable=False)
    unit_id: Mapped[int] = mapped_column(ForeignKey("units.id"))
    applicant_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    created_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    department_id: Mapped[int | None] = mapped_column(ForeignKey("departments.id"), index=True)
    title: Mapped[str] = mapped_column(String(200), default="")
    # Counts state entries: reminders and vote rounds are keyed by it.
    state_seq: Mapped[int] = mapped_column(Integer, default=0)
    state_entered_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    deadline: Mapped[date | None] = mapped_column(Date)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow, onupdate=utcnow)

    unit: Mapped[Unit] = relationship()
    applicant: Mapped[User] = relationship(foreign_keys=[applicant_id])
    created_by: Mapped[User] = relationship(foreign_keys=[created_by_id])
    department: Mapped[Department | None] = relationship()
    parties: Mapped[list[CaseParty]] = relationship(back_populates="case", cascade="all, delete-orphan",
                                                    order_by="CaseParty.id")

    __mapper_args__ = {"polymorphic_on": "kind", "version_id_col": version}
    __table_args__ = (
        CheckConstraint(f"kind IN {KINDS}", name="kind"),
        # (kind, state) lists, and the sweep's "this state, deadline passed" as one range scan.
        Index("ix_cases_kind_state_deadline", "kind", "state", "deadline"),
        Index("ix_cases_unit_state", "unit_id", "state"),
        Index("ix_cases_deadline", "deadline"),
    )

    def party_ids(self, role: str) -> set[int]:
        return {p.user_id for p in self.parties if p.role == role}

    def raised_by(self) -> set[int]:
        """Who raised the case: they may not review it (回避)."""
        return {self.applicant_id, self.created_by_id} | self.party_ids("cosigner") | self.party_ids("coproposer")

    def __repr__(self):
        return f"<Case {self.number} {self.state}>"


class CaseParty(db.Model):
    __tablename__ = "case_parties"
    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"), index=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    role: Mapped[str] = mapped_column(String(20))
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    case: Mapped[Case] = relationship(back_populates="parties")
    user: Mapped[User] = relationship()
    __table_args__ = (UniqueConstraint("case_id", "user_id", "role"),
                      CheckConstraint(f"role IN {PARTY_KINDS}", name="role"))


class Vote(db.Model):
    """One committee member's vote in one round (a round is one entry into the voting state)."""
    __tablename__ = "votes"
    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"), index=True)
    round: Mapped[int] = mapped_column(Integer)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    delegate_of_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    trigger: Mapped[str] = mapped_column(String(40))
    # Votes carry only when they agree: same trigger and same decisive values (e.g. the amount).
    position: Mapped[str] = mapped_column(String(200))
    data: Mapped[dict] = mapped_column(JSON, default=dict)
    comment: Mapped[str] = mapped_column(Text, default="")
    at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    user: Mapped[User] = relationship(foreign_keys=[user_id])
    __table_args__ = (UniqueConstraint("case_id", "round", "user_id"),)


class AuditEntry(db.Model):
    """Append-only; each entry's hash covers its content and the previous entry's hash."""
    __tablename__ = "audit_entries"
    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"))
    seq: Mapped[int] = mapped_column(Integer)
    at: Mapped[datetime] = mapped_column(DateTime)
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    delegate_of_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    actor_label: Mapped[str] = mapped_column(String(120))
    trigger: Mapped[str] = mapped_column(String(40))
    from_state: Mapped[str] = mapped_column(String(30))
    to_state: Mapped[str] = mapped_column(String(30))
    comment: Mapped[str] = mapped_column(Text, default="")
    changes: Mapped[dict] = mapped_column(JSON, default=dict)
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64))
    actor: Mapped[User | None] = relationship(foreign_keys=[actor_id])
    delegate_of: Mapped[User | None] = relationship(foreign_keys=[delegate_of_id])
    __table_args__ = (UniqueConstraint("case_id", "seq"),)

    def payload(self) -> dict[str, Any]:
        return {"case_id": self.case_id, "seq": self.seq, "at": self.at.isoformat(),
                "actor": self.actor_label, "trigger": self.trigger, "from": self.from_state,
                "to": self.to_state, "comment": self.comment or "", "changes": self.changes or {},
                "prev": self.prev_hash}

    def compute_hash(self) -> str:
        blob = json.dumps(self.payload(), sort_keys=True, ensure_ascii=False, separators=(",", ":"),
                          default=str)
        return hashlib.sha256(blob.encode()).hexdigest()


@event.listens_for(AuditEntry, "before_update")
@event.listens_for(AuditEntry, "before_delete")
def _audit_is_append_only(mapper, connection, target):
    raise RuntimeError("audit entries are append-only")


GENESIS = "0" * 64


def verify_chain(case_id: int) -> tuple[bool, int | None]:
    """(True, None) when the case's chain is intact, else (False, seq of the first bad entry)."""
    prev = GENESIS
    entries = db.session.scalars(select(AuditEntry).where(AuditEntry.case_id == case_id)
                                 .order_by(AuditEntry.seq))
    for expected_seq, entry in enumerate(entries, start=1):
        if entry.seq != expected_seq or entry.prev_hash != prev or entry.compute_hash() != entry.hash:
            return False, entry.seq
        prev = entry.hash
    return True, None


class Serial(db.Model):
    """Gap-free counters per scope and year (case numbers, notice numbers)."""
    __tablename__ = "serials"
    scope: Mapped[str] = mapped_column(String(60), primary_key=True)
    year: Mapped[int] = mapped_column(Integer, primary_key=True)
    last: Mapped[int] = mapped_column(Integer, default=0)


def next_serial(scope: str, year: int) -> int:
    """Atomically take the next number; concurrent callers serialise on the counter row."""
    bind = db.session.get_bind()
    stmt = insert(Serial).values(scope=scope, year=year, last=0)
    if bind.dialect.name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert as pg_insert
        stmt = pg_insert(Serial).values(scope=scope, year=year, last=0).on_conflict_do_nothing()
    else:
        stmt = stmt.prefix_with("OR IGNORE")
    db.session.execute(stmt)
    return db.session.execute(
        update(Serial).where(Serial.scope == scope, Serial.year == year)
        .values(last=Serial.last + 1).returning(Serial.last)).scalar_one()


class UnitSetting(db.Model):
    """A rule's number changed for one unit and the units below it."""
    __tablename__ = "unit_settings"
    id: Mapped[int] = mapped_column(primary_key=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("units.id"))
    key: Mapped[str] = mapped_column(String(60))
    value: Mapped[Any] = mapped_column(JSON)
    __table_args__ = (UniqueConstraint("unit_id", "key"),)


class CongressSession(db.Model):
    """A congress (职代会/教代会) session, to which motions belong."""
    __tablename__ = "congress_sessions"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(120))
    unit_id: Mapped[int] = mapped_column(ForeignKey("units.id"))
    starts_on: Mapped[date] = mapped_column(Date)
    ends_on: Mapped[date] = mapped_column(Date)
    cosigning_until: Mapped[datetime] = mapped_column(DateTime)
    status: Mapped[str] = mapped_column(String(20), default="open")
    unit: Mapped[Unit] = relationship()
    __table_args__ = (CheckConstraint("status IN ('preparing', 'open', 'closed')", name="status"),
                      CheckConstraint("ends_on >= starts_on", name="dates"))


class Attachment(db.Model):
    """An uploaded document, stored outside the web root under a random name."""
    __tablename__ = "attachments"
    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"), index=True)
    doc_type: Mapped[str] = mapped_column(String(40))
    original_name: Mapped[str] = mapped_column(String(255))
    stored_name: Mapped[str] = mapped_column(String(64), unique=True)
    content_type: Mapped[str] = mapped_column(String(60))
    size: Mapped[int] = mapped_column(Integer)
    sha256: Mapped[str] = mapped_column(String(64))
    private: Mapped[bool] = mapped_column(default=False)  # e.g. visit photos: reviewers only
    uploaded_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    uploaded_by: Mapped[User] = relationship()
