"""Roster imports, members' resident ID numbers (encrypted), one-time activation codes."""
from __future__ import annotations

import hashlib
from datetime import datetime

from sqlalchemy import (JSON, Boolean, CheckConstraint, DateTime, ForeignKey, Integer, LargeBinary, String,
                        Text)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..accounts.models import User
from ..clock import utcnow
from ..extensions import db

IMPORT_STATUSES = ("checked", "running", "done", "failed")


class UserIdentity(db.Model):
    """A member's resident ID number: encrypted, a masked copy for display, a keyed digest for duplicates."""
    __tablename__ = "user_identity"
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), primary_key=True)
    id_number_encrypted: Mapped[str] = mapped_column(Text)
    id_masked: Mapped[str] = mapped_column(String(18))
    id_digest: Mapped[str] = mapped_column(String(64), unique=True)
    updated_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow, onupdate=utcnow)
    user: Mapped[User] = relationship()


class RosterImport(db.Model):
    """One uploaded roster: checked (dry run), then imported once. The file and the refused rows hold
    ID numbers, so both are kept encrypted, and the file is dropped when the import ends."""
    __tablename__ = "roster_imports"
    id: Mapped[int] = mapped_column(primary_key=True)
    filename: Mapped[str] = mapped_column(String(200))
    sha256: Mapped[str] = mapped_column(String(64))
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    status: Mapped[str] = mapped_column(String(10), default="checked")
    create_units: Mapped[bool] = mapped_column(Boolean, default=False)
    deactivate_missing: Mapped[bool] = mapped_column(Boolean, default=False)
    content: Mapped[bytes | None] = mapped_column(LargeBinary)   # Fernet token of the file
    refused_rows: Mapped[bytes | None] = mapped_column(LargeBinary)  # Fernet token of JSON rows
    total: Mapped[int] = mapped_column(Integer, default=0)
    done: Mapped[int] = mapped_column(Integer, default=0)  # rows written so far: the progress bar
    report: Mapped[dict] = mapped_column(JSON, default=dict)  # the dry run's, then the import's
    error: Mapped[str] = mapped_column(Text, default="")
    heartbeat_at: Mapped[datetime | None] = mapped_column(DateTime)
    finished_at: Mapped[datetime | None] = mapped_column(DateTime)
    created_by: Mapped[User | None] = relationship()
    __table_args__ = (CheckConstraint(f"status IN {IMPORT_STATUSES}", name="status"),)


class Activation(db.Model):
    """A one-time activation code for an account created from the roster. Only its SHA-256 is needed to
    check it; an encrypted copy lets the admin print the unit's list until the member has used it."""
    __tablename__ = "roster_activations"
    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    import_id: Mapped[int | None] = mapped_column(ForeignKey("roster_imports.id"), index=True)
    code_hash: Mapped[str] = mapped_column(String(64), unique=True)
    code_encrypted: Mapped[str | None] = mapped_column(Text)  # wiped once used or voided
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(DateTime)
    used_at: Mapped[datetime | None] = mapped_column(DateTime)
    voided_at: Mapped[datetime | None] = mapped_column(DateTime)
    user: Mapped[User] = relationship()

    @staticmethod
    def digest(code: str) -> str:
        return hashlib.sha256(code.replace("-", "").upper().encode()).hexdigest()
