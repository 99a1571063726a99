"""Who is told of each step: the `NOTIFY` tables in workflows/ resolved to people, one message each.

After a step's effects, in its transaction: the applicant or author (also of their own move: a receipt),
the people who must act next (a unit role names whoever may act in it now), and the parties the table
names. Nobody is told twice of one step, nobody else of their own step, nothing while the demo history
replays its year. The unit's group robots hear of every change of state, without any person's facts.

Texts are Chinese whatever the language of the request that caused the step: they are read later, in the
inbox and by mail.
"""
from __future__ import annotations

from contextlib import contextmanager
from contextvars import ContextVar
from typing import Callable, Iterator

from flask_babel import force_locale
from flask_babel import gettext as _
from sqlalchemy import select

import workflows
from workflows.base import UNIT_ROLES

from ..accounts.models import DepartmentMember, User
from ..config import public_url
from ..core import engine
from ..core.actors import assignees
from ..core.engine import Step
from ..core.models import Case, Vote
from ..extensions import db
from ..labels import KIND_LABELS, state_label, trigger_label
from . import robots
from .mail import date_zh
from .models import notify

OWNERS = frozenset({"applicant", "filer", "author"})
AUDIENCES: dict[str, Callable[[Step], list[User]]] = {}
_replaying: ContextVar[bool] = ContextVar("casework_notifications_replaying", default=False)


@contextmanager
def replaying() -> Iterator[None]:
    """Steps taken inside tell nobody: the demo history's year of casework is no news to anyone."""
    token = _replaying.set(True)
    try:
        yield
    finally:
        _replaying.reset(token)


def audience(name: str):
    def register(fn):
        AUDIENCES[name] = fn
        return fn
    return register


@audience("applicant")
def _applicant(step: Step):
    return [step.case.applicant] if step.case.kind == "aid" else []


@audience("filer")
def _filer(step: Step):
    case = step.case
    return [case.created_by] if case.kind == "aid" and case.created_by_id != case.applicant_id else []


@audience("author")
def _author(step: Step):
    return [step.case.applicant]


def _party(role: str):
    # By id: a party added by this very step has no `user` loaded before the flush.
    return lambda step: [db.session.get(User, i) for i in sorted(step.case.party_ids(role))]


audience("visitor")(_party("visitor"))
audience("assigned_evaluator")(_party("evaluator"))
audience("cosigners")(_party("cosigner"))
audience("coproposers")(_party("coproposer"))


@audience("assigned_handler")
def _handlers(step: Step):
    """The handlers of the case's department and of its co-departments."""
    case = step.case
    if case.department_id is None:
        return []
    co = getattr(case, "co_department_ids", None) or ()
    depts = {case.department_id, *(int(d) for d in co if str(d).isdigit())}
    return list(db.session.scalars(select(User).join(DepartmentMember, DepartmentMember.user_id == User.id)
                                   .where(DepartmentMember.department_id.in_(depts)).order_by(User.id)))


@audience("voters")
def _voters(step: Step):
    """Everyone who voted in the round that carried, whichever position they took."""
    if not step.carried:
        return []
    ids = db.session.scalars(select(Vote.user_id).where(Vote.case_id == step.case.id,
                                                         Vote.round == step.carried[0].round)).all()
    return [db.session.get(User, i) for i in dict.fromkeys(ids)]


@audience("merge_target_author")
def _merge_target_author(step: Step):
    target_id = getattr(step.case, "merged_into_id", None)
    target = db.session.get(Case, target_id) if target_id else None
    return [target.applicant] if target is not None else []


def recipients(step: Step) -> dict[int, tuple[User, bool]]:
    """Who is told of `step`: user id -> (user, told as the case's owner), each person once."""
    out: dict[int, tuple[User, bool]] = {}
    moved = step.from_state != step.case.state
    for tell in step.workflow.notify.get(step.transition.trigger, ()):
        if tell.when and not _holds(tell.when, step):
            continue  # the condition does not hold (yet)
        if tell.who in UNIT_ROLES:
            people = assignees(step.case, {tell.who})
        else:
            people = AUDIENCES[tell.who](step)
        owner = tell.who in OWNERS
        for user in people:
            if user is None or not user.active:
                continue
            if step.user is not None and user.id == step.user.id and not (owner and moved):
                continue
            held = out.get(user.id)
            out[user.id] = (user, owner or (held is not None and held[1]))
    return out


def _holds(when: str, step: Step) -> bool:
    if when in engine.CONDITIONS:
        return bool(engine.CONDITIONS[when](step))
    return engine.GUARDS[when](step) is None


# Subject workflows (a call-back, ...) -> (step, person) -> (subject, body, the case it is about).
SUBJECT_LINES: dict[str, Callable[[Step, User], tuple[str, str, Case]]] = {}


def subject_lines(kind: str):
    """Registers how the steps of a subject workflow read in a message (its NOTIFY says who is told)."""
    def register(fn):
        SUBJECT_LINES[kind] = fn
        return fn
    return register


def _lines(step: Step, user: User, owner: bool) -> tuple[str, str]:
    case = step.case
    kind = str(KIND_LABELS[case.kind])
    doing = [trigger_label(t) for t in engine.available(case, user)] if not owner else []
    if doing:
        subject = _("To do: %(kind)s %(number)s: %(step)s", kind=kind, number=case.number,
                    step=trigger_label(step.transition.trigger))
    else:
        subject = _("%(kind)s %(number)s: %(step)s", kind=kind, number=case.number,
                    step=trigger_label(step.transition.trigger))
    lines = [_("Now: %(state)s.", state=state_label(case.kind, case.state))]
    if owner:
        reason = step.text("reason", "reply", "text", "answer")  # a decision: the reasons of its votes
        if reason:
            lines.append(_("Reason given: %(text)s", text=reason))
    if doing:
        lines.append(_("Waiting for you: %(steps)s.", steps="、".join(dict.fromkeys(doing))))
    if case.deadline is not None and doing:
        lines.append(_("Due by %(date)s.", date=date_zh(case.deadline)))
    return subject, "\n".join(lines)


def robot_text(step: Step) -> str:
    """Kind, number, step, state and a link: nothing about the person or their circumstances."""
    case = step.case
    return "\n".join([
        _("%(kind)s %(number)s: %(step)s", kind=str(KIND_LABELS[case.kind]), number=case.number,
          step=trigger_label(step.transition.trigger)),
        _("Now: %(state)s.", state=state_label(case.kind, case.state)),
        public_url(f"/cases/{case.kind}/{case.id}"),
    ])


@engine.after_step
def tell_of_step(step: Step, _entry) -> None:
    case = step.case
    if _replaying.get():
        return
    if step.transition.vote and not step.carried:
        return  # a vote that has not carried yet is nobody's news
    if not isinstance(case, Case) or case.kind not in workflows.WORKFLOWS:
        _tell_of_subject(step)
        return
    with force_locale("zh"):
        for user, owner in recipients(step).values():
            subject, body = _lines(step, user, owner)
            notify(user, subject, body, case)
        if step.from_state != case.state:
            text = robot_text(step)
            for robot in robots.robots_for(case.unit):
                robots.queue(robot, text, case)


def _tell_of_subject(step: Step) -> None:
    lines = SUBJECT_LINES.get(step.workflow.kind)
    if lines is None or not step.workflow.notify.get(step.transition.trigger):
        return
    with force_locale("zh"):
        for user, _owner in recipients(step).values():
            subject, body, about = lines(step, user)
            notify(user, subject, body, about)


AUDIENCE_WORDS = {
    "applicant": "applicant", "filer": "group leader who filed it", "author": "author",
    "visitor": "visitors", "assigned_evaluator": "evaluators", "assigned_handler": "department handlers",
    "cosigners": "co-signers", "voters": "voters of the round", "merge_target_author": "author of the merged-into motion",
}

WHEN_WORDS = {"all_evaluators_scored": "once every evaluator has scored"}


def who_is_told_table() -> str:
    """README's "Who is told when", from the NOTIFY tables (tests/test_notify_table.py keeps them equal)."""
    lines = ["| workflow | step | who is told |", "|---|---|---|"]
    for kind in ("aid", "proposal", "motion"):
        wf = workflows.get(kind)
        for trigger in wf.triggers:
            told = []
            for tell in wf.notify.get(trigger, ()):
                word = AUDIENCE_WORDS.get(tell.who) or f"{tell.who.replace('_', ' ')} who may act now"
                told.append(f"{word} {WHEN_WORDS.get(tell.when, tell.when)}" if tell.when else word)
            lines.append(f"| {kind} | `{trigger}` | {', '.join(told) or '—'} |")
    return "\n".join(lines)
