"""The ratings ledger read for reports and the supervision board: what counts, per department and period.

Counted: ratings given in the period (local dates, inclusive) and not set aside by an upheld appeal; each
part (attitude, result) is one answer, an old single rating is its result only. The average scores 满意 3,
基本满意 2, 不满意 1; the satisfied rate is the share of answers that are 满意 or 基本满意. The call-back rate is
the share of call-backs opened in the period that were made (recorded); the target is 100 %.
"""
from __future__ import annotations

from datetime import date, datetime, time, timedelta

from sqlalchemy import func, select

from ..accounts.models import Department, Unit
from ..clock import to_utc
from ..core.models import Case
from ..extensions import db
from .models import Callback, Rating

SCORE = {"satisfied": 3, "basically_satisfied": 2, "unsatisfied": 1}
CALLED = ("fixing", "fixed", "explained", "appealed", "upheld", "dismissed")


def _bounds(period: tuple[date, date]) -> tuple[datetime, datetime]:
    start, end = period
    return (to_utc(datetime.combine(start, time.min)), to_utc(datetime.combine(end + timedelta(days=1), time.min)))


def _unit_ids(unit: Unit):
    return select(Unit.id).where(Unit.path.startswith(unit.path))


def _department_id(department) -> int | None:
    return department.id if isinstance(department, Department) else department


def _summary(parts: list[str]) -> dict:
    counts = {r: parts.count(r) for r in SCORE}
    n = len(parts)
    return {"answers": n, **counts,
            "average": round(sum(SCORE[p] for p in parts) / n, 2) if n else None,
            "satisfied_rate": round((counts["satisfied"] + counts["basically_satisfied"]) / n, 4) if n else None}


def _rows(period, unit: Unit | None, department=None, all_departments=False, kind: str | None = None):
    lo, hi = _bounds(period)
    stmt = select(Rating.department_id, Rating.attitude, Rating.result).where(
        Rating.set_aside.is_(False), Rating.at >= lo, Rating.at < hi)
    if kind is not None:
        stmt = stmt.where(Rating.kind == kind)
    if unit is not None:
        stmt = stmt.where(Rating.unit_id.in_(_unit_ids(unit)))
    if not all_departments:
        dept = _department_id(department)
        stmt = stmt.where(Rating.department_id.is_(None) if dept is None else Rating.department_id == dept)
    return db.session.execute(stmt).all()


def average_rating(department, period: tuple[date, date], unit: Unit | None = None,
                   kind: str | None = None) -> dict:
    """The supervision board's number for one handling department (a Department, its id, or None for the
    union's own replies, e.g. declined proposals) over `period` = (first day, last day): `average` (1-3, None
    without ratings), `satisfied_rate`, `answers` and the count of each answer. `unit` narrows to a unit tree,
    `kind` to motions or proposals."""
    return _summary([p for _d, a, r in _rows(period, unit, department, kind=kind) for p in (a, r) if p])


def by_department(period: tuple[date, date], unit: Unit | None = None,
                  kind: str | None = None) -> dict[int | None, dict]:
    """`average_rating` for every department rated in the period, in one query."""
    parts: dict[int | None, list[str]] = {}
    for dept, a, r in _rows(period, unit, all_departments=True, kind=kind):
        parts.setdefault(dept, []).extend(p for p in (a, r) if p)
    return {d: _summary(p) for d, p in parts.items()}


def _callbacks(period, unit: Unit | None, kind: str | None):
    lo, hi = _bounds(period)
    stmt = select(Callback.department_id, Callback.state, func.count()).where(Callback.opened_at >= lo,
                                                                             Callback.opened_at < hi)
    if unit is not None:
        stmt = stmt.where(Callback.unit_id.in_(_unit_ids(unit)))
    if kind is not None:
        stmt = stmt.where(Callback.case_id.in_(select(Case.id).where(Case.kind == kind)))
    return stmt.group_by(Callback.department_id, Callback.state)


def _callback_summary(states: dict[str, int]) -> dict:
    opened = sum(states.values())
    made = sum(n for s, n in states.items() if s in CALLED)
    return {"opened": opened, "made": made, "rate": round(made / opened, 4) if opened else None,
            "set_aside": states.get("upheld", 0), "target": 1.0}


def callback_rate(period: tuple[date, date], unit: Unit | None = None, department=None,
                  all_departments: bool = True, kind: str | None = None) -> dict:
    """Call-backs opened in the period: `opened`, `made`, `rate` (made / opened, None when none opened),
    `set_aside` (appeals upheld) and `target` (1.0)."""
    stmt = _callbacks(period, unit, kind)
    if not all_departments:
        dept = _department_id(department)
        stmt = stmt.where(Callback.department_id.is_(None) if dept is None else Callback.department_id == dept)
    states: dict[str, int] = {}
    for _dept, state, n in db.session.execute(stmt):
        states[state] = states.get(state, 0) + n
    return _callback_summary(states)


def callback_rates_by_department(period: tuple[date, date], unit: Unit | None = None,
                                 kind: str | None = None) -> dict[int | None, dict]:
    """`callback_rate` for every department with a call-back opened in the period, in one query."""
    states: dict[int | None, dict[str, int]] = {}
    for dept, state, n in db.session.execute(_callbacks(period, unit, kind)):
        states.setdefault(dept, {})[state] = n
    return {d: _callback_summary(s) for d, s in states.items()}


def standing_rating(case) -> str | None:
    """What the case's latest reply was rated, for the supervision rules: 不满意 when any rater found either
    part unsatisfied, else the result of the latest rating; None before a rating. Set-aside ratings do
    not count."""
    n = db.session.scalar(select(func.max(Rating.round)).where(Rating.case_id == case.id,
                                                               Rating.set_aside.is_(False)))
    if n is None:
        return None
    rows = db.session.execute(select(Rating.attitude, Rating.result).where(
        Rating.case_id == case.id, Rating.round == n, Rating.set_aside.is_(False))
        .order_by(Rating.at.desc(), Rating.id.desc())).all()
    if any("unsatisfied" in (a, r) for a, r in rows):
        return "unsatisfied"
    return rows[0][1]
