"""One description per case kind: how to create it, what its record shows to whom, how lists name it.

The web UI and the API both create cases here and read them through `serialize`. The engine and every
screen ask a kind's spec (never the kind's package) for its visibility levels, caption, assignable parties
and what a draft still lacks, so core knows no case type.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, Callable

from blinker import Namespace
from flask_babel import gettext as _
from sqlalchemy import select

from ..accounts.models import User
from ..clock import utcnow
from ..extensions import db
from . import engine
from .errors import Forbidden, Invalid, NotFound
from .models import KIND_PREFIX, Case, next_serial
from .permissions import can_view


@dataclass(frozen=True)
class KindSpec:
    kind: str
    model: type
    # (data, user) -> model kwargs; raises Invalid with per-field messages
    parse: Callable[[dict, User], dict]
    # (case, viewer) -> the kind's fields this viewer may see
    fields: Callable[[Any, User], dict]
    # (kwargs, user) -> the unit the case belongs to and the person it is for
    owner: Callable[[dict, User], tuple[Any, User]]
    title: Callable[[dict], str]
    # (case, viewer) -> "full", or a narrower level (aid: "payee") for viewers who see only part of it
    view_level: Callable[[Any, User], str] = lambda case, viewer: "full"
    # (case, viewer) -> how lists name the case when the title itself may be private; None: the title
    caption: Callable[[Any, User], str] | None = None
    # case -> why it cannot be submitted yet (None when complete)
    missing: Callable[[Any], str | None] = lambda case: None
    # input field -> roles a person named in it must hold at the case's unit (visitors, evaluators)
    assignable: tuple[tuple[str, tuple[str, ...]], ...] = ()
    # value -> a SELECT of the ids of this kind's cases in that category (the list filter "category")
    category_filter: Callable[[str], Any] | None = None
    # (case, viewer) -> fields that only one case's page or GET shows: they cost queries a list would repeat
    detail: Callable[[Any, User], dict] | None = None
    # the case's attributes whose words the search index holds; () keeps the kind's text out of it (aid:
    # its title is the category, its details are private)
    search_fields: tuple[str, ...] = ()


KINDS: dict[str, KindSpec] = {}


def register(spec: KindSpec) -> KindSpec:
    KINDS[spec.kind] = spec
    return spec


def spec_for(kind: str) -> KindSpec:
    try:
        return KINDS[kind]
    except KeyError:
        raise NotFound(_("There is no case type %(kind)s.", kind=kind), code="unknown_kind") from None


def create(kind: str, data: dict, user: User) -> Case:
    spec = spec_for(kind)
    if not isinstance(data, dict):
        raise Invalid(_("Send the case's fields as a JSON object."))
    values = spec.parse(data, user)
    unit, applicant = spec.owner(values, user)
    now = utcnow()
    number = f"{KIND_PREFIX[kind]}{now.year}-{next_serial('case:' + kind, now.year):05d}"
    values["title"] = spec.title(values)
    case = spec.model(number=number, state="draft", unit=unit, applicant=applicant, created_by=user,
                      created_at=now, state_entered_at=now, **values)
    db.session.add(case)
    db.session.flush()
    engine.record_creation(case, user)
    return case


# States in which the author may still change a case's fields: a draft, and a request returned for information.
EDITABLE_STATES = ("draft", "returned")


def update_draft(case: Case, data: dict, user: User) -> Case:
    """The author changes a draft's fields (all of them, as on creation) before submitting it, or a returned
    request's before resubmitting it; the latter's changed fields are named in its audit chain."""
    spec = spec_for(case.kind)
    if case.state not in EDITABLE_STATES or user.id not in (case.applicant_id, case.created_by_id):
        raise Forbidden(_("Only the author can change a draft."))
    values = spec.parse(data, user)
    unit, applicant = spec.owner(values, user)
    if applicant.id != case.applicant_id:
        raise Invalid(_("A draft cannot be moved to another applicant."), fields={"applicant": "fixed"})
    changed = sorted(key for key, value in values.items()
                     if not key.startswith(("_", "consent")) and getattr(case, key, None) != value)
    for key, value in values.items():
        setattr(case, key, value)
    case.title = spec.title(values)
    if case.state != "draft" and changed:
        engine.record_amendment(case, user, changed)
    return case


# Sent with (case, user=...) when someone may not see a case they asked for.
refused = Namespace().signal("case-refused")


def load(kind: str, case_id: int, user: User) -> Case:
    """The case if `user` may see it; 404 otherwise, so nobody learns it exists."""
    spec = spec_for(kind)
    case = db.session.get(spec.model, case_id)
    if case is not None:
        _load_unit_chain(case)
    if case is None or not can_view(user, case):
        if case is not None:
            refused.send(case, user=user)  # the reads log notes refused attempts on sensitive kinds
        raise NotFound(_("No such case."))
    return case


def _load_unit_chain(case: Case) -> None:
    """The case's unit and every unit above it in one SELECT, linked as `case.unit` and each `parent`:
    permissions, the engine, the page's unit name and the funds walk up the tree without a query per step."""
    from sqlalchemy.orm import aliased
    from sqlalchemy.orm.attributes import set_committed_value

    from ..accounts.models import Unit
    own = aliased(Unit)
    units = {u.id: u for u in db.session.scalars(
        select(Unit).join(own, own.id == case.unit_id).where(own.path.startswith(Unit.path)))}
    for unit in units.values():
        if unit.parent_id in units:
            set_committed_value(unit, "parent", units[unit.parent_id])
    if case.unit_id in units:
        set_committed_value(case, "unit", units[case.unit_id])


def serialize(case: Case, viewer: User, transitions: list[str] | None = None, detail: bool = False) -> dict:
    spec = spec_for(case.kind)
    out = {
        "id": case.id, "kind": case.kind, "number": case.number, "state": case.state,
        "version": case.version, "unit": case.unit_id, "unit_name": case.unit.name,
        "title": case.title, "applicant": case.applicant.username,
        "created_at": _iso(case.created_at), "state_entered_at": _iso(case.state_entered_at),
        "deadline": case.deadline.isoformat() if case.deadline else None,
        "department": case.department_id,
    }
    out.update(spec.fields(case, viewer))
    if detail and spec.detail is not None:
        out.update(spec.detail(case, viewer))
    out["transitions"] = engine.available(case, viewer) if transitions is None else transitions
    return out


def view_level(case: Case, viewer: User) -> str:
    return spec_for(case.kind).view_level(case, viewer)


def caption(case: Case, viewer: User, with_name: bool = True) -> str:
    """How lists name a case: its title, unless the kind says the title is private for this viewer."""
    spec = spec_for(case.kind)
    if spec.caption is None:
        return case.title or ""
    what = spec.caption(case, viewer)
    return f"{what} · {case.applicant.name}" if with_name else str(what)


def _iso(dt: datetime | None) -> str | None:
    return dt.isoformat() + "Z" if dt else None


def visible_cases(user: User, kind: str | None = None):
    from .permissions import visible_filter
    stmt = select(Case).where(visible_filter(user))
    if kind:
        stmt = stmt.where(Case.kind == kind)
    return stmt
