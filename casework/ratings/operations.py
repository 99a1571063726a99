"""Reading ratings and call-backs for pages and the API: who may see a call-back, the lists, the items."""
from __future__ import annotations

from sqlalchemy import or_, select

from ..accounts.models import Unit, User
from ..core import engine
from ..core.permissions import grants, roles_at
from ..extensions import db
from .models import Callback, Rating

STAFF_ROLES = ("union_staff", "committee", "admin")


def ratings_of(case) -> list[Rating]:
    return db.session.scalars(select(Rating).where(Rating.case_id == case.id)
                              .order_by(Rating.round, Rating.at, Rating.id)).all()


def callbacks_of(case) -> list[Callback]:
    return db.session.scalars(select(Callback).where(Callback.case_id == case.id).order_by(Callback.id)).all()


def can_view(user: User, cb: Callback) -> bool:
    if any(r in STAFF_ROLES for r in roles_at(user, cb.unit)):
        return True
    if cb.department_id is not None and cb.department_id in user.department_ids():
        return True
    return user.id in {r.rater_id for r in cb.ratings}


def visible(user: User, state: str = "due") -> list[Callback]:
    """The call-backs of the units where `user` is staff or on the committee, oldest due date first."""
    paths = {g.unit_path for g in grants(user) if g.role in STAFF_ROLES}
    if not paths:
        return []
    stmt = (select(Callback).join(Unit, Unit.id == Callback.unit_id)
            .where(or_(*[Unit.path.startswith(p) for p in paths])))
    if state != "all":
        stmt = stmt.where(Callback.state == state)
    return db.session.scalars(stmt.order_by(Callback.due_on, Callback.id).limit(500)).all()


def rating_item(r: Rating) -> dict:
    return {"id": r.id, "case": r.case_id, "rater": r.rater.username, "role": r.role, "round": r.round,
            "attitude": r.attitude, "result": r.result, "comment": r.comment, "at": r.at.isoformat() + "Z",
            "department": r.department.code if r.department else None, "set_aside": r.set_aside,
            "callback": r.callback_id}


def callback_item(cb: Callback, user: User) -> dict:
    c = cb.case
    return {"id": cb.id, "version": cb.version, "state": cb.state, "round": cb.round,
            "case": {"kind": c.kind, "id": c.id, "number": c.number, "title": c.title},
            "department": cb.department.code if cb.department else None, "due_on": cb.due_on.isoformat(),
            "called_by": cb.called_by.username if cb.called_by else None,
            "called_on": cb.called_on.isoformat() if cb.called_on else None, "how": cb.how, "notes": cb.notes,
            "outcome": cb.outcome, "fix_by": cb.fix_by.isoformat() if cb.fix_by else None,
            "explanation": cb.explanation, "decision": cb.decision,
            "ratings": [rating_item(r) for r in cb.ratings], "transitions": engine.available(cb, user)}
