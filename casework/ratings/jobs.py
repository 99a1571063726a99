"""The sweep's reminders of call-backs due: union staff before and on the due day, the committee after.

Each call-back keeps the latest phase it was reminded of; the phase is claimed by one conditional UPDATE in
the transaction that sends it, so a repeated or parallel run sends nothing twice."""
from __future__ import annotations

from datetime import datetime

from flask_babel import force_locale
from sqlalchemy import or_, select, update

from ..clock import local
from ..core import calendar, settings
from ..extensions import db
from ..notifications.mail import case_ref, date_zh
from ..notifications.models import notify
from ..scheduler.sweep import PHASES, due_task, holders
from .models import Callback


def phase_of(cb: Callback, day) -> str | None:
    before = int(settings.get(cb.unit, "reminder_before_days"))
    after = int(settings.get(cb.unit, "escalate_after_days"))
    if day >= calendar.add_working_days(cb.due_on, after):
        return "escalate"
    if day >= cb.due_on:
        return "remind_due"
    if day >= calendar.add_working_days(cb.due_on, -before):
        return "remind_before"
    return None


@due_task("callback_reminders")
def remind(at: datetime) -> int:
    day = local(at).date()
    horizon = calendar.add_working_days(day, 30)  # beyond any reminder_before_days a unit may set
    ids = db.session.scalars(select(Callback.id).where(Callback.state == "due", Callback.due_on <= horizon,
                                                       or_(Callback.reminded.is_(None),
                                                           Callback.reminded != "escalate"))
                             .order_by(Callback.due_on, Callback.id)).all()
    sent = 0
    for cb_id in ids:
        cb = db.session.get(Callback, cb_id)
        phase = phase_of(cb, day)
        if phase is None or (cb.reminded and PHASES.index(cb.reminded) >= PHASES.index(phase)):
            continue
        claimed = db.session.execute(
            update(Callback).where(Callback.id == cb.id, Callback.version == cb.version,
                                   Callback.reminded.is_(None) if cb.reminded is None
                                   else Callback.reminded == cb.reminded)
            .values(reminded=phase, version=Callback.version + 1)
            .execution_options(synchronize_session=False)).rowcount
        if not claimed:
            continue  # another run took it
        db.session.expire(cb)
        with force_locale("zh"):
            _send(cb, phase)
        sent += 1
    return sent


def _send(cb: Callback, phase: str) -> None:
    case = cb.case
    staff, level = holders("union_staff", cb.unit)
    where = f"{case_ref(case)}的答复被评为“不满意”，需要回访"
    due = date_zh(cb.due_on)
    if phase == "remind_before":
        subject, body, people = f"【回访提醒】{case.number} 回访将于{due}到期", f"{where}，回访时限为{due}。", staff
    elif phase == "remind_due":
        subject, body, people = f"【回访今日到期】{case.number}", f"{where}，回访时限为今天（{due}）。", staff
    else:
        bosses, _level = holders("committee", cb.unit)
        subject, body = f"【回访督办】{case.number} 回访已超时", f"{where}，回访时限为{due}，至今尚未回访。"
        people = staff + [u for u in bosses if u.id not in {s.id for s in staff}]
    raised = cb.case.raised_by()
    for user in people:
        if user.id not in raised:
            notify(user, subject, body, case)
