"""The lists people work from: my cases, and my work (cases where I may act now)."""
from __future__ import annotations

from sqlalchemy import and_, false, or_, select

import workflows

from ..accounts.models import DepartmentMember, Unit, User
from ..extensions import db
from . import engine
from .models import Case, CaseParty
from .permissions import grants

# Party roles and the case rows that make someone hold them.
_PARTY_WHERE = {
    "applicant": lambda u: and_(Case.kind == "aid", Case.applicant_id == u.id),
    "filer": lambda u: and_(Case.kind == "aid", Case.created_by_id == u.id),
    "author": lambda u: Case.applicant_id == u.id,
    "assigned_evaluator": lambda u: Case.id.in_(select(CaseParty.case_id).where(
        CaseParty.user_id == u.id, CaseParty.role == "evaluator")),
    "visitor": lambda u: Case.id.in_(select(CaseParty.case_id).where(
        CaseParty.user_id == u.id, CaseParty.role == "visitor")),
    "assigned_handler": lambda u: Case.department_id.in_(select(DepartmentMember.department_id).where(
        DepartmentMember.user_id == u.id)),
}


def my_cases(user: User, limit: int = 50):
    stmt = select(Case).where(or_(Case.applicant_id == user.id, Case.created_by_id == user.id))
    return db.session.scalars(stmt.order_by(Case.id.desc()).limit(limit)).all()


def _actionable_states() -> dict[str, dict[str, set[str]]]:
    """role -> kind -> states in which that role has a manual transition."""
    out: dict[str, dict[str, set[str]]] = {}
    for kind, wf in workflows.WORKFLOWS.items():
        for t in wf.transitions:
            if t.automatic:
                continue
            for role in t.roles:
                out.setdefault(role, {}).setdefault(kind, set()).update(t.source)
    return out


ACTIONABLE = _actionable_states()


def work_filter(user: User):
    """Cases in a state where one of the user's roles has a step; refined by `engine.available`."""
    conds = []
    for role, where in _PARTY_WHERE.items():
        for kind, states in ACTIONABLE.get(role, {}).items():
            conds.append(and_(where(user), Case.kind == kind, Case.state.in_(sorted(states))))
    for g in grants(user):
        for kind, states in ACTIONABLE.get(g.role, {}).items():
            units = select(Unit.id).where(Unit.path.startswith(g.unit_path))
            conds.append(and_(Case.kind == kind, Case.state.in_(sorted(states)), Case.unit_id.in_(units)))
    if any(g.role == "representative" for g in grants(user)):
        conds.append(and_(Case.kind == "motion", Case.state == "cosigning", Case.applicant_id != user.id))
    return or_(*conds) if conds else false()


def work_queue(user: User, limit: int = 50, kind: str | None = None):
    """(case, triggers) the user may fire now, the oldest deadline first."""
    stmt = select(Case).where(work_filter(user))
    if kind:
        stmt = stmt.where(Case.kind == kind)
    stmt = stmt.order_by(Case.deadline.is_(None), Case.deadline, Case.id)
    out = []
    # Over-fetch a little: some candidates fall out on conflict of interest or a cast vote.
    for case in db.session.scalars(stmt.limit(limit * 3)):
        triggers = engine.available(case, user)
        if triggers:
            out.append((case, triggers))
        if len(out) >= limit:
            break
    return out
