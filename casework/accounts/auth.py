"""Password checks with lockout, and API tokens: one implementation for the sign-in page, the token page and
the API.

A token is shown once, when it is made; only its SHA-256 is kept, so a copied database cannot be used to call
the API. Revoking keeps the row (with when and by whom it was last used) for the record.
"""
from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import timedelta

from flask import current_app
from sqlalchemy import select, update

from ..clock import utcnow
from ..extensions import db
from .models import ApiToken, User, find_login

MAX_FAILURES = 5
LOCK_MINUTES = 15
LABEL_MAX = 100


@dataclass
class Attempt:
    user: User | None
    locked: bool = False

    @property
    def ok(self) -> bool:
        return self.user is not None and not self.locked


def is_locked(user: User | None) -> bool:
    return user is not None and user.locked_until is not None and user.locked_until > utcnow()


def count_failure(user: User | None) -> None:
    """One more failed attempt; locks the account for LOCK_MINUTES after MAX_FAILURES. Commits."""
    if user is None:
        return
    user.failed_logins += 1
    if user.failed_logins >= MAX_FAILURES:
        user.locked_until = utcnow() + timedelta(minutes=LOCK_MINUTES)
        user.failed_logins = 0
    db.session.commit()


def clear_failures(user: User) -> None:
    user.failed_logins, user.locked_until = 0, None


def attempt(identifier, password) -> Attempt:
    """Checks a password (sign-in page and API alike). Commits."""
    user = find_login(identifier) if isinstance(identifier, str) else None
    if is_locked(user):
        return Attempt(None, locked=True)
    if user is None or not user.active or not isinstance(password, str) or not user.check_password(password):
        count_failure(user)
        return Attempt(None)
    clear_failures(user)
    db.session.commit()
    return Attempt(user)


def max_days() -> int:
    return current_app.config["CASEWORK_TOKEN_DAYS"]


def validity_choices() -> list[int]:
    """Lifetimes offered on the token page: common ones up to the configured maximum, which is always offered."""
    top = max_days()
    return sorted({d for d in (7, 30, 90, 365) if d < top} | {top})


def issue(user: User, label: str = "", days: int | None = None) -> tuple[str, ApiToken]:
    """A new token for `user`; returns the secret (show it once) and the stored row. Does not commit."""
    days = min(days or max_days(), max_days())
    secret = secrets.token_urlsafe(32)
    row = ApiToken(user_id=user.id, token_hash=ApiToken.digest(secret), label=(label or "").strip()[:LABEL_MAX],
                   created_at=utcnow(), expires_at=utcnow() + timedelta(days=days))
    db.session.add(row)
    db.session.flush()
    return secret, row


def owned(user: User) -> list[ApiToken]:
    """The user's tokens, newest first: usable ones, then revoked or expired ones for the record."""
    return list(db.session.scalars(select(ApiToken).where(ApiToken.user_id == user.id)
                                   .order_by(ApiToken.created_at.desc(), ApiToken.id.desc())))


def find_owned(user: User, token_id: int) -> ApiToken | None:
    row = db.session.get(ApiToken, token_id)
    return row if row is not None and row.user_id == user.id else None


def is_usable(row: ApiToken) -> bool:
    return row.revoked_at is None and row.expires_at > utcnow()


def revoke(row: ApiToken) -> None:
    if row.revoked_at is None:
        row.revoked_at = utcnow()


def revoke_all(user: User) -> int:
    """Revokes every usable token of `user`; returns how many."""
    now = utcnow()
    result = db.session.execute(update(ApiToken).where(ApiToken.user_id == user.id, ApiToken.revoked_at.is_(None),
                                                       ApiToken.expires_at > now).values(revoked_at=now))
    return result.rowcount
