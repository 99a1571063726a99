"""The lists people work from: my cases, and my work (cases where I may act now)."""
from __future__ import annotations

from datetime import date, datetime, time, timedelta

from sqlalchemy import and_, case as when, false, or_, select
from sqlalchemy.orm import joinedload, selectinload

import workflows

from ..accounts.models import DepartmentMember, Unit, User
from ..clock import to_utc
from ..extensions import db
from . import engine, kinds, paging
from .errors import BadRequest
from .inputs import Reader
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


def _state_ranks() -> dict[str, int]:
    """Each state's place in its workflow (the first workflow that has it): sorting by state follows the
    way a case goes, not the alphabet of the codes."""
    ranks: dict[str, int] = {}
    for wf in workflows.WORKFLOWS.values():
        for state in wf.states:
            ranks.setdefault(getattr(state, "value", state), len(ranks))
    return ranks


STATE_RANK = _state_ranks()
_BY_ID = paging.Order("id", id_column=Case.id)
# The columns a case list sorts by (?sort=KEY&dir=asc|desc), each then by id.
SORTS = {
    "number": paging.Order("number", Case.number, id_column=Case.id),
    "title": paging.Order("title", Case.title, id_column=Case.id),
    "state": paging.Order("state", when(STATE_RANK, value=Case.state, else_=len(STATE_RANK)),
                          value=lambda c: STATE_RANK.get(c.state, len(STATE_RANK)), parse=int,
                          id_column=Case.id),
    "deadline": paging.Order("deadline", Case.deadline, nullable=True, parse=date.fromisoformat,
                             id_column=Case.id),
    "created": paging.Order("created", Case.created_at, parse=datetime.fromisoformat, id_column=Case.id),
    "updated": paging.Order("updated", Case.updated_at, parse=datetime.fromisoformat, id_column=Case.id),
}
DIRECTIONS = ("asc", "desc")
NEWEST_FIRST = _BY_ID.reversed(True)  # /cases and the API's lists unless asked otherwise
WORK_ORDER = SORTS["deadline"]  # the queue: the oldest deadline first


def case_order(sort: str | None, direction: str | None, default: paging.Order) -> paging.Order:
    """The order `?sort=&dir=` ask for (`default` when neither is given); 400 naming the keys on a wrong one."""
    reader = Reader({"sort": (sort or "").strip(), "dir": (direction or "").strip().lower()})
    sort = reader.choice("sort", tuple(SORTS), required=False)
    descending = reader.choice("dir", DIRECTIONS, required=False) == "desc"
    reader.done_query()
    if sort is None:
        return default.reversed(descending) if direction else default
    return SORTS[sort].reversed(descending)


def chosen_order(sort: str | None, direction: str | None, default: paging.Order) -> tuple[paging.Order, bool]:
    """For pages and exports: the order asked for, or `default` and False when it is not one we know."""
    try:
        return case_order(sort, direction, default), True
    except BadRequest:
        return default, False


def day_span(args) -> tuple[date | None, date | None, dict[str, str]]:
    """A list's `from`/`to` (YYYY-MM-DD, the union's days, both included) by the one reader: the days and each
    wrong field's message. A wrong day is left out, so pages still show the list with the message."""
    reader = Reader({k: args.get(k) for k in ("from", "to")})
    start, end = reader.span("from", "to")
    if "to" in reader.errors:
        end = None
    return start, end, reader.errors


def created_within(stmt, start: date | None, end: date | None):
    """Cases created from the union's midnight of `start` to the one after `end`."""
    if start:
        stmt = stmt.where(Case.created_at >= to_utc(datetime.combine(start, time())))
    if end:
        stmt = stmt.where(Case.created_at < to_utc(datetime.combine(end + timedelta(days=1), time())))
    return stmt


def my_cases(user: User, limit: int = 50):
    stmt = listed(select(Case).where(or_(Case.applicant_id == user.id, Case.created_by_id == user.id)))
    return db.session.scalars(stmt.order_by(Case.id.desc()).limit(limit)).all()


def _actionable_states() -> dict[str, dict[str, set[str]]]:
    """role -> kind -> states in which that role has a manual transition."""
    out: dict[str, dict[str, set[str]]] = {}
    for kind, wf in workflows.WORKFLOWS.items():
        for t in wf.transitions:
            if t.automatic or t.trigger in wf.standing:  # a legal hold open in every state is no work
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


def work_queue(user: User, limit: int = 50, kind: str | None = None, order: paging.Order | None = None):
    """(case, triggers) the user may fire now, the oldest deadline first unless `order` says otherwise."""
    return work_page(user, kind=kind, size=limit, order=order)[0]


def work_page(user: User, *, kind=None, state=None, unit=None, category=None, q=None, after=None,
              size: int = 25, order: paging.Order | None = None, start: date | None = None,
              end: date | None = None):
    """A page of the user's work in `order` (by default the oldest deadline first, no deadline last),
    keyset-paged, of cases created from `start` to `end` (the union's days) when given.
    Returns ([(case, triggers)], next cursor or None); `after` is such a cursor."""
    stmt = created_within(select(Case).where(work_filter(user)), start, end)
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
    order = order or WORK_ORDER
    out, cursor = [], after
    while True:
        # Candidates can still fall out (conflict of interest, a vote already cast): read in chunks.
        chunk = db.session.scalars(paging.ordered(stmt, order, cursor).limit(size + CHUNK_SPARE)).unique().all()
        for case in chunk:
            if category and not _sees_category(case, user):
                continue  # filtering by category would tell who has, say, a serious illness
            standing = workflows.get(case.kind).standing
            triggers = [t for t in engine.available(case, user) if t not in standing]
            if triggers:
                out.append((case, triggers))
                if len(out) == size:
                    return out, paging.cursor_of(order, case)
        if len(chunk) < size + CHUNK_SPARE:
            return out, None  # that was the last of them: asking again would only find nothing
        cursor = paging.cursor_of(order, chunk[-1])


def _sees_category(case: Case, user: User) -> bool:
    spec = kinds.spec_for(case.kind)
    return spec.category_filter is not None and spec.view_level(case, user) == "full"
