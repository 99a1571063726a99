"""The sweep's reminders of call-backs due: union staff before and on the due day, the committee after.

Each phase of a call-back is claimed once through the scheduler's reminder service, in the transaction
that sends it, so a repeated or parallel run sends nothing twice; `reminded` keeps the latest phase sent
so that the query passes over call-backs already escalated."""
from __future__ import annotations

from datetime import date, datetime

from flask_babel import gettext as _
from sqlalchemy import or_, select, update

from ..clock import local
from ..core.actors import holders
from ..extensions import db
from ..notifications.mail import case_ref, date_zh
from ..scheduler import reminders
from ..scheduler.sweep import due_task
from .models import Callback


@due_task("callback_reminders")
def remind(at: datetime) -> int:
    day = local(at).date()
    ids = db.session.scalars(select(Callback.id).where(
        Callback.state == "due", Callback.due_on <= reminders.horizon(day),
        or_(Callback.reminded.is_(None), Callback.reminded != "escalate"))
        .order_by(Callback.due_on, Callback.id)).all()
    sent = 0
    for cb_id in ids:
        cb = db.session.get(Callback, cb_id)
        phase = reminders.phase_of(cb.unit, cb.due_on, day)
        if phase is None or (cb.reminded and phase not in reminders.later(cb.reminded)):
            continue  # not due, or this phase (or a later one) was sent
        kind = f"callback_{{}}:{cb.id}".format
        if reminders.remind(cb.case, kind(phase), lambda: _messages(cb, phase),
                            moot=[kind(p) for p in reminders.later(phase)]) is None:
            continue
        # Not a change of the call-back itself: its version (and anyone editing it) is left alone.
        db.session.execute(update(Callback).where(Callback.id == cb.id).values(reminded=phase)
                           .execution_options(synchronize_session=False))
        db.session.expire(cb)
        sent += 1
    return sent


def _messages(cb: Callback, phase: str) -> reminders.Messages:
    case = cb.case
    staff, _level = holders("union_staff", cb.unit)
    where = _("The reply to %(case)s was rated unsatisfactory and needs a call-back", case=case_ref(case))
    due = date_zh(cb.due_on)
    if phase == "remind_before":
        subject = _("[Call-back] %(number)s: the call-back is due on %(date)s", number=case.number, date=due)
        body, people = _("%(where)s; the call-back is due on %(date)s.", where=where, date=due), staff
    elif phase == "remind_due":
        subject = _("[Call-back due today] %(number)s", number=case.number)
        body, people = _("%(where)s; the call-back is due today (%(date)s).", where=where, date=due), staff
    else:
        subject = _("[Call-back supervision] %(number)s: the call-back is overdue", number=case.number)
        body = _("%(where)s; the call-back was due on %(date)s and has not been made.", where=where, date=due)
        people = staff + holders("committee", cb.unit)[0]
    return reminders.to(reminders.others(case, people), subject, body)
