"""Supervision (督办): the colour rules of a slip, and a slip's own small workflow.

A slip (督办单) is issued to the department handling a motion or an adopted proposal: by union staff, or by
the scheduler's sweep once per condition. Its colour follows from the case's deadline, its last progress note
(办理进展) and its latest rating, counted in working days; the most urgent rule that holds wins.
The department answers on the slip; union staff close it (or the sweep does, once the case has left handling).
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from enum import Enum
from typing import Callable, Protocol

from .base import Field, Transition, Workflow

COLOURS = ("blue", "yellow", "red")
# The states in which a case is under supervision: handling departments write progress notes there, and
# slips are issued for it.
SUPERVISED = {"motion": ("handling", "opinion"), "proposal": ("implementing",)}
UNSATISFIED = "unsatisfied"
# Settings (per unit, in working days) and their defaults.
SETTINGS = {
    "slip_blue_days": 2,      # blue when the deadline is at most this many working days away
    "slip_yellow_days": 10,   # yellow when no progress note for this many working days
    "slip_reply_days": 3,     # the department answers a slip within this many working days
}


class Calendar(Protocol):
    def working_days_between(self, start: date, end: date) -> int: ...


@dataclass(frozen=True)
class Facts:
    deadline: date | None
    last_progress: date | None  # the last progress note, else the day handling started
    rating: str | None
    today: date
    calendar: Calendar
    blue_days: int
    yellow_days: int


@dataclass(frozen=True)
class Rule:
    colour: str
    reason: str  # a label key: why the slip is issued
    holds: Callable[[Facts], bool]


def _overdue(f: Facts) -> bool:
    return f.deadline is not None and f.today > f.deadline


def _unsatisfied(f: Facts) -> bool:
    return f.rating == UNSATISFIED


def _no_progress(f: Facts) -> bool:
    return f.last_progress is not None and \
        f.calendar.working_days_between(f.last_progress, f.today) >= f.yellow_days


def _deadline_near(f: Facts) -> bool:
    return f.deadline is not None and 0 <= f.calendar.working_days_between(f.today, f.deadline) <= f.blue_days


# Most urgent first: the first rule that holds gives the colour.
RULES = (
    Rule("red", "overdue", _overdue),
    Rule("yellow", "unsatisfied", _unsatisfied),
    Rule("yellow", "no_progress", _no_progress),
    Rule("blue", "deadline_near", _deadline_near),
)


def finding(deadline: date | None, last_progress: date | None, rating: str | None, today: date,
            calendar: Calendar, *, blue_days: int = SETTINGS["slip_blue_days"],
            yellow_days: int = SETTINGS["slip_yellow_days"]) -> Rule | None:
    """The first rule that holds, or None: no slip is due."""
    facts = Facts(deadline, last_progress, rating, today, calendar, blue_days, yellow_days)
    return next((r for r in RULES if r.holds(facts)), None)


def colour(deadline: date | None, last_progress: date | None, rating: str | None, today: date,
           calendar: Calendar, **days) -> str | None:
    """The colour of a slip for a case as it stands on `today`, or None when none is due."""
    rule = finding(deadline, last_progress, rating, today, calendar, **days)
    return rule.colour if rule else None


class State(str, Enum):
    issued = "issued"
    answered = "answered"
    closed = "closed"


TRANSITIONS = [
    # A handler of the slip's department (its leader is one of them) answers.
    Transition("answer", ("issued",), "answered", ("assigned_handler",),
               fields=(Field("answer", "text"),), effects=("record_slip_answer",)),
    # Staff close a slip once satisfied with the answer, or withdraw it.
    Transition("close", ("issued", "answered"), "closed", ("union_staff",), effects=("close_slip",)),
    # The sweep closes the slips of a case that has left handling.
    Transition("auto_close", ("issued", "answered"), "closed", ("scheduler",), automatic=True,
               effects=("close_slip",)),
]

WORKFLOW = Workflow("supervision", State, "issued", TRANSITIONS, final=("closed",))
