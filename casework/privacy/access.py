"""Writing the reads log. A read is noted while the request runs and written when it ends, in its own
transaction, so a read that ends in a refusal (404) or a rolled-back step is logged all the same."""
from __future__ import annotations

import logging
from contextlib import contextmanager
from contextvars import ContextVar

from flask import g, has_request_context, request
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError, OperationalError

from ..clock import utcnow
from ..extensions import db
from .models import GENESIS, AccessEntry

log = logging.getLogger("casework.privacy")

# What a read of a case's sensitive parts is for: a case page or API record, or an export.
_purpose: ContextVar[str] = ContextVar("casework_read_purpose", default="details")


@contextmanager
def reading_as(purpose: str):
    token = _purpose.set(purpose)
    try:
        yield
    finally:
        _purpose.reset(token)


def note(case, user, what: str | None = None, *, allowed: bool = True) -> None:
    """Notes one read of `case`'s sensitive parts (or a refused attempt) by `user`."""
    values = {"chain": f"case:{case.id}", "case_id": case.id, "user_id": getattr(user, "id", None),
              "actor_label": getattr(user, "username", None) or "anonymous", "what": what or _purpose.get(),
              "allowed": allowed, "at": utcnow(),
              "address": (request.remote_addr or "")[:64] if has_request_context() else ""}
    if has_request_context():
        pending = g.setdefault("casework_reads", [])
        if values not in pending:  # one entry per read, however often a page asks for the record
            pending.append(values)
    else:
        _append(values)


def note_export(user, what: str) -> None:
    values = {"chain": "exports", "case_id": None, "user_id": user.id, "actor_label": user.username,
              "what": what[:120], "allowed": True, "at": utcnow(),
              "address": (request.remote_addr or "")[:64] if has_request_context() else ""}
    if has_request_context():
        g.setdefault("casework_reads", []).append(values)
    else:
        _append(values)


def _append(values: dict) -> AccessEntry:
    """Appends to the chain inside a savepoint; a concurrent append of the same seq makes it try again."""
    for _attempt in range(8):
        try:
            with db.session.begin_nested():
                last = db.session.execute(select(AccessEntry.seq, AccessEntry.hash)
                                          .where(AccessEntry.chain == values["chain"])
                                          .order_by(AccessEntry.seq.desc()).limit(1)).first()
                seq, prev = (last[0] + 1, last[1]) if last else (1, GENESIS)
                entry = AccessEntry(seq=seq, prev_hash=prev, **values)
                entry.hash = entry.compute_hash()
                db.session.add(entry)
            return entry
        except IntegrityError:
            continue
    raise RuntimeError(f"could not append to the reads log {values['chain']}")


def flush_request_reads(_exc=None):
    """teardown_request: writes what this request read (streamed exports included, which read after the
    view returned), whatever became of its own transaction."""
    pending = g.pop("casework_reads", None)
    if not pending:
        return
    try:
        db.session.rollback()  # anything the view left uncommitted is not ours to commit
        g.casework_writes = True  # SQLite: take the write lock up front (see create_app's _on_begin)
        for values in pending:
            _append(values)
        db.session.commit()
    except (IntegrityError, OperationalError, RuntimeError):
        db.session.rollback()
        log.exception("the reads log could not be written for %s", request.path)
