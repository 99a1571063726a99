"""Congress motion (职代会/教代会提案): WORKFLOWS.md, "Congress motion"."""
from __future__ import annotations

from enum import Enum

from .base import Field, Transition, Workflow
from .ratings import rate_transitions


class State(str, Enum):
    # Member names equal their values: `transitions` looks Enum states up by name.
    draft = "draft"
    cosigning = "cosigning"
    submitted = "submitted"
    lapsed = "lapsed"
    handling = "handling"
    merged = "merged"
    opinion = "opinion"
    not_filed = "not_filed"
    replied = "replied"
    closed = "closed"


SATISFACTION = ("satisfied", "basically_satisfied")

TRANSITIONS = [
    Transition("open_for_cosigning", ("draft",), "cosigning", ("author",),
               guards=("cosigning_window_open",)),
    Transition("cosign", ("cosigning",), "cosigning", ("cosigner_candidate",),
               guards=("cosigning_window_open", "not_cosigned_yet"),
               effects=("record_cosign",)),
    Transition("withdraw_cosign", ("cosigning",), "cosigning", ("cosigner_candidate",),
               guards=("cosigning_window_open", "has_cosigned"),
               effects=("remove_cosign",)),
    Transition("submit", ("cosigning",), "submitted", ("author",),
               guards=("enough_cosigners",)),
    Transition("lapse", ("cosigning",), "lapsed", ("scheduler",), automatic=True,
               guards=("cosigning_window_ended", "too_few_cosigners"),
               effects=("notify_author",)),
    Transition("file", ("submitted",), "handling", ("motion_committee",),
               fields=(Field("department", "department"),
                       Field("co_departments", "departments", required=False),
                       Field("deadline", "date", required=False)),
               effects=("assign_department", "start_deadline", "issue_notice")),
    Transition("merge", ("submitted",), "merged", ("motion_committee",),
               guards=("merge_target_filed",),
               fields=(Field("into", "case"),),
               effects=("merge_into", "notify_author")),
    Transition("convert_to_opinion", ("submitted",), "opinion", ("motion_committee",),
               fields=(Field("department", "department"),),
               effects=("assign_department", "notify_author")),
    Transition("not_file", ("submitted",), "not_filed", ("motion_committee",),
               fields=(Field("reason", "text"),),
               effects=("record_reply", "notify_author", "issue_notice")),
    # Only the lead department's handler replies; co-handlers contribute to that reply.
    Transition("reply", ("handling", "opinion"), "replied", ("assigned_handler",),
               guards=("lead_handler",),
               fields=(Field("text", "text"),),
               effects=("record_reply", "notify_author", "start_deadline", "issue_notice")),
    # Two-part ratings by the author and each co-signer (workflows/ratings.py); the author's rating
    # closes the motion, a co-signer's leaves it where it is.
    *rate_transitions({"replied": "closed", "closed": "closed"}, SATISFACTION),
    Transition("rate_unsatisfied", ("replied",), "handling", ("author",),
               guards=("not_reopened_before",),
               effects=("reopen", "record_rating", "start_deadline")),
    # A call-back's fix outcome: handled again by the date the call-back set (fired by it).
    Transition("rehandle", ("replied", "closed", "handling"), "handling", ("scheduler",), automatic=True,
               guards=("fix_ordered",), fields=(Field("deadline", "date"),),
               effects=("start_deadline", "start_fix", "notify_author")),
    Transition("auto_close", ("replied",), "closed", ("scheduler",), automatic=True,
               guards=("rating_period_passed",)),
]

WORKFLOW = Workflow(
    "motion", State, "draft", TRANSITIONS,
    deadlines={
        # A `deadline` given at file overrides the default.
        "handling": ("motion_handling_days", 30),
        "replied": ("motion_rating_days", 10),
    },
    final=("closed", "merged", "not_filed", "lapsed"),
)
