"""The dashboard's numbers, aggregated in SQL (GROUP BY, window functions) for one unit tree and period.

Definitions (what each number counts):
- cases: cases of the unit and the units below it created in the period, by kind and current state.
- aid granted: aid requests now approved, disbursed or closed, dated by the committee's approval (the last audit
  entry pending_approval -> posting); amount = amount_approved. An approval later overturned by an upheld
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

The annual reports (casework/stats/reports.py) print these same numbers, plus a few the dashboard does not
show: aid requests by category and state (created in the period, as `cases`), every state-changing step per
trigger (events in the period), rewards paid, and the proposals adopted and motions filed in the period.
"""
from __future__ import annotations

from datetime import date, datetime, time, timedelta

from sqlalchemy import BigInteger, Integer, and_, case as when, cast, extract, func, or_, select

from ..accounts.models import Department, Unit, User
from ..aid.models import AidRequest
from ..clock import to_utc, zone
from ..core.models import AuditEntry, Case, CaseParty
from ..extensions import db

GRANTED_STATES = ("approved", "disbursed", "closed")


class Scope:
    """A unit tree and a period of local dates [start, end], as UTC bounds for the database."""

    def __init__(self, unit: Unit, start: date, end: date):
        self.unit, self.start, self.end = unit, start, end
        self.lo = to_utc(datetime.combine(start, time.min))
        self.hi = to_utc(datetime.combine(end + timedelta(days=1), time.min))
        # China keeps one offset all year; the offset at the period's start places times in local days.
        self.offset_min = int(zone().utcoffset(datetime.combine(start, time.min)).total_seconds() // 60)

    def unit_ids(self):
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


def _seconds(start, end):
    if _dialect() == "postgresql":
        return cast(func.round(extract("epoch", end - start)), BigInteger)
    return cast(func.round((func.julianday(end) - func.julianday(start)) * 86400), Integer)


def _deadline():
    """The deadline a state-entering step set, as ISO text (or NULL)."""
    return AuditEntry.changes[("deadline", 1)].as_string()


def stays(scope: Scope):
    """One row per finished stay in a state that ended in the period (a subquery)."""
    part = dict(partition_by=AuditEntry.case_id, order_by=AuditEntry.seq)
    moves = (select(AuditEntry.case_id, AuditEntry.to_state.label("state"), AuditEntry.at.label("entered_at"),
                    _deadline().label("deadline"),
                    func.lead(AuditEntry.at).over(**part).label("left_at"),
                    func.lead(AuditEntry.trigger).over(**part).label("left_by"))
             .where(or_(AuditEntry.from_state != AuditEntry.to_state, AuditEntry.seq == 1),
                    AuditEntry.case_id.in_(scope.case_ids()))
             .subquery())
    return (select(Case.kind, moves.c.case_id, moves.c.state, moves.c.deadline, moves.c.left_by,
                   moves.c.left_at, _seconds(moves.c.entered_at, moves.c.left_at).label("seconds"))
            .join(Case, Case.id == moves.c.case_id)
            .where(moves.c.left_at.is_not(None), scope.within(moves.c.left_at))
            .subquery())


def compute(scope: Scope) -> dict:
    return {"cases": cases_by_kind_state(scope), "aid": aid_granted(scope), "handling": handling(scope),
            "deadlines": deadlines(scope), "proposals": proposals(scope), "motions": motions(scope),
            "objections": objections(scope)}


def cases_by_kind_state(scope: Scope) -> list[dict]:
    rows = db.session.execute(
        select(Case.kind, Case.state, func.count()).where(Case.unit_id.in_(scope.unit_ids()),
                                                          scope.within(Case.created_at))
        .group_by(Case.kind, Case.state).order_by(Case.kind, Case.state)).all()
    return [{"kind": k, "state": s, "count": n} for k, s, n in rows]


def aid_granted(scope: Scope) -> dict:
    approved = (select(AuditEntry.case_id, func.max(AuditEntry.at).label("at"))
                .where(AuditEntry.from_state == "pending_approval", AuditEntry.to_state == "posting",
                       AuditEntry.case_id.in_(scope.case_ids()))
                .group_by(AuditEntry.case_id).subquery())
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


def handling(scope: Scope) -> list[dict]:
    s = stays(scope)
    ranked = select(s.c.kind, s.c.state, s.c.seconds,
                    func.row_number().over(partition_by=(s.c.kind, s.c.state), order_by=s.c.seconds).label("rn"),
                    func.count().over(partition_by=(s.c.kind, s.c.state)).label("n")).subquery()
    rows = db.session.execute(
        select(ranked.c.kind, ranked.c.state, func.count(), func.avg(ranked.c.seconds),
               func.min(when((ranked.c.rn * 10 >= ranked.c.n * 9, ranked.c.seconds))))
        .group_by(ranked.c.kind, ranked.c.state).order_by(ranked.c.kind, ranked.c.state)).all()
    return [{"kind": k, "state": st, "count": n, "avg_hours": round(float(avg) / 3600, 2),
             "p90_hours": round(float(p90) / 3600, 2)} for k, st, n, avg, p90 in rows]


def _on_time(s, scope: Scope):
    return _local(s.c.left_at, "day", scope.offset_min) <= s.c.deadline


def deadlines(scope: Scope) -> list[dict]:
    s = stays(scope)
    rows = db.session.execute(
        select(s.c.kind, s.c.state, func.count(), func.sum(when((_on_time(s, scope), 1), else_=0)))
        .where(s.c.deadline.is_not(None))
        .group_by(s.c.kind, s.c.state).order_by(s.c.kind, s.c.state)).all()
    return [{"kind": k, "state": st, "due": n, "on_time": int(ok or 0), "rate": round(int(ok or 0) / n, 4)}
            for k, st, n, ok in rows]


def _events(scope: Scope, kind: str, **conds):
    """Audit entries of one kind's cases in scope, in the period, filtered by column=value."""
    where = [AuditEntry.case_id.in_(scope.case_ids().where(Case.kind == kind)), scope.within(AuditEntry.at)]
    for name, value in conds.items():
        column = getattr(AuditEntry, name)
        where.append(column.in_(value) if isinstance(value, tuple) else column == value)
    return where


def _count(scope, kind, **conds) -> int:
    return db.session.scalar(select(func.count()).select_from(AuditEntry).where(*_events(scope, kind, **conds)))


def proposals(scope: Scope) -> dict:
    from ..proposals.models import Proposal
    benefit = db.session.scalar(
        select(func.coalesce(func.sum(Proposal.benefit), 0)).join(AuditEntry, AuditEntry.case_id == Proposal.id)
        .where(*_events(scope, "proposal", trigger="report_implemented", to_state="implemented")))
    grades = db.session.execute(
        select(Proposal.grade, func.count()).join(AuditEntry, AuditEntry.case_id == Proposal.id)
        .where(*_events(scope, "proposal", trigger="grade", to_state="graded"))
        .group_by(Proposal.grade).order_by(Proposal.grade)).all()
    return {"collected": _count(scope, "proposal", trigger="submit", to_state="submitted"),
            "graded": _count(scope, "proposal", trigger="grade", to_state="graded"),
            "adopted": _count(scope, "proposal", trigger="adopt", to_state="implementing"),
            "implemented": _count(scope, "proposal", trigger="report_implemented", to_state="implemented"),
            "benefit": int(benefit or 0), "grades": {g or "none": n for g, n in grades}}


def motions(scope: Scope) -> dict:
    s = stays(scope)
    replied_on_time = db.session.scalar(
        select(func.count()).select_from(s)
        .where(s.c.kind == "motion", s.c.state.in_(("handling", "opinion")), s.c.left_by == "reply",
               s.c.deadline.is_not(None), _on_time(s, scope)))
    # The author's rating as the step recorded it (a two-part rating: its result; the reopen: unsatisfied).
    rating = AuditEntry.changes[("satisfaction", 1)].as_string()
    shares = db.session.execute(
        select(rating, func.count()).where(*_events(scope, "motion", trigger=("rate", "rate_unsatisfied")),
                                           AuditEntry.from_state != AuditEntry.to_state)
        .group_by(rating).order_by(rating)).all()
    rated = sum(n for _r, n in shares)
    return {"filed": _count(scope, "motion", trigger="file", to_state="handling"),
            "replied": _count(scope, "motion", trigger="reply", to_state="replied"),
            "replied_on_time": int(replied_on_time or 0),
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
    did not carry and reflexive steps (a score, a co-signature) change no state and are not steps here."""
    rows = db.session.execute(
        select(AuditEntry.trigger, AuditEntry.to_state, func.count())
        .where(*_events(scope, kind), AuditEntry.from_state != AuditEntry.to_state)
        .group_by(AuditEntry.trigger, AuditEntry.to_state)).all()
    return {(t, s): n for t, s, n in rows}


def _stepped(scope: Scope, kind: str, trigger: str, to_state: str):
    """The ids of one kind's cases that took this step in the period."""
    return select(AuditEntry.case_id).where(*_events(scope, kind, trigger=trigger, to_state=to_state))


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
