"""The dashboard's numbers, aggregated in SQL for one unit tree and period.

Definitions (what each number counts):
- cases: cases of the unit and the units below it created in the period, by kind and current state.
- aid granted: aid requests now approved, disbursed or closed, dated by the committee's approval (the last audit
  entry pending_approval or parent_approval -> posting); amount = amount_approved. An approval later overturned by an upheld
  objection is not counted, because the case is then no longer approved.
- handling time: a *stay* is the time between the audit entry that moved a case into a state and the next entry
  that moved it out (reflexive steps and votes do not end a stay). Stays that ended in the period count;
  p90 is the nearest-rank 90th percentile (the smallest duration that at least 90 % of stays do not exceed).
- on time: stays whose entering step set a deadline (audit `changes.deadline`), ended in the period, on time when
  the local date they ended is on or before the deadline.
- proposals / motions: events (audit entries) in the period; benefit = sum of the yearly benefit reported in
  the period; satisfaction = the authors' ratings given in the period (of a two-part rating its result;
  rate_unsatisfied counts as unsatisfied). Every rater's two parts are in the ratings ledger (casework/ratings).
- objections and reports: raised in the period, by kind and status.
- home visits (走访慰问): aid visits dated in the period, and the distinct workers they visited, by month, unit
  and category.

Stays and steps are read from the stays the engine maintains (models.StatStay, aggregates.py), cases and
visits from their own tables through their period indexes: a period's figures cost what happened in it.

The annual reports (casework/stats/reports.py) print these same numbers, plus a few the dashboard does not
show: aid requests by category and state (created in the period, as `cases`), every state-changing step per
trigger (events in the period), rewards paid, and the proposals adopted and motions filed in the period.
"""
from __future__ import annotations

from datetime import date, datetime, time, timedelta

from sqlalchemy import and_, case as when, func, select
from sqlalchemy.orm import aliased

from ..accounts.models import Department, Unit, User
from ..aid.models import AidRequest
from ..clock import to_utc, zone
from ..core.models import Case, CaseParty
from ..extensions import db, replica
from .models import StatStay

GRANTED_STATES = ("approved", "disbursed", "closed")


class Scope:
    """A unit tree and a period of local dates [start, end], as UTC bounds for the database."""

    def __init__(self, unit: Unit, start: date, end: date, self_only: bool = False):
        self.unit, self.start, self.end = unit, start, end
        self.self_only = self_only  # the unit's own figures, without the units below it (a roll-up's part)
        self.lo = to_utc(datetime.combine(start, time.min))
        self.hi = to_utc(datetime.combine(end + timedelta(days=1), time.min))
        # China keeps one offset all year; the offset at the period's start places times in local days.
        self.offset_min = int(zone().utcoffset(datetime.combine(start, time.min)).total_seconds() // 60)
        self.period = None  # the period's stays, read once per scope (_Period)

    def unit_ids(self):
        if self.self_only:
            return select(Unit.id).where(Unit.id == self.unit.id)
        return select(Unit.id).where(Unit.path.startswith(self.unit.path))

    def case_ids(self):
        return select(Case.id).where(Case.unit_id.in_(self.unit_ids()))

    def within(self, column):
        return and_(column >= self.lo, column < self.hi)


def _dialect() -> str:
    return db.session.get_bind().dialect.name


def _local(column, fmt: str, off: int):
    """A UTC timestamp as local text (off: minutes east of UTC): 'month' (YYYY-MM) or 'day' (YYYY-MM-DD)."""
    if _dialect() == "postgresql":
        pattern = {"month": "YYYY-MM", "day": "YYYY-MM-DD"}[fmt]
        return func.to_char(column + func.make_interval(0, 0, 0, 0, 0, off), pattern)
    pattern = {"month": "%Y-%m", "day": "%Y-%m-%d"}[fmt]
    return func.strftime(pattern, column, f"{off:+d} minutes")


def stays(scope: Scope):
    """One row per finished stay in a state that ended in the period (a subquery of the maintained stays)."""
    return (select(StatStay.kind, StatStay.case_id, StatStay.state, StatStay.deadline, StatStay.left_by,
                   StatStay.left_to, StatStay.rating, StatStay.left_at, StatStay.seconds)
            .where(StatStay.unit_id.in_(scope.unit_ids()), scope.within(StatStay.left_at))
            .subquery())


def _ended(scope: Scope, kind: str, **conds):
    """Conditions on the stays (of one kind's cases, ended in the period) by column=value: a stay ends with
    each step that changes a case's state, so these are the period's steps."""
    where = [StatStay.kind == kind, StatStay.unit_id.in_(scope.unit_ids()), scope.within(StatStay.left_at)]
    for name, value in conds.items():
        column = getattr(StatStay, name)
        where.append(column.in_(value) if isinstance(value, tuple) else column == value)
    return where


@replica()
def compute(scope: Scope, by_unit: bool = False) -> dict:
    out = {"cases": cases_by_kind_state(scope), "aid": aid_granted(scope), "handling": handling(scope),
           "deadlines": deadlines(scope), "proposals": proposals(scope), "motions": motions(scope),
           "objections": objections(scope), "visits": visits(scope)}
    if by_unit:
        out["by_unit"] = rollup(scope)
    return out


ROLLUP_FIGURES = ("cases", "aid_count", "aid_amount", "proposals_collected", "motions_filed", "visits")


def rollup(scope: Scope) -> dict:
    """The scope's additive figures split into the unit's own and each unit directly below it (with the units
    under that one): the parts add up exactly to the total, which is the scope's own figures."""
    parts = [Scope(scope.unit, scope.start, scope.end, self_only=True)]
    parts += [Scope(child, scope.start, scope.end) for child in db.session.scalars(
        select(Unit).where(Unit.parent_id == scope.unit.id).order_by(Unit.path))]
    rows = []
    for part in parts:
        granted = aid_granted(part)["total"]
        rows.append({"unit": part.unit.id, "unit_name": part.unit.name, "own": part.self_only,
                     "cases": sum(r["count"] for r in cases_by_kind_state(part)),
                     "aid_count": granted["count"], "aid_amount": granted["amount"],
                     "proposals_collected": _count(part, "proposal", left_by="submit", left_to="submitted"),
                     "motions_filed": _count(part, "motion", left_by="file", left_to="handling"),
                     "visits": visits(part)["total"]["visits"]})
    total = {k: sum(r[k] for r in rows) for k in ROLLUP_FIGURES}
    return {"rows": rows, "total": total}


def cases_by_kind_state(scope: Scope) -> list[dict]:
    rows = db.session.execute(
        select(Case.kind, Case.state, func.count()).where(Case.unit_id.in_(scope.unit_ids()),
                                                          scope.within(Case.created_at))
        .group_by(Case.kind, Case.state).order_by(Case.kind, Case.state)).all()
    return [{"kind": k, "state": s, "count": n} for k, s, n in rows]


def aid_granted(scope: Scope) -> dict:
    later = aliased(StatStay)
    approving = ("pending_approval", "parent_approval")  # decided alone, or by the parent union
    approved = (select(StatStay.case_id, StatStay.left_at.label("at"))
                .where(*_ended(scope, "aid", state=approving, left_to="posting"),
                       ~select(later.id).where(later.case_id == StatStay.case_id, later.state.in_(approving),
                                               later.left_to == "posting", later.left_at > StatStay.left_at)
                       .exists())
                .subquery())
    month = _local(approved.c.at, "month", scope.offset_min)
    rows = db.session.execute(
        select(month.label("month"), AidRequest.category, func.count(), func.sum(AidRequest.amount_approved))
        .join(approved, approved.c.case_id == AidRequest.id)
        .where(AidRequest.state.in_(GRANTED_STATES), scope.within(approved.c.at))
        .group_by(month, AidRequest.category).order_by(month, AidRequest.category)).all()
    out = [{"month": m, "category": c, "count": n, "amount": int(a or 0)} for m, c, n, a in rows]
    by_category: dict[str, dict] = {}
    by_month: dict[str, dict] = {}
    for r in out:  # totals over the already-aggregated rows (a few dozen at most)
        for key, bucket in ((r["category"], by_category), (r["month"], by_month)):
            t = bucket.setdefault(key, {"count": 0, "amount": 0})
            t["count"] += r["count"]
            t["amount"] += r["amount"]
    return {"rows": out, "by_category": by_category, "by_month": by_month,
            "total": {"count": sum(r["count"] for r in out), "amount": sum(r["amount"] for r in out)}}


class _Period:
    """What the period's stays say, read in one pass over them: handling times, deadlines met, the steps
    taken, motions replied on time and their ratings. One SELECT of the maintained stays (StatStay) through
    the period index, counted here: sorting each state's durations for the nearest-rank p90 in Python costs
    less than SQL window functions over the same rows, and one read serves five figures."""

    def __init__(self, scope: Scope):
        s = stays(scope)
        on_time = when((and_(s.c.deadline.is_not(None), _on_time(s, scope)), 1), else_=0)
        durations: dict[tuple, list[int]] = {}
        due: dict[tuple, list[int]] = {}
        self.steps: dict[str, dict[tuple, int]] = {}
        self.replied_on_time = 0
        self.ratings: dict[str | None, int] = {}
        for kind, state, seconds, has_deadline, ok, left_by, left_to, rating in db.session.execute(
                select(s.c.kind, s.c.state, s.c.seconds, s.c.deadline.is_not(None), on_time, s.c.left_by,
                       s.c.left_to, s.c.rating)):
            durations.setdefault((kind, state), []).append(int(seconds))
            if has_deadline:
                d = due.setdefault((kind, state), [0, 0])
                d[0] += 1
                d[1] += ok
            steps = self.steps.setdefault(kind, {})
            steps[(left_by, left_to)] = steps.get((left_by, left_to), 0) + 1
            if kind == "motion":
                if state in ("handling", "opinion") and left_by == "reply" and ok:
                    self.replied_on_time += 1
                if left_by in ("rate", "rate_unsatisfied"):
                    self.ratings[rating] = self.ratings.get(rating, 0) + 1
        self.handling = []
        for (kind, state), values in sorted(durations.items()):
            values.sort()
            n = len(values)
            p90 = values[-(-n * 9 // 10) - 1]  # nearest rank: the smallest with rank * 10 >= n * 9
            self.handling.append({"kind": kind, "state": state, "count": n,
                                  "avg_hours": round(sum(values) / n / 3600, 2),
                                  "p90_hours": round(p90 / 3600, 2)})
        self.deadlines = [{"kind": k, "state": st, "due": n, "on_time": ok, "rate": round(ok / n, 4)}
                          for (k, st), (n, ok) in sorted(due.items())]


def _period(scope: Scope) -> _Period:
    if scope.period is None:
        scope.period = _Period(scope)
    return scope.period


def handling(scope: Scope) -> list[dict]:
    return _period(scope).handling


def _on_time(s, scope: Scope):
    return _local(s.c.left_at, "day", scope.offset_min) <= s.c.deadline


def deadlines(scope: Scope) -> list[dict]:
    return _period(scope).deadlines


def _count(scope, kind, left_by: str, left_to: str) -> int:
    return steps(scope, kind).get((left_by, left_to), 0)


def proposals(scope: Scope) -> dict:
    from ..proposals.models import Proposal
    benefit = db.session.scalar(
        select(func.coalesce(func.sum(Proposal.benefit), 0)).join(StatStay, StatStay.case_id == Proposal.id)
        .where(*_ended(scope, "proposal", left_by="report_implemented", left_to="implemented")))
    grades = db.session.execute(
        select(Proposal.grade, func.count()).join(StatStay, StatStay.case_id == Proposal.id)
        .where(*_ended(scope, "proposal", left_by="grade", left_to="graded"))
        .group_by(Proposal.grade).order_by(Proposal.grade)).all()
    return {"collected": _count(scope, "proposal", left_by="submit", left_to="submitted"),
            "graded": _count(scope, "proposal", left_by="grade", left_to="graded"),
            "adopted": _count(scope, "proposal", left_by="adopt", left_to="implementing"),
            "implemented": _count(scope, "proposal", left_by="report_implemented", left_to="implemented"),
            "benefit": int(benefit or 0), "grades": {g or "none": n for g, n in grades}}


def motions(scope: Scope) -> dict:
    period = _period(scope)
    shares = sorted(period.ratings.items(), key=lambda r: (r[0] is not None, r[0] or ""))
    rated = sum(n for _r, n in shares)
    return {"filed": _count(scope, "motion", left_by="file", left_to="handling"),
            "replied": _count(scope, "motion", left_by="reply", left_to="replied"),
            "replied_on_time": period.replied_on_time,
            "satisfaction": {r or "none": {"count": n, "share": round(n / rated, 4)} for r, n in shares}}


def objections(scope: Scope) -> list[dict]:
    from ..disclosure.models import Objection
    rows = db.session.execute(
        select(Objection.kind, Objection.status, func.count(),
               func.sum(when((Objection.substantiated.is_(True), 1), else_=0)))
        .where(Objection.unit_id.in_(scope.unit_ids()), scope.within(Objection.at))
        .group_by(Objection.kind, Objection.status).order_by(Objection.kind, Objection.status)).all()
    return [{"kind": k, "status": st, "count": n, "substantiated": int(sub or 0)} for k, st, n, sub in rows]


# -- what the annual reports add -----------------------------------------------------------------

def aid_cases(scope: Scope) -> list[dict]:
    """The `cases` rows of aid requests, split by category."""
    rows = db.session.execute(
        select(AidRequest.category, AidRequest.state, func.count())
        .where(AidRequest.unit_id.in_(scope.unit_ids()), scope.within(AidRequest.created_at))
        .group_by(AidRequest.category, AidRequest.state)
        .order_by(AidRequest.category, AidRequest.state)).all()
    return [{"category": c, "state": s, "count": n} for c, s, n in rows]


def steps(scope: Scope, kind: str) -> dict[tuple[str, str], int]:
    """(trigger, state entered) -> how many times one kind's cases took that step in the period. Votes that
    did not carry and reflexive steps (a score, a co-signature) change no state and are not steps here.
    Counted once per scope for every kind, in the pass over the period's stays."""
    return _period(scope).steps.get(kind, {})


def _stepped(scope: Scope, kind: str, trigger: str, to_state: str):
    """The ids of one kind's cases that took this step in the period."""
    return select(StatStay.case_id).where(*_ended(scope, kind, left_by=trigger, left_to=to_state))


def rewards(scope: Scope) -> dict:
    """Proposals rewarded in the period and the rewards paid (grade reward plus bonus, in fen)."""
    from ..proposals.models import Proposal
    count, amount = db.session.execute(
        select(func.count(), func.coalesce(func.sum(Proposal.reward), 0))
        .where(Proposal.id.in_(_stepped(scope, "proposal", "reward", "rewarded")))).one()
    return {"count": int(count), "amount": int(amount or 0)}


def _names(case_ids, role: str) -> dict[int, list[str]]:
    rows = db.session.execute(
        select(CaseParty.case_id, User.name).join(User, User.id == CaseParty.user_id)
        .where(CaseParty.case_id.in_(case_ids), CaseParty.role == role).order_by(CaseParty.id)).all()
    out: dict[int, list[str]] = {}
    for case_id, name in rows:
        out.setdefault(case_id, []).append(name)
    return out


def adopted_proposals(scope: Scope) -> list[dict]:
    """Proposals adopted in the period: number, title, proposer (and co-proposers), grade, department."""
    from ..proposals.models import Proposal
    rows = db.session.execute(
        select(Proposal.id, Proposal.number, Proposal.title, User.name, Proposal.grade, Department.name)
        .join(User, User.id == Proposal.applicant_id)
        .outerjoin(Department, Department.id == Proposal.department_id)
        .where(Proposal.id.in_(_stepped(scope, "proposal", "adopt", "implementing")))
        .order_by(Proposal.number)).all()
    co = _names([r[0] for r in rows], "coproposer")
    return [{"number": number, "title": title, "proposer": name, "coproposers": co.get(i, []), "grade": grade,
             "department": dept} for i, number, title, name, grade, dept in rows]


def filed_motions(scope: Scope) -> list[dict]:
    """Motions filed in the period: number, title, lead proposer, lead department, state and rating now."""
    from ..motions.models import Motion
    rows = db.session.execute(
        select(Motion.number, Motion.title, User.name, Department.name, Motion.state, Motion.satisfaction,
               Motion.reopened)
        .join(User, User.id == Motion.applicant_id)
        .outerjoin(Department, Department.id == Motion.department_id)
        .where(Motion.id.in_(_stepped(scope, "motion", "file", "handling")))
        .order_by(Motion.number)).all()
    return [{"number": number, "title": title, "proposer": name, "department": dept, "state": state,
             "satisfaction": satisfaction, "reopened": bool(reopened)}
            for number, title, name, dept, state, satisfaction, reopened in rows]


def visits(scope: Scope) -> dict:
    """Home visits (走访慰问) made in the period, dated by the visit, and the people visited (the workers whose
    requests were visited, each once however often), by month, unit and category and in total. One statement:
    the period's visits per person, counted here (people are not additive across months or units)."""
    from ..aid.models import AidVisit
    if _dialect() == "postgresql":
        month = func.to_char(AidVisit.visited_on, "YYYY-MM")
    else:
        month = func.strftime("%Y-%m", AidVisit.visited_on)
    rows = db.session.execute(
        select(month, Unit.id, Unit.name, AidRequest.category, AidRequest.applicant_id, func.count())
        .join(AidRequest, AidRequest.id == AidVisit.case_id).join(Unit, Unit.id == AidRequest.unit_id)
        .where(AidRequest.unit_id.in_(scope.unit_ids()), AidVisit.visited_on >= scope.start,
               AidVisit.visited_on <= scope.end)
        .group_by(month, Unit.id, Unit.name, Unit.path, AidRequest.category, AidRequest.applicant_id)
        .order_by(month, Unit.path, AidRequest.category)).all()
    cells: dict[tuple, dict] = {}
    totals: dict[str, dict] = {"by_month": {}, "by_unit": {}, "by_category": {}}
    overall = {"visits": 0, "people": set()}
    for m, unit_id, unit_name, category, person, n in rows:
        cell = cells.setdefault((m, unit_id, category), {"month": m, "unit": unit_id, "unit_name": unit_name,
                                                         "category": category, "visits": 0, "people": set()})
        for bucket in (cell, totals["by_month"].setdefault(m, {"visits": 0, "people": set()}),
                       totals["by_unit"].setdefault(unit_name, {"visits": 0, "people": set()}),
                       totals["by_category"].setdefault(category, {"visits": 0, "people": set()}), overall):
            bucket["visits"] += n
            bucket["people"].add(person)

    def counted(bucket):
        return {**bucket, "people": len(bucket["people"])}
    return {"rows": [counted(c) for c in cells.values()],
            **{name: {k: counted(v) for k, v in group.items()} for name, group in totals.items()},
            "total": counted(overall)}
