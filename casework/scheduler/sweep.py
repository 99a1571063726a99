"""`run_due(at)`: everything that is due as of a moment, done once.

Every scheduler job and the `run-due` command call this one function. Due work is found by indexed
queries (deadline, kind + state), so a run costs what is due, not what exists. Each effect is keyed by
(case, state entry, kind) under a unique constraint and the key is inserted in the same transaction as
the effect: a repeated run, a second process or a restart after a crash can neither repeat nor skip one.
One case going wrong is logged and recorded for the admin page; the sweep goes on.

Reminders per deadline (WORKFLOWS.md, "Reminders and escalation"), counted in working days:
- `remind_before` from `reminder_before_days` (2) before the deadline: the assignees, i.e. the people who
  may take a step now (manual transitions from the current state, reviewer roles, nearest unit first);
- `remind_due` on the day: the assignees and the unit's supervisor, i.e. the committee members at the
  nearest unit at or above the case's unit;
- `escalate` (督办) `escalate_after_days` (3) after: the committee one level above the supervisors (at
  the top of the tree the top committee is the last level), with a copy to the assignees.
A run sends only the latest phase reached: after an outage a stale "due in 2 days" is not sent late.
States whose deadline ends in an automatic step (posting, receipt, rating periods) get no reminders.
"""
from __future__ import annotations

import logging
import traceback
from collections import Counter
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Callable

from flask_babel import gettext as _
from sqlalchemy import and_, exists, false, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm.exc import StaleDataError

import workflows

from .. import labels
from ..clock import local, utcnow
from ..core import calendar, engine
from ..core.actors import assignees, holders  # noqa: F401  (disclosure.jobs asks for holders here)
from ..core.errors import CaseworkError
from ..core.models import Case, CongressSession
from ..extensions import db
from ..notifications import mail, robots
from ..notifications.mail import case_number, case_ref, date_zh
from . import reminders
from .models import ScheduledEffect, SchedulerFailure

log = logging.getLogger("casework.scheduler")

# (kind, state, trigger, due when): the automatic steps of WORKFLOWS.md the scheduler takes.
AUTO_STEPS = (
    ("aid", "posting", "end_posting", "deadline"),       # posting period over, no open objection
    ("aid", "disbursed", "auto_close", "deadline"),      # 10 wd after disbursement, no confirmation
    ("motion", "cosigning", "lapse", "window"),          # co-signing window ended, too few co-signers
    ("motion", "replied", "auto_close", "deadline"),     # no rating in 10 wd
)
# Other modules hang their own timers here (e.g. disclosure: start and end of postings).
# A task takes the moment and returns how many things it did; it must be idempotent itself.
TASKS: dict[str, Callable[[datetime], int | None]] = {}


def due_task(name: str):
    def register(fn):
        TASKS[name] = fn
        return fn
    return register


@dataclass
class Report:
    at: datetime
    steps: Counter = field(default_factory=Counter)
    reminders: Counter = field(default_factory=Counter)
    tasks: Counter = field(default_factory=Counter)
    notifications: int = 0
    mail: Counter = field(default_factory=Counter)
    failures: int = 0

    def summary(self) -> dict:
        return {"at": self.at.isoformat(), "steps": dict(self.steps), "reminders": dict(self.reminders),
                "tasks": dict(self.tasks), "notifications": self.notifications, "mail": dict(self.mail),
                "failures": self.failures}

    def __str__(self):
        def parts(counter):
            return ", ".join(f"{v} {k}" for k, v in sorted(counter.items()) if v) or "none"
        return (f"as of {local(self.at):%Y-%m-%d %H:%M} {local(self.at).tzname()}: automatic steps: "
                f"{parts(self.steps)}; reminders: {parts(self.reminders)}; tasks: {parts(self.tasks)}; "
                f"{self.notifications} notifications; e-mail: {parts(self.mail)}; {self.failures} failures")


class Stopped(Exception):
    """The process is stopping: the sweep ends between two units, the rest is done by the next run."""


class _Run:
    def __init__(self, at: datetime, mailer, stop=None):
        self.at, self.day = at, local(at).date()
        self.report = Report(at)
        self.mailer = mailer
        self.stop = stop

    @contextmanager
    def unit(self, what: str, key: str, case_id: int | None = None):
        """One transaction: commit and send its mail, or roll back; never raise out of the sweep."""
        if self.stop is not None and self.stop.is_set():
            raise Stopped
        try:
            yield
            queued = mail.take_queued()
            db.session.commit()
        except (CaseworkError, IntegrityError, StaleDataError) as exc:
            # Not due after all (a guard said no), or another process or person got there first.
            db.session.rollback()
            mail.forget_queued()
            log.debug("%s %s: %s", what, key, getattr(exc, "message", exc))
        except Exception as exc:  # noqa: BLE001  one case must not stop the sweep
            db.session.rollback()
            mail.forget_queued()
            self.report.failures += 1
            log.exception("%s %s failed", what, key)
            record_failure(key, case_id, what, exc)
        else:
            if queued:
                self.report.mail.update(mail.deliver(queued, self.mailer))


def record_failure(key: str, case_id: int | None, what: str, exc: BaseException) -> None:
    text = "".join(traceback.format_exception_only(type(exc), exc)).strip()[:2000]
    try:
        row = db.session.scalar(select(SchedulerFailure).where(SchedulerFailure.key == key))
        if row is None:
            db.session.add(SchedulerFailure(key=key, case_id=case_id, what=what, error=text))
        else:
            row.count, row.last_at, row.error = row.count + 1, utcnow(), text
        db.session.commit()
    except Exception:  # noqa: BLE001  the failure log must not fail the sweep either
        db.session.rollback()
        log.exception("could not record the failure of %s", key)


def run_due(at: datetime | None = None, *, parts=("steps", "tasks", "reminders", "digests", "mail"),
            mailer=None, stop=None) -> Report:
    """Does, once, everything due as of `at` (naive UTC; default now). Safe to repeat and to run in parallel.

    `parts` narrows the run (the mail job sends only); `mailer` lets a caller share one SMTP connection;
    once the `stop` event is set the run ends before its next unit of work."""
    at = at or utcnow()
    own = mailer is None
    run = _Run(at, mailer or mail.Mailer(stop=stop), stop)
    try:
        if "steps" in parts:
            _automatic_steps(run)
        if "tasks" in parts:
            for name, task in TASKS.items():
                with run.unit("task", f"task:{name}"):
                    run.report.tasks[name] += task(at) or 0
        if "reminders" in parts:
            _reminders(run)
        if "digests" in parts:
            with run.unit("digest", "digests"):
                queued = mail.queue_digests(at)
                run.report.mail["digests"] += len(queued)
        if "mail" in parts:
            with run.unit("mail", "outbox"):
                run.report.mail.update(mail.deliver(None, run.mailer))
            with run.unit("robots", "robot outbox"):
                run.report.mail.update(robots.deliver())
    except Stopped:
        log.info("run as of %s stopped early: the process is stopping", at)
    finally:
        if own:
            run.mailer.close()
    return run.report


# -- automatic steps -----------------------------------------------------------------------------

def _automatic_steps(run: _Run):
    for kind, state, trigger, how in AUTO_STEPS:
        if how == "deadline":
            # The guards want the period over: the day after the deadline.
            stmt = select(Case.id).where(Case.kind == kind, Case.state == state, Case.deadline < run.day)
        else:
            from ..motions.models import Motion
            stmt = (select(Motion.id).join(CongressSession, CongressSession.id == Motion.session_id)
                    .where(Case.kind == kind, Case.state == state, CongressSession.cosigning_until <= run.at))
        ids = db.session.scalars(stmt.order_by(Case.id)).all()
        db.session.commit()
        for case_id in ids:
            effect = f"step:{trigger}"
            with run.unit(effect, f"{case_id}:{effect}", case_id):
                case = db.session.get(Case, case_id)
                if case is None or case.state != state:
                    continue
                db.session.add(ScheduledEffect(case_id=case.id, state_seq=case.state_seq, kind=effect,
                                               state=state))
                db.session.flush()
                engine.fire(case, trigger, None, {})  # Invalid from a guard: not due yet
                run.report.steps[f"{kind}.{trigger}"] += 1


# -- reminders ---------------------------------------------------------------------------------

def reminder_states() -> dict[str, list[str]]:
    """kind -> states with a deadline someone must meet (no automatic step leaves them)."""
    out = {}
    for kind, wf in workflows.WORKFLOWS.items():
        # Only the steps the sweep itself takes at a deadline end it; automatic steps another step fires
        # (an objection, a posted reward, a call-back's re-handling) leave the state's deadline to its people.
        auto = {state for k, state, _trigger, _how in AUTO_STEPS if k == kind}
        out[kind] = [s for s in wf.state_names if s not in auto and s not in wf.final]
    return out


def _done(kind: str):
    return exists().where(ScheduledEffect.case_id == Case.id, ScheduledEffect.state_seq == Case.state_seq,
                          ScheduledEffect.kind == kind)


def _reminders(run: _Run):
    # Only cases whose next phase may have come: deadlines near enough for the "before" reminder, not yet
    # escalated, and past the phase they already had (bounds taken over every unit's settings).
    horizon = reminders.horizon(run.day)
    escalation = reminders.latest_deadline(run.day, reminders.setting_range("escalate_after_days")[0])
    states = reminder_states()
    stmt = (select(Case.id).where(
        Case.deadline.is_not(None), Case.deadline <= horizon,
        or_(false(), *[and_(Case.kind == k, Case.state.in_(s)) for k, s in states.items()]),
        ~_done("escalate"), ~and_(_done("remind_due"), Case.deadline > escalation),
        ~and_(_done("remind_before"), Case.deadline > run.day))
        .order_by(Case.deadline, Case.id))
    ids = db.session.scalars(stmt).all()
    db.session.commit()
    for case_id in ids:
        with run.unit("reminder", f"{case_id}:reminder", case_id):
            case = db.session.get(Case, case_id)
            if case is None or case.deadline is None or case.state not in states.get(case.kind, ()):
                continue
            phase = reminders.phase_of(case.unit, case.deadline, run.day)
            if phase is None:
                continue
            sent = reminders.remind(case, phase, lambda: _send_reminder(case, phase, run.day))
            if sent is not None:
                run.report.reminders[phase] += 1
                run.report.notifications += sent


def _send_reminder(case: Case, phase: str, day: date) -> reminders.Messages:
    """The messages of a deadline's phase: the assignees, the supervisors on the day, the level above after."""
    doers = assignees(case)
    bosses, level = holders("committee", case.unit)
    ref = case_number(case)
    where = _("%(case)s is at the step “%(state)s”", case=case_ref(case),
              state=labels.state_label(case.kind, case.state))
    deadline = date_zh(case.deadline)
    names = "、".join(u.name for u in doers) or _("(nobody yet)")
    if phase == "remind_before":
        left = calendar.working_days_between(day, case.deadline)
        return reminders.to(doers, _("[Reminder] %(ref)s is due on %(date)s", ref=ref, date=deadline),
                            _("%(where)s; it is due on %(date)s, in %(left)d working days. Please act in time.",
                              where=where, date=deadline, left=left))
    if phase == "remind_due":
        subject = _("[Due today] %(ref)s is due today", ref=ref)
        return {**reminders.to(reminders.others(case, bosses), subject, _(
                    "%(where)s; it is due today (%(date)s); handled by %(names)s. You receive this reminder as a "
                    "member of the union committee: please follow its progress.",
                    where=where, date=deadline, names=names)),
                **reminders.to(doers, subject, _("%(where)s; it is due today (%(date)s). Please finish it today.",
                                                 where=where, date=deadline))}
    over = calendar.working_days_between(case.deadline, day)
    above = holders("committee", level.parent)[0] if level is not None and level.parent else []
    subject = _("[Supervision] %(ref)s is past its deadline", ref=ref)
    return {**reminders.to(doers, subject, _(
                "%(where)s; it was due on %(date)s and is %(over)d working days overdue; supervision has been "
                "requested. Please act as soon as possible.", where=where, date=deadline, over=over)),
            **reminders.to(reminders.others(case, above or bosses), subject, _(
                "%(where)s; it was due on %(date)s and is %(over)d working days overdue. Handled by %(names)s. "
                "Please see that it is handled and follow the result.",
                where=where, date=deadline, over=over, names=names))}
