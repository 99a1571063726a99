"""The sweep's reminders for handling by departments: a case not signed for (签收) by its receipt date, and a
co-handling department's opinion (会办意见) near or past its due date. Each is sent once per case, state
entry and kind (the scheduler's unique key), and only the latest phase reached."""
from __future__ import annotations

from datetime import date, datetime

from flask_babel import gettext as _
from sqlalchemy import select

from ..accounts.models import DepartmentMember, User
from ..clock import local
from ..core import calendar
from ..core.actors import holders
from ..core.models import Case
from ..extensions import db
from ..notifications.mail import case_number, case_ref, date_zh
from ..scheduler import reminders
from ..scheduler.sweep import due_task
from .models import Opinion, Routing
from .operations import HANDLING
from .rules import ROUTERS


def _members(department_id: int) -> list[User]:
    return list(db.session.scalars(select(User).join(DepartmentMember, DepartmentMember.user_id == User.id)
                                   .where(DepartmentMember.department_id == department_id,
                                          User.active.is_(True)).order_by(User.id)))


@due_task("receipt_reminders")
def remind_receipts(at: datetime) -> int:
    """Cases routed to a department and not signed for: reminded on the receipt date, escalated (督办) to the
    committee `escalate_after_days` after it."""
    day = local(at).date()
    rows = db.session.execute(select(Routing, Case).join(Case, Case.id == Routing.case_id).where(
        Routing.acknowledged_at.is_(None), Routing.returned_at.is_(None), Routing.receipt_due <= day,
        Case.state.in_(HANDLING)).order_by(Routing.receipt_due, Routing.id)).all()
    done = 0
    for routing, case in rows:
        phase = reminders.phase_of(case.unit, routing.receipt_due, day, ("remind_due", "escalate"))
        if phase is None:
            continue
        kind = "receipt_remind" if phase == "remind_due" else "receipt_escalate"
        done += reminders.remind(case, kind, lambda: _receipt(routing, case, phase, day),
                                 moot=["receipt_escalate"]) or 0
    return done


def _receipt(routing: Routing, case: Case, phase: str, day: date) -> reminders.Messages:
    ref, due, dept = case_number(case), date_zh(routing.receipt_due), routing.department.name
    people = _members(routing.department_id)
    if phase == "remind_due":
        return reminders.to(reminders.others(case, people), _(
            "[Sign for it] %(ref)s: please sign for it by %(date)s", ref=ref, date=due), _(
            "%(case)s was passed to %(department)s, to be signed for by %(date)s. Please sign for it in the "
            "system; if it is not your department's duty, return it with your reasons.",
            case=case_ref(case), department=dept, date=due))
    for role in (ROUTERS[case.kind], "committee"):
        people += holders(role, case.unit)[0]
    over = calendar.working_days_between(routing.receipt_due, day)
    return reminders.to(reminders.others(case, people), _(
        "[Supervision] %(ref)s was not signed for in time", ref=ref), _(
        "%(case)s was passed to %(department)s, to be signed for by %(date)s; it is %(over)d working days "
        "overdue and not signed for; supervision has been requested.",
        case=case_ref(case), department=dept, date=due, over=over))


@due_task("opinion_reminders")
def remind_opinions(at: datetime) -> int:
    """Co-handling departments whose opinion is due: reminded before and on the day, escalated after, like
    any handler (the phases and settings of the sweep's reminders)."""
    day = local(at).date()
    rows = db.session.execute(select(Opinion, Case).join(Case, Case.id == Opinion.case_id)
                              .join(Routing, Routing.id == Opinion.routing_id).where(
        Opinion.text.is_(None), Routing.returned_at.is_(None), Opinion.due <= reminders.horizon(day),
        Case.state == "handling").order_by(Opinion.due, Opinion.id)).all()
    done = 0
    for opinion, case in rows:
        phase = reminders.phase_of(case.unit, opinion.due, day)
        if phase is None:
            continue
        kind = f"opinion_{{}}:{opinion.department_id}".format
        done += reminders.remind(case, kind(phase), lambda: _opinion(opinion, case, phase, day),
                                 moot=[kind(p) for p in reminders.later(phase)]) or 0
    return done


def _opinion(opinion: Opinion, case: Case, phase: str, day: date) -> reminders.Messages:
    ref, due, dept = case_number(case), date_zh(opinion.due), opinion.department.name
    lead = case.department.name if case.department else _("the lead department")
    people = _members(opinion.department_id)
    if phase == "remind_before":
        left = calendar.working_days_between(day, opinion.due)
        subject, body = (_("[Co-handling] %(ref)s: the opinion is due on %(date)s", ref=ref, date=due), _(
            "%(case)s is led by %(lead)s with %(department)s co-handling; the opinion is due on %(date)s, in "
            "%(left)d working days.", case=case_ref(case), lead=lead, department=dept, date=due, left=left))
    elif phase == "remind_due":
        subject, body = (_("[Due today] %(ref)s: the opinion is due today", ref=ref), _(
            "%(case)s is led by %(lead)s with %(department)s co-handling; the opinion is due today (%(date)s).",
            case=case_ref(case), lead=lead, department=dept, date=due))
    else:
        people += holders("committee", case.unit)[0]
        over = calendar.working_days_between(opinion.due, day)
        subject, body = (_("[Supervision] %(ref)s: the opinion is overdue", ref=ref), _(
            "%(case)s is led by %(lead)s; the opinion of %(department)s was due on %(date)s and is %(over)d "
            "working days overdue; supervision has been requested.",
            case=case_ref(case), lead=lead, department=dept, date=due, over=over))
    return reminders.to(reminders.others(case, people), subject, body)
