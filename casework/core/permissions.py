"""Who holds which role where, and who may see a case.

A role held at a unit covers every unit below it; a delegation lends a role at a unit for a date range.

A user's grants are cached across requests under the database's grants version token, which every
transaction that changes role assignments, delegations, department memberships or units replaces when it
commits (the hooks at the end of this module). Each transaction reads the token once, so a revoked role
or an ended delegation counts from the next request on, in every worker process. The cache itself is this
process's memory, or Redis when CASEWORK_REDIS_URL is set, shared by every process and machine.
"""
from __future__ import annotations

import json
import logging
import secrets
from dataclasses import dataclass
from datetime import date

from sqlalchemy import and_, event, false, or_, select
from sqlalchemy.orm import Session

from ..accounts.models import DepartmentMember, Delegation, RoleAssignment, Unit, User
from ..clock import today
from ..extensions import db, shared_redis
from . import tenancy
from .models import Case, CaseCoDepartment, CaseParty, GrantsVersion, upsert


@dataclass(frozen=True)
class Grant:
    role: str
    unit_id: int
    unit_path: str
    delegate_of: int | None = None  # the absent colleague whose role this is


log = logging.getLogger("casework.permissions")

# (token, user id, day) -> that user's grants. Grants are plain frozen values, safe to share.
_CACHE: dict[tuple[str, int, date], tuple[Grant, ...]] = {}
_CACHE_LIMIT = 20000
# In Redis, under casework:grants:<token>:<user id>:<day>; entries of a replaced token are never read
# again and expire.
_REDIS_TTL = 24 * 3600


def grants(user: User, on: date | None = None) -> tuple[Grant, ...]:
    """Every role the user holds on `on` (today), own and delegated."""
    on = on or today()
    token = _grants_token()
    if token is None:
        return _grants(user, on)
    # A list page asks for each row and step: answer from this transaction's own memo, not from Redis
    # (a round trip each) or the process cache again.
    memo = db.session.info.setdefault(_MEMO, {})
    found = memo.get((token, user.id, on))
    if found is None:
        found = memo[(token, user.id, on)] = _cached_grants(token, user, on)
    return found


def _cached_grants(token: str, user: User, on: date) -> tuple[Grant, ...]:
    shared = shared_redis()
    if shared is not None:
        return _shared_grants(shared, f"casework:grants:{token}:{user.id}:{on.isoformat()}", user, on)
    key = (token, user.id, on)
    found = _CACHE.get(key)
    if found is None:
        found = _grants(user, on)
        if len(_CACHE) >= _CACHE_LIMIT:
            _CACHE.clear()
        _CACHE[key] = found
    return found


def _shared_grants(shared, key: str, user: User, on: date) -> tuple[Grant, ...]:
    import redis
    try:
        raw = shared.get(key)
    except redis.RedisError as exc:  # Redis away: the database still answers, only slower
        log.warning("grants cache unavailable: %s", exc)
        return _grants(user, on)
    if raw is not None:
        return tuple(Grant(*fields) for fields in json.loads(raw))
    found = _grants(user, on)
    try:
        shared.set(key, json.dumps([[g.role, g.unit_id, g.unit_path, g.delegate_of] for g in found]),
                   ex=_REDIS_TTL)
    except redis.RedisError as exc:
        log.warning("grants cache unavailable: %s", exc)
    return found


def _grants(user: User, on: date) -> tuple[Grant, ...]:
    # Grants are cached across requests: read them whole, whichever union's request asks.
    with tenancy.identifying():
        return _read_grants(user, on)


def _read_grants(user: User, on: date) -> tuple[Grant, ...]:
    own = db.session.execute(select(RoleAssignment.role, RoleAssignment.unit_id, Unit.path)
                             .join(Unit, Unit.id == RoleAssignment.unit_id)
                             .where(RoleAssignment.user_id == user.id)
                             .order_by(RoleAssignment.id)).all()
    out = [Grant(role, unit_id, path) for role, unit_id, path in own]
    lent = db.session.execute(
        select(Delegation.role, Delegation.unit_id, Unit.path, Delegation.from_user_id)
        .join(Unit, Unit.id == Delegation.unit_id)
        .where(Delegation.to_user_id == user.id, Delegation.starts_on <= on, Delegation.ends_on >= on)
        .order_by(Delegation.id)).all()
    if lent:
        lender_ids = {row.from_user_id for row in lent}
        lender_roles = db.session.execute(
            select(RoleAssignment.user_id, RoleAssignment.role, Unit.path)
            .join(Unit, Unit.id == RoleAssignment.unit_id)
            .where(RoleAssignment.user_id.in_(lender_ids))).all()
        for role, unit_id, path, lender in lent:
            # The lender must still hold the role at that unit or above.
            if any(r.user_id == lender and r.role == role and path.startswith(r.path) for r in lender_roles):
                out.append(Grant(role, unit_id, path, delegate_of=lender))
    return tuple(out)


def _grants_token() -> str | None:
    """The grants version this transaction caches under; None while it changes grants itself (or the
    token row is missing), when nothing is cached."""
    info = db.session.info
    if info.get(_CHANGED):
        return None
    session = db.session()
    pending = (session.new, session.dirty, session.deleted)
    if any(isinstance(o, _WATCHED) for objects in pending for o in objects):
        return None  # not flushed yet, but this transaction changes grants
    if _TOKEN not in info:
        info[_TOKEN] = db.session.scalar(select(GrantsVersion.token).where(GrantsVersion.id == 1))
    return None if info.get(_CHANGED) else info[_TOKEN]


def roles_at(user: User, unit: Unit, on: date | None = None) -> dict[str, int | None]:
    """role -> delegate_of (None when the user's own) for the roles covering `unit`."""
    held: dict[str, int | None] = {}
    for g in grants(user, on):
        if unit.path.startswith(g.unit_path):
            if g.role not in held or held[g.role] is not None:
                held[g.role] = g.delegate_of
    return held


def has_role(user: User, role: str, unit: Unit | None = None) -> bool:
    if not user or not user.is_authenticated:
        return False
    if unit is None:
        return any(g.role == role for g in grants(user))
    return role in roles_at(user, unit)


# Unit roles that see every case of a kind in their units.
VIEWERS = {
    "aid": ("union_staff", "committee", "fund_manager", "admin"),
    "proposal": ("union_staff", "committee", "admin"),
    "motion": ("motion_committee", "committee", "union_staff", "representative", "admin"),
}


def handling_departments(case: Case) -> set[int]:
    """The departments handling the case: the lead one and any co-handling ones (a motion's 协办)."""
    out = {int(d) for d in getattr(case, "co_department_ids", None) or () if str(d).isdigit()}
    if case.department_id:
        out.add(case.department_id)
    return out


def can_view(user: User | None, case: Case) -> bool:
    if user is None or not user.is_authenticated:
        return False
    if user.id in case.raised_by() or any(p.user_id == user.id for p in case.parties):
        return True
    handling = handling_departments(case)
    if handling and handling & user.department_ids():
        return True  # a co-handling department's handlers see what the lead department's see
    held = roles_at(user, case.unit)
    return any(r in held for r in VIEWERS[case.kind])


def visible_filter(user: User):
    """A WHERE clause over Case selecting exactly the cases `can_view` allows."""
    departments = select(DepartmentMember.department_id).where(DepartmentMember.user_id == user.id)
    conds = [Case.applicant_id == user.id, Case.created_by_id == user.id,
             Case.id.in_(select(CaseParty.case_id).where(CaseParty.user_id == user.id)),
             Case.department_id.in_(departments),
             Case.id.in_(select(CaseCoDepartment.case_id)
                         .where(CaseCoDepartment.department_id.in_(departments)))]
    by_kind: dict[str, set[str]] = {}
    for g in grants(user):
        for kind, roles in VIEWERS.items():
            if g.role in roles:
                by_kind.setdefault(kind, set()).add(g.unit_path)
    for kind, paths in by_kind.items():
        unit_ids = select(Unit.id).where(or_(*[Unit.path.startswith(p) for p in sorted(paths)]))
        conds.append(and_(Case.kind == kind, Case.unit_id.in_(unit_ids)))
    return or_(*conds) if conds else false()


REVIEWER_ROLES = ("union_staff", "committee", "admin", "motion_committee")


def sees_reviewer_notes(user: User, case: Case) -> bool:
    """Reviewers' private inputs (visit findings, evaluators' notes): never the people who raised it."""
    if user.id in case.raised_by():
        return False
    if any(p.user_id == user.id and p.role in ("visitor", "evaluator") for p in case.parties):
        return True
    held = roles_at(user, case.unit)
    return any(r in held for r in REVIEWER_ROLES)


# -- the grants version ----------------------------------------------------------------------

_TOKEN, _CHANGED, _PENDING = "casework_grants_token", "casework_grants_changed", "casework_grants_bump"
_MEMO = "casework_grants_memo"
# What grants are made of: a change to any of these rows replaces the token when its transaction commits.
_WATCHED = (RoleAssignment, Delegation, DepartmentMember, Unit)
_WATCHED_TABLES = frozenset(m.__table__.name for m in _WATCHED)


def _changed(session: Session) -> None:
    session.info[_CHANGED] = True
    session.info[_PENDING] = True


def _on_row_change(mapper, connection, target):
    from sqlalchemy.orm import object_session
    session = object_session(target)
    if session is not None:
        _changed(session)


for _model in _WATCHED:
    for _when in ("after_insert", "after_update", "after_delete"):
        event.listen(_model, _when, _on_row_change)


@event.listens_for(Session, "do_orm_execute")
def _on_statement(state):
    # Bulk and Core statements through the session (the roster import's INSERT/DELETE) bypass the
    # row events above.
    if state.is_insert or state.is_update or state.is_delete:
        table = getattr(state.statement, "table", None)
        if getattr(table, "name", None) in _WATCHED_TABLES:
            _changed(state.session)


@event.listens_for(Session, "before_commit")
def _bump_on_commit(session: Session):
    if session.in_nested_transaction():
        return  # the outermost commit bumps, once
    if session.new or session.dirty or session.deleted:
        session.flush()  # commit flushes only after this hook: see its changes now
    if session.info.pop(_PENDING, False):
        stmt = upsert(GrantsVersion, session).values(id=1, token=secrets.token_hex(16))
        session.execute(stmt.on_conflict_do_update(index_elements=[GrantsVersion.id],
                                                   set_={"token": stmt.excluded.token}))


@event.listens_for(Session, "after_transaction_end")
def _forget_token(session: Session, transaction):
    if transaction.parent is None:
        for key in (_TOKEN, _CHANGED, _PENDING, _MEMO):
            session.info.pop(key, None)
