"""Declared relatives (亲属回避): who a person is related to, declared by themselves or recorded by union staff.

A relative of someone who raised a case (or whose household, board line or register entry it is) may not act
on it in any review role: the engine asks `engine.related`, which this module answers (both ways). Refusals
never name the relative to anyone but the declarer and staff.
"""
from __future__ import annotations

from flask_babel import gettext as _
from sqlalchemy import or_, select
from sqlalchemy.exc import IntegrityError

from ..core import engine
from ..core.errors import Conflict, Forbidden, Invalid, NotFound
from ..core.permissions import has_role
from ..extensions import db
from .models import RELATIONS, Relative, User, find_login

RECORDERS = ("union_staff", "admin")  # who may record relatives for someone else


def relatives_of(user_id: int) -> set[int]:
    """Everyone `user_id` is declared related to, in either direction."""
    rows = db.session.execute(select(Relative.user_id, Relative.relative_id).where(
        or_(Relative.user_id == user_id, Relative.relative_id == user_id))).all()
    return {b if a == user_id else a for a, b in rows}


@engine.conflict
def _declared_relatives(user) -> set[int]:
    return relatives_of(user.id)


def declare(owner: User, person_ref, relation, recorded_by: User) -> Relative:
    """`owner` is related to the person named by `person_ref` (username or employee number)."""
    if owner.id != recorded_by.id and not any(has_role(recorded_by, r) for r in RECORDERS):
        raise Forbidden(_("Only union staff record relatives for someone else."))
    errors = {}
    person = find_login(person_ref) if isinstance(person_ref, str) else None
    if person is None or not person.active:
        errors["person"] = _("No active member with this user name, employee number or phone.")
    elif person.id == owner.id:
        errors["person"] = _("You cannot name yourself.")
    if relation not in RELATIONS:
        errors["relation"] = _("Choose one of: %(choices)s.", choices=", ".join(RELATIONS))
    if errors:
        raise Invalid(_("Please correct the marked fields."), fields=errors)
    exists = db.session.scalar(select(Relative.id).where(or_(
        (Relative.user_id == owner.id) & (Relative.relative_id == person.id),
        (Relative.user_id == person.id) & (Relative.relative_id == owner.id))))
    if exists:
        raise Conflict(_("This relative is already declared."), code="exists")
    row = Relative(user_id=owner.id, relative_id=person.id, relation=relation, recorded_by_id=recorded_by.id)
    try:
        with db.session.begin_nested():
            db.session.add(row)
            db.session.info.pop("casework_related", None)  # the engine's per-transaction answer changes
    except IntegrityError:
        raise Conflict(_("This relative is already declared."), code="exists") from None
    return row


def declared_by(user: User) -> list[Relative]:
    """The declarations about `user` made by them or recorded for them by staff."""
    return db.session.scalars(select(Relative).where(Relative.user_id == user.id).order_by(Relative.id)).all()


def remove(relative_id: int, user: User) -> None:
    row = db.session.get(Relative, relative_id)
    if row is None or (row.user_id != user.id and not any(has_role(user, r) for r in RECORDERS)):
        raise NotFound(_("No such relative."))
    db.session.info.pop("casework_related", None)  # the engine's per-transaction answer changes
    db.session.delete(row)


def serialize(row: Relative) -> dict:
    return {"id": row.id, "person": row.relative.username, "name": row.relative.name, "relation": row.relation,
            "recorded_by": row.recorded_by.username, "created_at": row.created_at.isoformat() + "Z"}
