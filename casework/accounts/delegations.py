"""Delegations: a reviewer away lends their role at a unit to a colleague for a date range.

One seat (a person's role at a unit) has at most one delegation at a time: two that overlap in dates, for the
same role at units one within the other, are refused when the second is made. While it lasts, the seat votes
once: by its holder or by the delegate (casework/core/votes.py).
"""
from __future__ import annotations

from datetime import date, timedelta

from flask_babel import gettext as _
from sqlalchemy import or_, select

from ..clock import today
from ..core.errors import Conflict, Invalid, NotFound
from ..core.inputs import record_id
from ..core.permissions import has_role
from ..extensions import db
from .models import Delegation, RoleAssignment, Unit, User

LENDABLE_EXCLUDED = ("worker", "representative")


def _unit(ref) -> Unit | None:
    if isinstance(ref, Unit):
        return ref
    if isinstance(ref, bool) or ref is None:
        return None
    if isinstance(ref, int) or (isinstance(ref, str) and ref.strip().isdigit()):
        number = record_id(ref)
        return db.session.get(Unit, number) if number else None
    if isinstance(ref, str):
        return db.session.scalar(select(Unit).where(Unit.code == ref.strip()))
    return None


def _day(value) -> date | None:
    if isinstance(value, date):
        return value
    try:
        return date.fromisoformat(str(value).strip())
    except ValueError:
        return None


def delegate(lender: User, to_ref, role, unit_ref, starts_on, ends_on) -> Delegation:
    errors = {}
    other = to_ref if isinstance(to_ref, User) else (
        db.session.scalar(select(User).where(User.username == to_ref.strip(), User.active.is_(True)))
        if isinstance(to_ref, str) else None)
    if other is None:
        errors["to"] = _("No active user %(name)s.", name=to_ref if isinstance(to_ref, str) else "")
    elif other.id == lender.id:
        errors["to"] = _("You cannot delegate to yourself.")
    unit = _unit(unit_ref)
    if unit is None:
        errors["unit"] = _("No such unit.")
    elif role in LENDABLE_EXCLUDED or not isinstance(role, str) or not db.session.scalar(
            select(RoleAssignment.id).join(Unit, Unit.id == RoleAssignment.unit_id)
            .where(RoleAssignment.user_id == lender.id, RoleAssignment.role == role,
                   Unit.id.in_(unit.ancestor_ids())).limit(1)):
        errors["role"] = _("You do not hold this role at this unit.")
    start, end = _day(starts_on), _day(ends_on)
    if start is None:
        errors["starts_on"] = _("Enter a date as YYYY-MM-DD.")
    if end is None:
        errors["ends_on"] = _("Enter a date as YYYY-MM-DD.")
    elif start is not None and end < start:
        errors["ends_on"] = _("The end date is before the start date.")
    elif end < today():
        errors["ends_on"] = _("The end date is in the past.")
    if errors:
        raise Invalid(_("Please correct the marked fields."), fields=errors)
    if overlapping(lender, role, unit, start, end):
        raise Conflict(_("This role is already delegated for part of this period: a seat has one delegate at "
                         "a time. End that delegation first."), code="overlapping_delegation")
    row = Delegation(from_user_id=lender.id, to_user_id=other.id, role=role, unit_id=unit.id,
                     starts_on=start, ends_on=end)
    db.session.add(row)
    db.session.flush()
    return row


def overlapping(lender: User, role: str, unit: Unit, start: date, end: date) -> list[Delegation]:
    """The lender's delegations of `role` overlapping [start, end] at `unit`, above or below it."""
    rows = db.session.scalars(select(Delegation).join(Unit, Unit.id == Delegation.unit_id).where(
        Delegation.from_user_id == lender.id, Delegation.role == role,
        Delegation.starts_on <= end, Delegation.ends_on >= start)).all()
    return [d for d in rows if unit.path.startswith(d.unit.path) or d.unit.path.startswith(unit.path)]


def given_and_received(user: User) -> list[Delegation]:
    return db.session.scalars(select(Delegation).where(
        or_(Delegation.from_user_id == user.id, Delegation.to_user_id == user.id))
        .order_by(Delegation.starts_on.desc(), Delegation.id.desc())).all()


def end(delegation_id: int, user: User) -> None:
    """The lender (or an admin) ends it: removed if it never started, else it ends yesterday."""
    d = db.session.get(Delegation, delegation_id)
    if d is None or (d.from_user_id != user.id and not has_role(user, "admin")):
        raise NotFound(_("No such delegation."))
    if d.starts_on >= today():
        db.session.delete(d)  # never started: nothing to keep
    elif d.ends_on >= today():
        d.ends_on = today() - timedelta(days=1)


def serialize(d: Delegation) -> dict:
    return {"id": d.id, "from": d.from_user.username, "to": d.to_user.username, "role": d.role,
            "unit": d.unit_id, "starts_on": d.starts_on.isoformat(), "ends_on": d.ends_on.isoformat(),
            "active": d.starts_on <= today() <= d.ends_on}
