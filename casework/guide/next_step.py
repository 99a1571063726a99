"""The case panel's facts: the state, who acts next and by when, from the workflow's transitions."""
from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select

import workflows
from workflows.base import PARTY_ROLES

from ..accounts.models import ROLES as UNIT_ROLES, DepartmentMember, RoleAssignment, User
from ..clock import today
from ..core import calendar
from ..extensions import db
from ..labels import PARTY_ROLE_LABELS, ROLE_LABELS, STATE_LABELS, STEP_LABELS, step_label, trigger_label

# Names listed for a role before "and others": a panel, not a directory.
MAX_NAMES = 5


@dataclass
class Actor:
    role: str
    label: str
    names: list[str] | None = None   # None: too many to list (every other representative)
    more: bool = False


@dataclass
class Step:
    trigger: str
    label: str
    actors: list[Actor]
    automatic: bool = False


@dataclass
class NextStep:
    state: str
    state_label: str
    step_label: str
    final: bool
    steps: list[Step]
    deadline: object = None          # a date, or None
    working_days_left: int | None = None
    overdue: bool = False


def role_label(role: str) -> str:
    return str(ROLE_LABELS.get(role) or PARTY_ROLE_LABELS.get(role, role))


def next_step(case) -> NextStep:
    wf = workflows.get(case.kind)
    steps: list[Step] = []
    holders = None  # the unit roles' holders, read once for every step
    for trigger in wf.triggers_from(case.state):
        if trigger in wf.standing:
            continue
        candidates = wf.candidates(trigger, case.state)
        automatic = all(t.automatic for t in candidates)
        roles: list[str] = []
        for t in candidates:
            roles += [r for r in t.roles if r not in roles]
        if not automatic and holders is None:
            holders = _unit_role_holders(case, wf)
        every = [] if automatic else [_actor(case, r, holders) for r in roles if r != "scheduler"]
        # A party role nobody holds on this case (no filer, no evaluators yet) is left out, unless the step
        # has nobody else: then the role stands alone, so the page shows whose turn it is even when unstaffed.
        actors = [a for a in every if not (a.role in PARTY_ROLES and a.names == [])] or every
        steps.append(Step(trigger, trigger_label(trigger), actors, automatic))
    out = NextStep(case.state, str(STATE_LABELS.get(case.state, case.state)),
                   step_label(case.kind, case.state) if case.state in STEP_LABELS.get(case.kind, {}) else "",
                   case.state in wf.final, steps)
    deadline = getattr(case, "deadline", None)
    if deadline is not None and not out.final:
        out.deadline = deadline
        now = today()
        out.overdue = deadline < now
        out.working_days_left = 0 if out.overdue else calendar.working_days_between(now, deadline)
    return out


def _actor(case, role: str, holders: dict[str, list[str]]) -> Actor:
    """Who may act in `role`: its label, and people's names where they can be listed."""
    names = _names(case, role, holders)
    actor = Actor(role, role_label(role))
    if names is not None:
        actor.names = sorted(set(names))[:MAX_NAMES]
        actor.more = len(set(names)) > MAX_NAMES
    return actor


def _unit_role_holders(case, wf) -> dict[str, list[str]]:
    """Names of the active people holding each unit role of the state's steps at the case's unit or above,
    in one SELECT."""
    roles = {r for trigger in wf.triggers_from(case.state) for t in wf.candidates(trigger, case.state)
             for r in t.roles if r in UNIT_ROLES}
    out: dict[str, list[str]] = {r: [] for r in roles}
    if roles:
        for role, name in db.session.execute(
                select(RoleAssignment.role, User.name).join(User, User.id == RoleAssignment.user_id)
                .where(RoleAssignment.role.in_(roles), RoleAssignment.unit_id.in_(case.unit.ancestor_ids()),
                       User.active.is_(True))):
            out[role].append(name)
    return out


def _names(case, role: str, holders: dict[str, list[str]]) -> list[str] | None:
    """People's display names for `role` on this case; None when the role is too wide to list."""
    if role == "applicant" or role == "author":
        return [case.applicant.name] if case.applicant else []
    if role == "filer":
        return [case.created_by.name] if case.created_by_id != case.applicant_id else []
    if role in ("assigned_evaluator", "visitor"):
        ids = case.party_ids("evaluator" if role == "assigned_evaluator" else "visitor")
        return _user_names(ids)
    if role == "assigned_handler":
        if case.department_id is None:
            return []
        ids = db.session.scalars(select(DepartmentMember.user_id)
                                 .where(DepartmentMember.department_id == case.department_id)).all()
        return _user_names(ids)
    if role == "cosigner_candidate":
        return None  # every other representative of the session
    # A unit role: whoever holds it at the case's unit or above it.
    return holders.get(role, [])


def _user_names(ids) -> list[str]:
    ids = list(ids)
    if not ids:
        return []
    return list(db.session.scalars(select(User.name).where(User.id.in_(ids), User.active.is_(True))).all())
