"""A human check that needs no internet: a small sum in words, kept on the server and good for one try.

The challenge is an encrypted, signed token (Fernet, keyed from SECRET_KEY): the client can neither read the
answer nor forge one. Each token id is written to `human_checks_used` at its first try, right or wrong, so a
solved check cannot be replayed and a wrong one cannot be retried with the next number. Showing a form writes
nothing; only answering does (and answering is rate limited).
"""
from __future__ import annotations

import base64
import json
import secrets
from datetime import datetime, timedelta

from cryptography.fernet import Fernet, InvalidToken
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from flask import current_app
from sqlalchemy import DateTime, String, delete
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Mapped, mapped_column

from ..clock import utcnow
from ..extensions import db

DIGITS = "零一二三四五六七八九十"
_FERNETS: dict[str, Fernet] = {}
TTL = timedelta(hours=2)  # long enough to type an objection, short enough to keep the used table small


class UsedCheck(db.Model):
    __tablename__ = "human_checks_used"
    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    used_at: Mapped[datetime] = mapped_column(DateTime, index=True)


def _fernet() -> Fernet:
    secret = current_app.config["SECRET_KEY"]
    if secret not in _FERNETS:
        key = HKDF(algorithm=hashes.SHA256(), length=32, salt=b"casework", info=b"human check").derive(secret.encode())
        _FERNETS[secret] = Fernet(base64.urlsafe_b64encode(key))
    return _FERNETS[secret]


def new() -> tuple[str, str]:
    """A fresh check: (token, question)."""
    a, b = secrets.randbelow(9) + 1, secrets.randbelow(9) + 1
    payload = {"i": secrets.token_hex(16), "a": a + b, "t": utcnow().isoformat()}
    token = _fernet().encrypt(json.dumps(payload).encode()).decode()
    return token, f"{DIGITS[a]}加{DIGITS[b]}等于几？（请填阿拉伯数字）"


def passed(token, answer) -> bool:
    """True once per token, for the right answer given before the token expired. Commits the use, so that a
    request that fails later (a too-long text) does not give the check back."""
    if not isinstance(token, str) or not token or len(token) > 1000:
        return False
    try:
        payload = json.loads(_fernet().decrypt(token.encode()))
        issued = datetime.fromisoformat(payload["t"])
        check_id, expected = str(payload["i"]), int(payload["a"])
    except (InvalidToken, ValueError, KeyError, TypeError):
        return False
    now = utcnow()
    if not issued <= now < issued + TTL:
        return False
    db.session.execute(delete(UsedCheck).where(UsedCheck.used_at < now - TTL))  # no longer replayable anyway
    db.session.add(UsedCheck(id=check_id, used_at=now))
    try:
        db.session.commit()
    except IntegrityError:
        db.session.rollback()
        return False  # used before
    try:
        return int(str(answer).strip()) == expected
    except ValueError:
        return False
