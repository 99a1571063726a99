"""The yearly upward report (年度上报): a union reports its year to the union above it.

The union's staff or committee draft it for a calendar year and submit it; its figures are frozen at
submission from the annual report's computation. The upper union's staff review it: accept it, or return it
with a written reason; a returned report is corrected and submitted again. Who reviews it does not submit it,
and whoever drafted or submitted it does not review it (回避).
"""
from __future__ import annotations

from enum import Enum

from .base import Field, Transition, Workflow, tell


class State(str, Enum):
    draft = "draft"
    submitted = "submitted"
    returned = "returned"
    accepted = "accepted"


DRAFTERS = ("union_staff", "committee")

TRANSITIONS = [
    Transition("submit", ("draft", "returned"), "submitted", DRAFTERS, guards=("not_upper_reviewer",),
               effects=("freeze_figures",)),
    # The upper union's staff review it (`level`): their roles at the unit above the report's count.
    Transition("accept_report", ("submitted",), "accepted", ("union_staff",), level="upper_union",
               effects=("record_review",)),
    Transition("return_report", ("submitted",), "returned", ("union_staff",), level="upper_union",
               fields=(Field("reason", "text"),), effects=("record_review",)),
]

# Who is told: the upper union's staff when work arrives; the drafters of the report of its outcome.
NOTIFY = {
    "submit": tell("union_staff"),
    "accept_report": tell("report_drafters"),
    "return_report": tell("report_drafters"),
}

WORKFLOW = Workflow("upward_report", State, "draft", TRANSITIONS, final=("accepted",), notify=NOTIFY)
