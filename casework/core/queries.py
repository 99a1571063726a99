"""The lists people work from: my cases, and my work (cases where I may act now)."""
from __future__ import annotations

from sqlalchemy import and_, false, or_, select
from sqlalchemy.orm import joinedload, selectinload

import workflows

from ..accounts.models import DepartmentMember, Unit, User
from ..extensions import db
from . import engine, kinds
from .models import Case, CaseCoDepartment, CaseParty
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
    # Refined by the roles' resolvers: only while the department has not signed for it, or while its
    # opinion is awaited.
    "receiving_handler": lambda u: Case.department_id.in_(select(DepartmentMember.department_id).where(
        DepartmentMember.user_id == u.id)),
    "co_handler": lambda u: Case.id.in_(select(CaseCoDepartment.case_id).where(
        CaseCoDepartment.department_id.in_(select(DepartmentMember.department_id).where(
            DepartmentMember.user_id == u.id)))),
}


def listed(stmt):
    """A list of cases loads, with the cases, what each row shows and what deciding its view reads: the
    parties, the applicant and the unit (one statement each for the page, not one per row)."""
    return stmt.options(selectinload(Case.parties), joinedload(Case.applicant), joinedload(Case.unit))


def my_cases(user: User, limit: int = 50):
    stmt = listed(select(Case).where(or_(Case.applicant_id == user.id, Case.created_by_id == user.id)))
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


# Rows read beyond the page for candidates that fall out: a few fall out (回避, a vote already cast), and every
# row read costs its loading and its available steps.
CHUNK_SPARE = 5


def work_queue(user: User, limit: int = 50, kind: str | None = None):
    """(case, triggers) the user may fire now, the oldest deadline first."""
    return work_page(user, kind=kind, size=limit)[0]


def work_page(user: User, *, kind=None, state=None, unit=None, category=None, q=None, after=None,
              size: int = 25):
    """A page of the user's work, oldest deadline first (no deadline last), keyset-paged.

    Returns ([(case, triggers)], next cursor or None). `after` is the cursor "deadline|id". Cases with a
    deadline come first in index order (ix_cases_deadline), then those without, by id.
    """
    stmt = select(Case).where(work_filter(user))
    if kind:
        stmt = stmt.where(Case.kind == kind)
    if state:
        stmt = stmt.where(Case.state == state)
    if unit is not None:
        stmt = stmt.where(Case.unit_id.in_(select(Unit.id).where(Unit.path.startswith(unit.path))))
    if category:
        ids = [spec.category_filter(category) for spec in kinds.KINDS.values()
               if spec.category_filter and (kind is None or spec.kind == kind)]
        stmt = stmt.where(or_(*(Case.id.in_(i) for i in ids)) if ids else false())
    if q:
        q = q.strip()
        stmt = stmt.where(or_(Case.number == q.upper(), Case.applicant_id.in_(
            select(User.id).where(User.name.contains(q, autoescape=True)))))
    stmt = listed(stmt)
    day, after_id = _parse_cursor(after)
    dated = stmt.where(Case.deadline.is_not(None)).order_by(Case.deadline, Case.id)
    undated = stmt.where(Case.deadline.is_(None)).order_by(Case.id)
    if after_id is not None and day is not None:
        dated = dated.where(or_(Case.deadline > day, and_(Case.deadline == day, Case.id > after_id)))
    elif after_id is not None:
        dated = None
        undated = undated.where(Case.id > after_id)
    out, last = [], None
    for query in (dated, undated):
        if query is None:
            continue
        # Candidates can still fall out (conflict of interest, a vote already cast): read in chunks.
        offset = 0
        while len(out) < size:
            chunk = db.session.scalars(query.offset(offset).limit(size + CHUNK_SPARE)).unique().all()
            offset += len(chunk)
            for case in chunk:
                last = case
                if category and not _sees_category(case, user):
                    continue  # filtering by category would tell who has, say, a serious illness
                triggers = engine.available(case, user)
                if triggers:
                    out.append((case, triggers))
                    if len(out) == size:
                        return out, _cursor(last)
            if len(chunk) < size + CHUNK_SPARE:
                break  # that was the last of them: asking again would only find nothing
    return out, None


def _sees_category(case: Case, user: User) -> bool:
    spec = kinds.spec_for(case.kind)
    return spec.category_filter is not None and spec.view_level(case, user) == "full"


def _parse_cursor(cursor: str | None):
    from datetime import date
    if not cursor:
        return None, None
    try:
        day, case_id = cursor.split("|")
        return (date.fromisoformat(day) if day else None), int(case_id)
    except ValueError:
        return None, None


def _cursor(case: Case) -> str:
    return f"{case.deadline.isoformat() if case.deadline else ''}|{case.id}"
