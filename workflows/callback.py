"""The call-back (回访) after a 不满意 rating: WORKFLOWS.md, "Handling by departments", Ratings.

Union staff call the rater back within the set working days and record who, when, how and what was said,
with the outcome: fix (the case is handled again by a new date; the call-back ends when the new reply is
rated), explain (a written explanation), or appeal (the department says the rating is mistaken; the
committee decides by a quorum vote: upheld sets the rating aside, kept in the ledger; dismissed, it stands).
"""
from __future__ import annotations

from enum import Enum

from .base import Field, Transition, Workflow, tell


class State(str, Enum):
    due = "due"
    fixing = "fixing"
    fixed = "fixed"
    explained = "explained"
    appealed = "appealed"
    upheld = "upheld"
    dismissed = "dismissed"


HOW = ("phone", "visit", "meeting")
OUTCOMES = ("fix", "explain", "appeal")

_RECORD_FIELDS = (
    Field("how", "choice", choices=HOW),
    Field("notes", "text"),
    Field("outcome", "choice", choices=OUTCOMES),
    Field("called_on", "date", required=False),
    Field("deadline", "date", required=False),      # fix: the new deadline of the re-handling
    Field("explanation", "text", required=False),   # explain: the written explanation
)
_RECORD = dict(roles=("union_staff",), fields=_RECORD_FIELDS, guards=("callback_outcome_complete",))

TRANSITIONS = [
    # One step records the call-back and its outcome; the outcome picks the branch.
    Transition("record", ("due",), "fixing", conditions=("outcome_fix",),
               effects=("record_callback", "order_fix"), **_RECORD),
    Transition("record", ("due",), "explained", conditions=("outcome_explain",),
               effects=("record_callback",), **_RECORD),
    Transition("record", ("due",), "appealed", conditions=("outcome_appeal",),
               effects=("record_callback",), **_RECORD),
    Transition("uphold_appeal", ("appealed",), "upheld", ("committee",), vote=True,
               fields=(Field("reason", "text"),), effects=("set_ratings_aside", "record_decision")),
    Transition("dismiss_appeal", ("appealed",), "dismissed", ("committee",), vote=True,
               fields=(Field("reason", "text"),), effects=("record_decision",)),
    # Fired when the re-handled case's new reply is rated.
    Transition("close_fixed", ("fixing",), "fixed", ("scheduler",), automatic=True),
]

# The raters are told of the written explanation and of the committee's decision on an appeal; a fix tells
# them through the case's own `rehandle`.
NOTIFY = {
    "record": tell("raters", when="outcome_explain"),
    "uphold_appeal": tell("raters"),
    "dismiss_appeal": tell("raters"),
}

WORKFLOW = Workflow("callback", State, "due", TRANSITIONS,
                    deadlines={"due": ("callback_days", 5)},
                    final=("fixed", "explained", "upheld", "dismissed"), notify=NOTIFY)
