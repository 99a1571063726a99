"""Who holds a role for a case now, and who may take a step on it: reminders and notifications ask the same."""
from __future__ import annotations

from typing import Iterable

from sqlalchemy import select

import workflows
from workflows.base import REVIEW_ROLES

from ..accounts.models import Delegation, DepartmentMember, RoleAssignment, Unit, User
from ..clock import today
from ..extensions import db
from . import engine
from .models import Case


def holders(role: str, unit: Unit | None) -> tuple[list[User], Unit | None]:
    """Active holders of `role` at the nearest unit at or above `unit` that has any, and that unit."""
    if unit is None:
        return [], None
    ids = unit.ancestor_ids()
    rows = db.session.execute(select(RoleAssignment.unit_id, User)
                              .join(User, User.id == RoleAssignment.user_id)
                              .where(RoleAssignment.role == role, RoleAssignment.unit_id.in_(ids),
                                     User.active.is_(True)).order_by(User.id)).all()
    for unit_id in reversed(ids):
        users = [u for uid, u in rows if uid == unit_id]
        if users:
            return users, db.session.get(Unit, unit_id)
    return [], None


def assignees(case: Case, roles: Iterable[str] | None = None) -> list[User]:
    """Who may take a step on `case` now as a reviewer (never the people who raised it); only in `roles`
    when given."""
    wf = workflows.get(case.kind)
    # A transition with a `level` is taken by the role's holders at that unit (the parent union's committee).
    wanted: dict[tuple[str, int | None], Unit | None] = {}
    for t in wf.transitions:
        if case.state in t.source and not t.automatic:
            for r in t.roles:
                if r in REVIEW_ROLES and (roles is None or r in roles):
                    unit = engine.acting_unit(case, t)
                    wanted.setdefault((r, unit.id if unit is not None else None), unit)
    found: dict[int, User] = {}
    on = today()
    for (role, _unit_id), unit in sorted(wanted.items(), key=lambda w: (w[0][0], w[0][1] or 0)):
        if role == "assigned_evaluator":
            users = [p.user for p in case.parties if p.role == "evaluator"]
        elif role == "visitor":
            users = [p.user for p in case.parties if p.role == "visitor"]
        elif role == "assigned_handler":
            users = list(db.session.scalars(
                select(User).join(DepartmentMember, DepartmentMember.user_id == User.id)
                .where(DepartmentMember.department_id == case.department_id)))
        else:
            users, _level = holders(role, unit)
            lenders = [u.id for u in users]
            if lenders:  # colleagues standing in for them today
                users += list(db.session.scalars(
                    select(User).join(Delegation, Delegation.to_user_id == User.id).where(
                        Delegation.role == role, Delegation.from_user_id.in_(lenders),
                        Delegation.starts_on <= on, Delegation.ends_on >= on)))
        for u in users:
            found.setdefault(u.id, u)
    return [u for u in sorted(found.values(), key=lambda u: u.id)
            if u.active and engine.available(case, u)]
