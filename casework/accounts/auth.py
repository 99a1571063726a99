"""Password checks throttled per account and address, and API tokens: one implementation for the sign-in page, the token page and
the API.

A token is shown once, when it is made; only its SHA-256 is kept, so a copied database cannot be used to call
the API. Revoking keeps the row (with when and by whom it was last used) for the record.
"""
from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from argon2.exceptions import InvalidHashError, VerificationError
from flask import current_app, has_request_context
from flask_babel import gettext as _
from sqlalchemy import case, or_, select, update

from ..clock import utcnow
from ..extensions import db
from ..ops.logs import log_event
from . import models
from .models import ApiToken, LoginThrottle, User, find_login

# Sign-in throttling, per account and client address (the table login_throttles):
# - one address gets FREE_PER_ADDRESS tries at an account, then waits FIRST_DELAY, doubling after each further
#   failure up to MAX_DELAY; the guesses of one address never delay a colleague at another address;
# - all addresses together get FREE_PER_ACCOUNT failures at an account; beyond them, addresses that never
#   signed in to it wait the same growing delays (a slow spray from many addresses), while addresses that have
#   signed in to it before keep only their own budget;
# - a try is counted (UPDATE ... SET failed_logins = failed_logins + 1 ... RETURNING) and committed before the
#   password is checked, so parallel requests cannot check more passwords than the budget allows;
# - unknown names are throttled alike under a digest of the name, and every refusal (unknown user, wrong
#   password, waiting) gives the same answer after the same argon2 work.
# Counts older than FORGET_AFTER start again from one.
FREE_PER_ADDRESS = 5
FREE_PER_ACCOUNT = 20
FIRST_DELAY = timedelta(seconds=30)
MAX_DELAY = timedelta(hours=1)
FORGET_AFTER = timedelta(hours=24)
EVERYWHERE = "*"
LABEL_MAX = 100


@dataclass
class Attempt:
    user: User | None
    throttled: bool = False

    @property
    def ok(self) -> bool:
        return self.user is not None


def client_address() -> str:
    from flask import request
    return ((request.remote_addr if has_request_context() else None) or "-")[:64]


def account_key(user: User | None, identifier: str, purpose: str = "login") -> str:
    """The throttle's name for an account: its id, or for a name nobody has a digest of the name."""
    prefix = "a" if purpose == "activate" else "u"
    if user is not None:
        return f"{prefix}:{user.id}"
    return f"{prefix}?" + hashlib.sha256(identifier.strip().lower().encode("utf-8", "replace")).hexdigest()[:60]


def delay(failures: int, free: int) -> timedelta | None:
    if failures < free:
        return None
    return min(FIRST_DELAY * 2 ** min(failures - free, 20), MAX_DELAY)


def _insert():
    if db.engine.dialect.name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert
    else:
        from sqlalchemy.dialects.sqlite import insert
    return insert(LoginThrottle)


def reserve(account: str, address: str) -> bool:
    """Counts one try at `account` from `address`; False when the address must wait first. Commits, so that
    the count holds before any password is checked."""
    now = utcnow()
    t = LoginThrottle.__table__
    for addr in (address, EVERYWHERE):
        db.session.execute(_insert().values(account=account, address=addr, failed_logins=0)
                           .on_conflict_do_nothing(index_elements=["account", "address"]))
    known = db.session.scalar(select(t.c.succeeded_at).where(t.c.account == account, t.c.address == address))
    allowed = True
    for addr, free, gated in ((address, FREE_PER_ADDRESS, True), (EVERYWHERE, FREE_PER_ACCOUNT, known is None)):
        where = [t.c.account == account, t.c.address == addr]
        if gated:
            where.append(or_(t.c.blocked_until.is_(None), t.c.blocked_until <= now))
        count = db.session.execute(
            update(t).where(*where)
            .values(failed_logins=case((t.c.last_failed_at < now - FORGET_AFTER, 1), else_=t.c.failed_logins + 1),
                    last_failed_at=now)
            .returning(t.c.failed_logins)).scalar()
        if count is None:
            allowed = False
            break
        wait = delay(count, free)
        if wait is not None:
            db.session.execute(update(t).where(t.c.account == account, t.c.address == addr)
                               .values(blocked_until=now + wait))
    db.session.commit()
    return allowed


def succeeded(account: str, address: str) -> None:
    """The try was right: this address is known from now on, and both counts give back this try. Neither count
    starts afresh and no wait is lifted: among parallel guesses, the right one must not buy the others a new
    budget. Does not commit."""
    t = LoginThrottle.__table__
    db.session.execute(update(t).where(t.c.account == account, t.c.address == address)
                       .values(failed_logins=case((t.c.failed_logins > 0, t.c.failed_logins - 1), else_=0),
                               succeeded_at=utcnow()))
    db.session.execute(update(t).where(t.c.account == account, t.c.address == EVERYWHERE)
                       .values(failed_logins=case((t.c.failed_logins > 0, t.c.failed_logins - 1), else_=0)))


def waiting_until(account: str, address: str) -> datetime | None:
    row = db.session.get(LoginThrottle, (account, address))
    return row.blocked_until if row is not None and row.blocked_until and row.blocked_until > utcnow() else None


_DUMMY: dict[int, str] = {}


def dummy_check(password: str) -> None:
    """The argon2 work of a real check, against a hash nobody's password matches."""
    hasher = models._hasher
    if id(hasher) not in _DUMMY:
        _DUMMY[id(hasher)] = hasher.hash(secrets.token_urlsafe(24))
    try:
        hasher.verify(_DUMMY[id(hasher)], password)
    except (VerificationError, InvalidHashError):
        pass


def refusal() -> str:
    return _("Wrong user name or password. After several failed tries, wait a few minutes before the next.")


def attempt(identifier, password) -> Attempt:
    """Checks a password (sign-in page and API alike), throttled per account and address. Commits."""
    ident = identifier if isinstance(identifier, str) else ""
    password = password if isinstance(password, str) else ""
    user = find_login(ident)
    account, address = account_key(user, ident), client_address()
    allowed = reserve(account, address)
    checked = bool(allowed and user is not None and user.active and user.password_hash)
    if checked:
        ok = user.check_password(password)
    else:
        dummy_check(password)
        ok = False
    # password_checked: the record of how many real passwords were tried (the parallel sign-in test counts it)
    log_event("sign_in", account=account, address=address, password_checked=checked,
              outcome="ok" if ok else "wrong" if checked else "unknown" if allowed else "waiting")
    if not ok:
        return Attempt(None, throttled=not allowed)
    succeeded(account, address)
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
