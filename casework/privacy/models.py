"""The reads log: who saw or tried to see the sensitive parts of an aid request, hash-chained per case."""
from __future__ import annotations

import hashlib
import json
from datetime import datetime

from sqlalchemy import (Boolean, CheckConstraint, DateTime, ForeignKey, Index, Integer, String, Text,
                        UniqueConstraint, event, select)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..accounts.models import User
from ..extensions import db

GENESIS = "0" * 64


class AccessEntry(db.Model):
    """One read (or refused attempt) of a case's sensitive parts. `chain` is "case:<id>" for a case's
    reads, "exports" for exports that span cases and "accounts" for reset codes and their use; each chain
    has its own gap-free sequence."""
    __tablename__ = "access_entries"
    id: Mapped[int] = mapped_column(primary_key=True)
    chain: Mapped[str] = mapped_column(String(40))
    seq: Mapped[int] = mapped_column(Integer)
    at: Mapped[datetime] = mapped_column(DateTime)
    case_id: Mapped[int | None] = mapped_column(ForeignKey("cases.id"))
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    actor_label: Mapped[str] = mapped_column(String(80))
    what: Mapped[str] = mapped_column(String(120))
    address: Mapped[str] = mapped_column(String(64), default="")
    allowed: Mapped[bool] = mapped_column(Boolean)
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64))
    user: Mapped[User | None] = relationship()
    __table_args__ = (UniqueConstraint("chain", "seq"), Index("ix_access_entries_case_id", "case_id"),
                      Index("ix_access_entries_at", "at"))

    def payload(self) -> dict:
        return {"chain": self.chain, "seq": self.seq, "at": self.at.isoformat(), "case": self.case_id,
                "user": self.user_id, "actor": self.actor_label, "what": self.what, "address": self.address,
                "allowed": bool(self.allowed), "prev": self.prev_hash}

    def compute_hash(self) -> str:
        blob = json.dumps(self.payload(), sort_keys=True, ensure_ascii=False, separators=(",", ":"))
        return hashlib.sha256(blob.encode()).hexdigest()


@event.listens_for(AccessEntry, "before_update")
@event.listens_for(AccessEntry, "before_delete")
def _append_only(mapper, connection, target):
    raise RuntimeError("access entries are append-only")


class AccessAnchor(db.Model):
    """Where a chain's kept part starts once its oldest entries were purged after the retention period
    (`reads_log_retention_months`): the seq and hash of the last purged entry, so the rest still verifies
    from it; each purge is also written to the operations log."""
    __tablename__ = "access_anchors"
    chain: Mapped[str] = mapped_column(String(40), primary_key=True)
    seq: Mapped[int] = mapped_column(Integer)
    hash: Mapped[str] = mapped_column(String(64))
    purged: Mapped[int] = mapped_column(Integer, default=0)  # entries purged so far
    at: Mapped[datetime] = mapped_column(DateTime)


def verify_access_chain(chain: str) -> tuple[bool, int | None]:
    """(True, None) when the chain is intact, else (False, seq of the first bad entry). A purged start is
    taken from its anchor; entries cleared at anonymisation hold by the seal the case's audit recorded."""
    from ..core.redaction import verifies
    anchor = db.session.get(AccessAnchor, chain)
    prev, start = (anchor.hash, anchor.seq + 1) if anchor is not None else (GENESIS, 1)
    rows = db.session.scalars(select(AccessEntry).where(AccessEntry.chain == chain).order_by(AccessEntry.seq))
    recorded = _reads_seals(chain)
    for expected, entry in enumerate(rows, start=start):
        if entry.seq != expected or entry.prev_hash != prev or \
                not verifies(entry, entry.compute_hash(), recorded):
            return False, entry.seq
        prev = entry.hash
    return True, None


def _reads_seals(chain: str) -> dict:
    """The seals of a case's cleared reads, as its (hash-chained) audit recorded them."""
    if not chain.startswith("case:"):
        return {}
    from ..core.models import AuditEntry
    from ..core.redaction import seals_recorded
    rows = db.session.execute(select(AuditEntry.seq, AuditEntry.changes).where(
        AuditEntry.case_id == int(chain.partition(":")[2]),
        AuditEntry.trigger.in_(("withdraw_consent", "anonymise")))).all()
    found = seals_recorded(rows, "reads")
    # Recorded in another chain: "later" means after every read.
    return {seq: (h, s, 2 ** 62) for seq, (h, s, _at) in found.items()}


def chains() -> list[str]:
    live = set(db.session.scalars(select(AccessEntry.chain).distinct()))
    return sorted(live | set(db.session.scalars(select(AccessAnchor.chain))))


class CorrectionRequest(db.Model):
    """A person asks for their data to be corrected (PIPL art. 46), online or on paper through staff."""
    __tablename__ = "correction_requests"
    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    at: Mapped[datetime] = mapped_column(DateTime)
    text: Mapped[str] = mapped_column(Text)
    channel: Mapped[str] = mapped_column(String(10), default="online")  # online | paper
    recorded_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    status: Mapped[str] = mapped_column(String(10), default="open")  # open | answered
    answer: Mapped[str] = mapped_column(Text, default="")
    answered_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    answered_at: Mapped[datetime | None] = mapped_column(DateTime)
    user: Mapped[User] = relationship(foreign_keys=[user_id])
    recorded_by: Mapped[User | None] = relationship(foreign_keys=[recorded_by_id])
    answered_by: Mapped[User | None] = relationship(foreign_keys=[answered_by_id])
    __table_args__ = (CheckConstraint("status IN ('open', 'answered')", name="status"),
                      CheckConstraint("channel IN ('online', 'paper')", name="channel"),
                      CheckConstraint("(status = 'answered') = (answered_at IS NOT NULL)", name="answered"))
