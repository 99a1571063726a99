"""The one reminder service: the phase a due date has reached, claimed once, its messages sent in Chinese.

A job says only which rows are due, their due date and the texts of each phase. The claim is a
`ScheduledEffect` row keyed by (case, state entry, kind), inserted in the transaction that sends the
messages: a repeated run, a second process or a retry after a crash stops on the unique key.
"""
from __future__ import annotations

from datetime import date, timedelta
from typing import Callable, Iterable

from flask_babel import force_locale
from sqlalchemy import select

from ..accounts.models import User
from ..core import calendar, settings
from ..core.models import Case, UnitSetting
from ..extensions import db
from ..notifications.models import notify
from .models import ScheduledEffect

PHASES = ("remind_before", "remind_due", "escalate")

# user id -> (user, subject, body); a later entry for the same person replaces an earlier one.
Messages = dict[int, tuple[User, str, str]]


def phase_of(unit, due: date | None, day: date, phases: Iterable[str] = PHASES) -> str | None:
    """The latest of `phases` that `due` has reached on `day`, by the unit's reminder settings."""
    if due is None:
        return None
    phases = tuple(phases)
    if "escalate" in phases and day >= calendar.add_working_days(
            due, int(settings.get(unit, "escalate_after_days"))):
        return "escalate"
    if day >= due:
        return "remind_due"
    if "remind_before" in phases and day >= calendar.add_working_days(
            due, -int(settings.get(unit, "reminder_before_days"))):
        return "remind_before"
    return None


def later(phase: str) -> tuple[str, ...]:
    """The phases after `phase`: once one of them is sent, `phase` is moot."""
    return PHASES[PHASES.index(phase) + 1:]


def setting_range(key: str) -> tuple[int, int]:
    """The smallest and largest value any unit uses, so one query finds the rows of every unit."""
    values = [int(v) for v in (settings.DEFAULTS[key],
                               *db.session.scalars(select(UnitSetting.value).where(UnitSetting.key == key)))]
    return min(values), max(values)


def latest_deadline(day: date, days: int) -> date:
    """The latest deadline D whose reminder `days` working days from D (negative: before) falls by `day`."""
    found = calendar.add_working_days(day, -days)
    while calendar.add_working_days(found + timedelta(days=1), days) <= day:  # D itself may be a day off
        found += timedelta(days=1)
    return found


def horizon(day: date) -> date:
    """The latest due date that may have reached a phase on `day`, in any unit."""
    return latest_deadline(day, -setting_range("reminder_before_days")[1])


def claimed(case: Case, kinds: Iterable[str]) -> bool:
    """Whether any of the effects `kinds` was claimed for the case's current state entry."""
    kinds = list(kinds)
    return bool(kinds) and db.session.scalar(select(ScheduledEffect.id).where(
        ScheduledEffect.case_id == case.id, ScheduledEffect.state_seq == case.state_seq,
        ScheduledEffect.kind.in_(kinds)).limit(1)) is not None


def others(case: Case, users: Iterable[User]) -> list[User]:
    """`users` without the people who raised the case: nobody is reminded to act on their own request."""
    raised = case.raised_by()
    return [u for u in users if u.id not in raised]


def to(users: Iterable[User], subject: str, body: str) -> Messages:
    return {u.id: (u, subject, body) for u in users}


def remind(case: Case, kind: str, compose: Callable[[], Messages], moot: Iterable[str] = ()) -> int | None:
    """Claims the effect `kind` for the case's current state entry and sends what `compose` writes, rendered
    in Chinese whatever request set the date. None when it, or one of the `moot` kinds that supersede it,
    was claimed already; else how many people were notified."""
    if claimed(case, [kind, *moot]):
        return None
    effect = ScheduledEffect(case_id=case.id, state_seq=case.state_seq, kind=kind, state=case.state)
    db.session.add(effect)
    db.session.flush()  # a second process stops here, on the unique key
    with force_locale("zh"):
        out = compose()
        for user, subject, body in out.values():
            notify(user, subject, body, case)
    effect.recipients = len(out)
    return len(out)
