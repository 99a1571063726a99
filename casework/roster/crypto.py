"""Resident ID numbers at rest: Fernet-encrypted, keyed from SECRET_KEY via HKDF, plus a masked copy
for display and a keyed digest to find duplicates without decrypting.

Changing SECRET_KEY makes stored numbers unreadable (the masked copies stay): decrypt() then gives None.
"""
from __future__ import annotations

import base64
import hashlib
import hmac

from cryptography.fernet import Fernet, InvalidToken
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from flask import current_app

_CACHE: dict[tuple[str, bytes], bytes] = {}


def derived_key(purpose: bytes) -> bytes:
    """A 32-byte key for one purpose, derived from SECRET_KEY (a new purpose gets an unrelated key)."""
    secret = current_app.config["SECRET_KEY"]
    cached = _CACHE.get((secret, purpose))
    if cached is None:
        cached = HKDF(algorithm=hashes.SHA256(), length=32, salt=b"casework",
                      info=purpose).derive(secret.encode())
        _CACHE[(secret, purpose)] = cached
    return cached


_FERNETS: dict[str, Fernet] = {}


def fernet() -> Fernet:
    secret = current_app.config["SECRET_KEY"]
    if secret not in _FERNETS:
        _FERNETS[secret] = Fernet(base64.urlsafe_b64encode(derived_key(b"resident-id/fernet")))
    return _FERNETS[secret]


def encrypt(text: str) -> str:
    return fernet().encrypt(text.encode()).decode()


def decrypt(token: str | None) -> str | None:
    if not token:
        return None
    try:
        return fernet().decrypt(token.encode()).decode()
    except InvalidToken:
        return None


def encrypt_bytes(blob: bytes) -> bytes:
    return fernet().encrypt(blob)


def decrypt_bytes(token: bytes | None) -> bytes | None:
    if not token:
        return None
    try:
        return fernet().decrypt(bytes(token))
    except InvalidToken:
        return None


def digest(id_number: str) -> str:
    """Same number, same digest; useless without the key (ID numbers are guessable, plain SHA-256 is not)."""
    return hmac.new(derived_key(b"resident-id/digest"), id_number.encode(), hashlib.sha256).hexdigest()


def mask(id_number: str) -> str:
    """110105194912310021 -> 110105********0021: region and last four, never the birth date."""
    if len(id_number) <= 10:
        return "*" * len(id_number)
    return id_number[:6] + "*" * (len(id_number) - 10) + id_number[-4:]
