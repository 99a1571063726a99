"""Writing the reads log. A read is noted while the request runs and written when it ends, in its own
transaction, so a read that ends in a refusal (404) or a rolled-back step is logged all the same."""
from __future__ import annotations

import logging
from contextlib import contextmanager
from contextvars import ContextVar

from flask import g, has_request_context, request
from sqlalchemy import and_, func, insert, select
from sqlalchemy.exc import IntegrityError, OperationalError

from ..clock import utcnow
from ..extensions import db
from .models import GENESIS, AccessAnchor, AccessEntry

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


def note(case, user, what: str | None = None, *, allowed: bool = True, address: str | None = None) -> None:
    """Notes one read of `case`'s sensitive parts (or a refused attempt) by `user`. `address` only where
    there is no request to take it from (the demo history's replayed reads)."""
    if address is None:
        address = (request.remote_addr or "")[:64] if has_request_context() else ""
    values = {"chain": f"case:{case.id}", "case_id": case.id, "user_id": getattr(user, "id", None),
              "actor_label": getattr(user, "username", None) or "anonymous", "what": what or _purpose.get(),
              "allowed": allowed, "at": utcnow(), "address": address[:64]}
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


def note_account(actor, person, what: str) -> None:
    """Records an account event (a reset code issued, a password set with a code or link) on the "accounts"
    chain: who did it (None: the person themself, signed out), for whom, from where."""
    values = {"chain": "accounts", "case_id": None, "user_id": getattr(actor, "id", None) or person.id,
              "actor_label": getattr(actor, "username", None) or person.username,
              "what": f"{what}: {person.username}"[:120], "allowed": True, "at": utcnow(),
              "address": (request.remote_addr or "")[:64] if has_request_context() else ""}
    if has_request_context():
        g.setdefault("casework_reads", []).append(values)
    else:
        _append(values)


def _append(values: dict) -> None:
    _append_all([values])


def _append_all(pending: list[dict]) -> None:
    """Appends to the chains inside a savepoint, reading every chain's head in one query and inserting in
    one batch (a list page reads many cases); a concurrent append of the same seq makes it try again."""
    chains = sorted({v["chain"] for v in pending})
    for _attempt in range(8):
        try:
            with db.session.begin_nested():
                latest = (select(AccessEntry.chain, func.max(AccessEntry.seq).label("seq"))
                          .where(AccessEntry.chain.in_(chains)).group_by(AccessEntry.chain).subquery())
                heads = {chain: (seq, digest) for chain, seq, digest in db.session.execute(
                    select(AccessEntry.chain, AccessEntry.seq, AccessEntry.hash).join(
                        latest, and_(AccessEntry.chain == latest.c.chain, AccessEntry.seq == latest.c.seq)))}
                missing = [c for c in chains if c not in heads]
                if missing:  # a chain whose every entry was purged goes on from its anchor
                    heads.update({a.chain: (a.seq, a.hash) for a in db.session.scalars(
                        select(AccessAnchor).where(AccessAnchor.chain.in_(missing)))})
                rows = []
                for values in pending:
                    seq, prev = heads.get(values["chain"], (0, GENESIS))
                    entry = AccessEntry(seq=seq + 1, prev_hash=prev, **values)
                    row = {**values, "seq": seq + 1, "prev_hash": prev, "hash": entry.compute_hash()}
                    heads[values["chain"]] = (seq + 1, row["hash"])
                    rows.append(row)
                db.session.execute(insert(AccessEntry), rows)  # one statement for the page's reads
            return
        except IntegrityError:
            continue
    raise RuntimeError(f"could not append to the reads log {', '.join(chains)}")


def flush_request_reads(_exc=None):
    """teardown_request: writes what this request read (streamed exports included, which read after the
    view returned), whatever became of its own transaction."""
    pending = g.pop("casework_reads", None)
    if not pending:
        return
    try:
        db.session.rollback()  # anything the view left uncommitted is not ours to commit
        g.casework_writes = True  # SQLite: take the write lock up front (see create_app's _on_begin)
        _append_all(pending)
        db.session.commit()
    except (IntegrityError, OperationalError, RuntimeError):
        db.session.rollback()
        log.exception("the reads log could not be written for %s", request.path)
