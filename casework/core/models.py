"""What every case type shares: the case row, its parties, votes, audit trail, serials, unit settings; and
what makes a register entry or a board posting a subject the engine can fire on (`Subject`)."""
from __future__ import annotations

import hashlib
import json
from datetime import date, datetime
from typing import Any

from sqlalchemy import (JSON, CheckConstraint, Date, DateTime, ForeignKey, Index, Integer, String,
                        Text, UniqueConstraint, event, select)
from sqlalchemy.orm import Mapped, declared_attr, mapped_column, relationship

from ..accounts.models import Department, Unit, User
from ..clock import utcnow
from ..extensions import db

KINDS = ("aid", "proposal", "motion")
PARTY_KINDS = ("cosigner", "coproposer", "evaluator", "visitor")
KIND_PREFIX = {"aid": "A", "proposal": "P", "motion": "M"}


class Subject:
    """What the engine needs of anything it fires a workflow on besides a case (a register entry, a board
    posting): `workflow_kind` (class attribute, the workflow's name), `unit`, `state`, a version column that
    the mapper checks (`version_id_col`), `state_seq` (vote rounds), `state_entered_at`, the audit head
    (`audit_seq`, `audit_hash`), `label` (for logs) and `raised_by()` (who may not decide it, 回避).
    Its audit entries and votes are keyed by (`workflow_kind`, id)."""
    workflow_kind: str = ""

    @declared_attr
    def state_seq(cls) -> Mapped[int]:
        return mapped_column(Integer, default=0, nullable=False)

    @declared_attr
    def state_entered_at(cls) -> Mapped[datetime | None]:
        return mapped_column(DateTime, default=utcnow)

    @declared_attr
    def audit_seq(cls) -> Mapped[int | None]:
        return mapped_column(Integer)

    @declared_attr
    def audit_hash(cls) -> Mapped[str | None]:
        return mapped_column(String(64))

    def raised_by(self) -> set[int]:
        return set()


def subject_key(subject) -> tuple[str | None, int]:
    """(None, case id) for a case, else (workflow kind, id): how audit entries and votes find their subject."""
    return (None, subject.id) if isinstance(subject, Case) else (subject.workflow_kind, subject.id)


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
    # The head of the audit chain (seq and hash of the last entry), written by the same version-checked
    # UPDATE that moves the case: a step needs no read of the chain. NULL until the first step after
    # creation (the creation entry is written after the case row) and on rows that predate the head.
    audit_seq: Mapped[int | None] = mapped_column(Integer)
    audit_hash: Mapped[str | None] = mapped_column(String(64))

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
        Index("ix_cases_created_at", "created_at"),  # a period's cases (the statistics)
        # Lists sorted by title or by the last change read these in order (casework.core.queries.SORTS).
        Index("ix_cases_title", "title"),
        Index("ix_cases_updated_at", "updated_at"),
    )

    @property
    def workflow_kind(self) -> str:
        return self.kind

    @property
    def label(self) -> str:
        return self.number

    def party_ids(self, role: str) -> set[int]:
        return {p.user_id for p in self.parties if p.role == role}

    def raised_by(self) -> set[int]:
        """Who raised the case: they may not review it (回避)."""
        return {self.applicant_id, self.created_by_id} | self.party_ids("cosigner") | self.party_ids("coproposer")

    def __repr__(self):
        return f"<Case {self.number} {self.state}>"


@event.listens_for(Case, "init", propagate=True)
def _new_case_has_no_parties(case, args, kwargs):
    # A case made here starts with no parties: say so, so that reading them after the INSERT (its
    # available steps, who raised it) needs no SELECT. Parties are only ever added through the collection.
    case.parties = []


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


class CaseCoDepartment(db.Model):
    """A department that co-handles a case (a motion's 协办部门): the SQL index of the case's
    `co_department_ids` list, kept in step with it on every flush (see casework/motions/models.py), so that
    visibility is a plain indexed join on every database."""
    __tablename__ = "case_co_departments"
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"), primary_key=True)
    department_id: Mapped[int] = mapped_column(ForeignKey("departments.id"), primary_key=True, index=True)


class Vote(db.Model):
    """One seat's vote in one round (a round is one entry into the voting state) of a case, or of another
    subject (`subject_kind`, `subject_id`). The seat is a committee member: the voter, or the absent member
    whose delegate votes (`delegate_of_id`); a seat votes once per round."""
    __tablename__ = "votes"
    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int | None] = mapped_column(ForeignKey("cases.id"), index=True)
    subject_kind: Mapped[str | None] = mapped_column(String(20))
    subject_id: Mapped[int | None] = mapped_column(Integer)
    round: Mapped[int] = mapped_column(Integer)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    delegate_of_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    seat_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    trigger: Mapped[str] = mapped_column(String(40))
    # Votes carry only when they agree: same trigger and same decisive inputs (a digest of them).
    position: Mapped[str] = mapped_column(String(200))
    data: Mapped[dict] = mapped_column(JSON, default=dict)   # the decisive inputs
    texts: Mapped[dict] = mapped_column(JSON, default=dict)  # the voter's own words (reason, answer, reply)
    comment: Mapped[str] = mapped_column(Text, default="")
    at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    user: Mapped[User] = relationship(foreign_keys=[user_id])
    delegate_of: Mapped[User | None] = relationship(foreign_keys=[delegate_of_id])
    __table_args__ = (UniqueConstraint("case_id", "round", "user_id"),
                      UniqueConstraint("case_id", "round", "seat_id"),
                      UniqueConstraint("subject_kind", "subject_id", "round", "seat_id"),
                      Index("ix_votes_subject", "subject_kind", "subject_id", "round"),
                      CheckConstraint("(case_id IS NULL) <> (subject_kind IS NULL)", name="one_subject"))


class AuditEntry(db.Model):
    """Append-only; each entry's hash covers its content and the previous entry's hash."""
    __tablename__ = "audit_entries"
    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int | None] = mapped_column(ForeignKey("cases.id"))
    # Entries of a subject that is not a case (a register entry, a board posting) chain per subject.
    subject_kind: Mapped[str | None] = mapped_column(String(20))
    subject_id: Mapped[int | None] = mapped_column(Integer)
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
    __table_args__ = (UniqueConstraint("case_id", "seq"),
                      UniqueConstraint("subject_kind", "subject_id", "seq"),
                      CheckConstraint("(case_id IS NULL) <> (subject_kind IS NULL)", name="one_subject"))

    def payload(self) -> dict[str, Any]:
        where = ({"case_id": self.case_id} if self.subject_kind is None
                 else {"subject": self.subject_kind, "subject_id": self.subject_id})
        return {**where, "seq": self.seq, "at": self.at.isoformat(),
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


def entries_of(subject_or_case_id):
    """A SELECT of the audit entries of a case (or its id) or of another subject, oldest first."""
    if isinstance(subject_or_case_id, int):
        kind, sid = None, subject_or_case_id
    else:
        kind, sid = subject_key(subject_or_case_id)
    where = (AuditEntry.case_id == sid) if kind is None else \
        ((AuditEntry.subject_kind == kind) & (AuditEntry.subject_id == sid))
    return select(AuditEntry).where(where).order_by(AuditEntry.seq)


def verify_chain(subject_or_case_id) -> tuple[bool, int | None]:
    """(True, None) when the chain of a case (or its id) or of another subject is intact, else (False, seq of
    the first bad entry).

    The subject row's head (last seq and hash) must match the chain's last entry too, so entries cut off
    its end are found as well."""
    from .redaction import seals_recorded, verifies
    prev, last = GENESIS, 0
    entries = db.session.scalars(entries_of(subject_or_case_id)).all()
    # Entries whose values were cleared later (retention, withdrawn consent) hold by their recorded seal.
    recorded = seals_recorded(((e.seq, e.changes) for e in entries), "audit")
    for expected_seq, entry in enumerate(entries, start=1):
        if entry.seq != expected_seq or entry.prev_hash != prev or \
                not verifies(entry, entry.compute_hash(), recorded):
            return False, entry.seq
        prev, last = entry.hash, entry.seq
    if isinstance(subject_or_case_id, int):
        head = db.session.execute(select(Case.audit_seq, Case.audit_hash)
                                  .where(Case.id == subject_or_case_id)).first()
    else:
        model = type(subject_or_case_id)
        head = db.session.execute(select(model.audit_seq, model.audit_hash)
                                  .where(model.id == subject_or_case_id.id)).first()
    if head is not None and head.audit_hash is not None and (head.audit_seq, head.audit_hash) != (last, prev):
        # Rewritten last entry, entries cut off the end, or entries added behind the case's back.
        return False, last if head.audit_seq == last else min(head.audit_seq, last) + 1
    return True, None


class Serial(db.Model):
    """Gap-free counters per scope and year (case numbers, notice numbers)."""
    __tablename__ = "serials"
    scope: Mapped[str] = mapped_column(String(60), primary_key=True)
    year: Mapped[int] = mapped_column(Integer, primary_key=True)
    last: Mapped[int] = mapped_column(Integer, default=0)


def next_serial(scope: str, year: int) -> int:
    """Atomically take the next number in one statement (an upsert that returns the new value); concurrent
    callers serialise on the counter row."""
    stmt = upsert(Serial).values(scope=scope, year=year, last=1)
    stmt = stmt.on_conflict_do_update(index_elements=[Serial.scope, Serial.year],
                                      set_={"last": Serial.last + 1}).returning(Serial.last)
    return db.session.execute(stmt).scalar_one()


def upsert(model, session=None):
    """An INSERT that can turn into an UPDATE on conflict, for the session's database."""
    if (session or db.session).get_bind().dialect.name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert as dialect_insert
    else:
        from sqlalchemy.dialects.sqlite import insert as dialect_insert
    return dialect_insert(model)


class GrantsVersion(db.Model):
    """One row whose token changes (to a new random value) in every transaction that changes role
    assignments, delegations, department memberships or units: role grants cached across requests are
    keyed by it (casework/core/permissions.py). A random token, not a counter, so a wiped or restored
    database never brings back a value an old cache entry was stored under."""
    __tablename__ = "grants_version"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    token: Mapped[str] = mapped_column(String(32))
    # Its migration inserts the row: a freshly migrated database has it (restore replaces it, see ops/backup.py).
    __table_args__ = (CheckConstraint("id = 1", name="single_row"), {"info": {"seeded": True}})


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


# Rows of one union: seen only within its people's scope (casework/core/tenancy.py).
from .tenancy import unit_scoped  # noqa: E402

unit_scoped(Case)
unit_scoped(User)
unit_scoped(Unit, column="id")
unit_scoped(CongressSession)
unit_scoped(UnitSetting)
unit_scoped(Attachment, via_case="case_id")
unit_scoped(CaseParty, via_case="case_id")
