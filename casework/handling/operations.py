"""Reads of routings and opinions for the case page, the API and the sweep; the time each department spent."""
from __future__ import annotations

from datetime import date

from sqlalchemy import select

from ..accounts.models import DepartmentMember, User
from ..clock import local, today
from ..core import calendar
from ..extensions import db
from .models import Opinion, Routing


def routings_of(case) -> list[Routing]:
    return list(db.session.scalars(select(Routing).where(Routing.case_id == case.id).order_by(Routing.id)))


def last_routing(case) -> Routing | None:
    return db.session.scalar(select(Routing).where(Routing.case_id == case.id)
                             .order_by(Routing.id.desc()).limit(1))


def current_routing(case) -> Routing | None:
    """The routing the case is being handled under: the last one, unless it was returned."""
    last = last_routing(case)
    return last if last is not None and last.returned_at is None else None


def opinions_of(routing: Routing) -> list[Opinion]:
    return list(db.session.scalars(select(Opinion).where(Opinion.routing_id == routing.id)
                                   .order_by(Opinion.id)))


def pending_opinions(case, departments=None) -> list[Opinion]:
    """Opinions of the current routing not given yet, of `departments` when named."""
    stmt = (select(Opinion).join(Routing, Routing.id == Opinion.routing_id)
            .where(Opinion.case_id == case.id, Opinion.text.is_(None), Routing.returned_at.is_(None))
            .order_by(Opinion.id))
    if departments is not None:
        stmt = stmt.where(Opinion.department_id.in_(sorted(departments)))
    return list(db.session.scalars(stmt))


def staffed(department_ids) -> set[int]:
    """The departments among `department_ids` with an active member."""
    if not department_ids:
        return set()
    return set(db.session.scalars(select(DepartmentMember.department_id).join(
        User, User.id == DepartmentMember.user_id).where(
        DepartmentMember.department_id.in_(list(department_ids)), User.active.is_(True))))


HANDLING = ("handling", "implementing")


def days_spent(routing: Routing, on: date | None = None, case=None) -> int:
    """Working days the case spent with the department: from the routing to its return, or to when the case
    left handling (replied, implemented), or to `on`."""
    start = local(routing.routed_at).date()
    if routing.returned_at:
        end = local(routing.returned_at).date()
    elif case is not None and case.state not in HANDLING and case.state_entered_at:
        end = local(case.state_entered_at).date()
    else:
        end = on or today()
    return max(calendar.working_days_between(start, end), 0)


def _day(moment):
    return local(moment).date().isoformat() if moment else None


def handling(case) -> dict:
    """Every routing of the case with the time spent, and the current routing's opinions."""
    rows = routings_of(case)
    current = rows[-1] if rows and rows[-1].returned_at is None else None
    on = today()
    routings = [{"department": r.department.name, "department_code": r.department.code,
                 "routed_on": _day(r.routed_at), "receipt_due": r.receipt_due.isoformat(),
                 "acknowledged_on": _day(r.acknowledged_at),
                 "acknowledged_by": r.acknowledged_by.username if r.acknowledged_by else None,
                 "returned_on": _day(r.returned_at), "return_reason": r.return_reason,
                 "working_days": days_spent(r, on, case)} for r in rows]
    opinions = [{"department": o.department.name, "department_code": o.department.code,
                 "due": o.due.isoformat(), "text": o.text, "submitted_on": _day(o.submitted_at),
                 "on_time": None if o.submitted_at is None else local(o.submitted_at).date() <= o.due,
                 "overdue": o.text is None and o.due < on, "missing_at_reply": o.missing_at_reply}
                for o in (opinions_of(current) if current else [])]
    return {"routings": routings, "opinions": opinions,
            "awaiting_receipt": current is not None and current.acknowledged_at is None,
            "receipt_due": current.receipt_due.isoformat() if current is not None else None,
            "working_days": sum(r["working_days"] for r in routings)}
