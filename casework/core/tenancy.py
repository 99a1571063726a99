"""Tenants that never leak: every query of a unit-scoped model sees only the caller's units.

A unit at the federation level (总工会) is a union of its own: a city federation's grassroots unions are
federation-level units below it. A person's tenants are the nearest federation-level unit at or above
their own unit and above each unit where they hold a role; their scope is those tenants' subtrees and the
units above them (settings, funds and sessions of the level above are inherited). Whoever's tenant is the
root of the tree sees everything, so a single union is one tenant and nothing is filtered.

Models declare themselves with `unit_scoped` (their own `unit_id`, or their case's). A listener on the
session adds `with_loader_criteria` for each of them to every ORM SELECT while a scope is set: a view that
forgets its filter still cannot go below this floor; views keep their own finer checks.

The scope of a request is the signed-in person's, found on the first scoped query (`set_resolver`).
Outside requests (the scheduler, the CLI) nothing is filtered: they scope themselves, as `within` does
for a test. A request that must look beyond its person's units (the public board, which filters by the
union asked for) says so by name: `unscoped("board")`; each such name is declared in ESCAPES and logged.
"""
from __future__ import annotations

import logging
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Callable

from flask import g, has_app_context, has_request_context
from sqlalchemy import event, select
from sqlalchemy.orm import Session, with_loader_criteria

from ..accounts.models import Unit, User
from ..extensions import db

log = logging.getLogger("casework.tenancy")

# Why a request may look beyond its person's units; any other name is refused.
ESCAPES = {
    "board": "the public board lists every union's postings, or the one union asked for",
    "verify": "a notice's public check (/verify) finds it by its number and code, whoever asks",
}

# model -> how its rows name their unit: a column holding a unit id, or a column holding a case id.
_SCOPED: dict[type, tuple[str, object]] = {}


def unit_scoped(model: type, *, column: str = "unit_id", via_case: str | None = None) -> type:
    """Declares a model's rows as belonging to a unit: its own `column`, or (via_case) its case's unit."""
    _SCOPED[model] = ("case", via_case) if via_case else ("unit", column)
    return model


def _is_scoped(cls: type) -> bool:
    return any(c in _SCOPED for c in cls.__mro__)


def scoped_models() -> tuple[type, ...]:
    return tuple(_SCOPED)


@dataclass(frozen=True)
class Scope:
    """The units a person may see rows of; `unit_ids` None: every unit."""
    unit_ids: frozenset[int] | None

    @property
    def everything(self) -> bool:
        return self.unit_ids is None


EVERYTHING = Scope(None)
_G_SCOPE, _G_RESOLVING = "_casework_scope", "_casework_scope_resolving"
_UNITS_KEY = "casework_scope_units"
_resolver: Callable[[], object] | None = None
_PENDING = object()


def set_resolver(fn: Callable[[], object]) -> None:
    """`fn()` returns the signed-in person of this request, None for nobody, or `pending()` while the request
    has not authenticated yet (then the scope is asked again on the next query)."""
    global _resolver
    _resolver = fn


def pending():
    return _PENDING


def scope_for(user: User | None) -> Scope:
    """The units `user` may see rows of (see the module's text)."""
    if user is None or not getattr(user, "is_authenticated", False):
        return EVERYTHING
    from .permissions import grants
    units = _units()
    anchors = [units[user.unit_id][0]] if user.unit_id in units else []
    anchors += [grant.unit_path for grant in grants(user)]
    # A unit without its path yet, or a union made after the tree was read, anchors nothing.
    tenants = {t for t in (_tenant_of(path, units) for path in anchors if path.strip("/")) if t in units}
    if not tenants or any(units[t][1] is None for t in tenants):
        return EVERYTHING  # a tenant at the root of the tree: one union, or the federation above all
    seen = set()
    for uid, (path, _parent, _level) in units.items():
        if any(path.startswith(units[t][0]) for t in tenants):
            seen.add(uid)
    for t in tenants:
        seen.update(int(p) for p in units[t][0].strip("/").split("/") if p)  # the units above
    return Scope(frozenset(seen))


def union_of(unit: Unit) -> Unit:
    """The union a unit belongs to: the nearest federation-level unit at or above it (the root otherwise);
    its name signs and brands what the unit issues."""
    if not unit.path.strip("/"):
        return unit
    with identifying():
        return db.session.get(Unit, _tenant_of(unit.path, _units())) or unit


def _tenant_of(path: str, units) -> int:
    ids = [int(p) for p in path.strip("/").split("/") if p]
    for uid in reversed(ids):
        if units.get(uid, ("", None, ""))[2] == "federation":
            return uid
    return ids[0]


def _units() -> dict[int, tuple[str, int | None, str]]:
    """Every unit: id -> (path, parent id, level), read outside any scope; kept under the grants version
    (a change to a unit replaces it), else for this transaction."""
    info = db.session.info
    if _UNITS_KEY not in info:
        from .permissions import _grants_token
        with identifying():
            token = _grants_token()
            found = _TREE.get(token) if token is not None else None
            if found is None:
                rows = db.session.execute(select(Unit.id, Unit.path, Unit.parent_id, Unit.level)).all()
                found = {r.id: (r.path, r.parent_id, r.level) for r in rows}
                if token is not None:
                    _TREE.clear()  # only the newest version is read again
                    _TREE[token] = found
        info[_UNITS_KEY] = found
    return info[_UNITS_KEY]


_TREE: dict[str, dict[int, tuple[str, int | None, str]]] = {}


@contextmanager
def identifying():
    """While finding who asks (the session's person, an API token): their scope is not known yet."""
    outer = g.get(_G_RESOLVING, False) if has_app_context() else False
    if has_app_context():
        setattr(g, _G_RESOLVING, True)
    try:
        yield
    finally:
        if has_app_context():
            setattr(g, _G_RESOLVING, outer)


def current() -> Scope:
    """The scope this query runs in."""
    if not has_app_context() or g.get(_G_RESOLVING):
        return EVERYTHING
    found = g.get(_G_SCOPE)
    if found is not None:
        return found
    if not has_request_context() or _resolver is None:
        return EVERYTHING
    with identifying():
        person = _resolver()
        if person is _PENDING:
            return EVERYTHING
        found = scope_for(person)
    setattr(g, _G_SCOPE, found)
    return found


def forget() -> None:
    """A new request finds its person's scope again (tests share one app context between requests)."""
    if has_app_context():
        g.pop(_G_SCOPE, None)


@contextmanager
def within(scope_or_user):
    """Runs the block in a scope (a Scope, or a person's): how a job or a test scopes itself."""
    scope = scope_or_user if isinstance(scope_or_user, Scope) else scope_for(scope_or_user)
    before = g.get(_G_SCOPE)
    setattr(g, _G_SCOPE, scope)
    try:
        yield scope
    finally:
        if before is None:
            g.pop(_G_SCOPE, None)
        else:
            setattr(g, _G_SCOPE, before)


@contextmanager
def unscoped(reason: str):
    """Looks beyond the caller's units for a reason declared in ESCAPES; the block filters by itself."""
    if reason not in ESCAPES:
        raise ValueError(f"no declared reason to leave the tenant's scope: {reason}")
    log.info("unscoped: %s", reason)
    with within(EVERYTHING):
        yield


def _criteria(scope: Scope):
    from .models import Case
    ids = sorted(scope.unit_ids)
    cases = Case.__table__
    for model, (how, column) in _SCOPED.items():
        col = getattr(model, column)
        if how == "unit":
            yield with_loader_criteria(model, col.in_(ids), include_aliases=True)
        else:
            yield with_loader_criteria(model, col.in_(select(cases.c.id).where(cases.c.unit_id.in_(ids))),
                                       include_aliases=True)


@event.listens_for(Session, "do_orm_execute")
def _floor(state):
    # Following a relation from a row already seen, or refreshing its columns, stays as it is.
    if not state.is_select or state.is_column_load or state.is_relationship_load:
        return
    if not getattr(state.statement, "_with_options", ()) and \
            not any(_is_scoped(m.class_) for m in state.all_mappers):
        return  # neither selects nor eagerly loads rows of a union (the grants version, a vote)
    scope = current()
    if scope.everything:
        return
    state.statement = state.statement.options(*_criteria(scope))


@event.listens_for(Session, "after_transaction_end")
def _forget_units(session: Session, transaction):
    if transaction.parent is None:
        session.info.pop(_UNITS_KEY, None)
