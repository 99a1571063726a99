"""Congress motion (职代会/教代会提案): WORKFLOWS.md, "Congress motion"."""
from __future__ import annotations

from enum import Enum

from .base import Field, Transition, Workflow, tell
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
               guards=("cosigning_window_ended", "too_few_cosigners")),
    # Filing routes the motion to a department, which signs for it (签收) before its deadline counts; a
    # motion returned as misrouted (退办) comes back to `submitted` and is filed again, to another department.
    Transition("file", ("submitted",), "handling", ("motion_committee",),
               guards=("not_returned_by",),
               fields=(Field("department", "department"),
                       Field("co_departments", "departments", required=False),
                       Field("deadline", "date", required=False)),
               effects=("assign_department", "route_to_department", "issue_notice")),
    Transition("merge", ("submitted",), "merged", ("motion_committee",),
               guards=("merge_target_filed",),
               fields=(Field("into", "case"),),
               effects=("merge_into",)),
    Transition("convert_to_opinion", ("submitted",), "opinion", ("motion_committee",),
               fields=(Field("department", "department"),),
               effects=("assign_department",)),
    Transition("not_file", ("submitted",), "not_filed", ("motion_committee",),
               fields=(Field("reason", "text"),),
               effects=("record_reply", "issue_notice")),
    Transition("acknowledge", ("handling",), "handling", ("receiving_handler",),
               guards=("lead_handler", "not_acknowledged"),
               effects=("record_receipt",)),
    # The reason is checked by a guard, to say what it is for; it is required all the same.
    Transition("return_misrouted", ("handling",), "submitted", ("assigned_handler",),
               guards=("lead_handler", "return_reason_given", "within_return_window"),
               fields=(Field("reason", "text", required=False),),
               effects=("record_return",)),
    Transition("contribute", ("handling",), "handling", ("co_handler",),
               guards=("opinion_awaited",),
               fields=(Field("text", "text"),),
               effects=("record_opinion",)),
    # Only the lead department's handler replies; co-handlers contribute to that reply (会办意见): it waits
    # for their opinions, or for their deadline to pass, and then says whose are missing.
    Transition("reply", ("handling", "opinion"), "replied", ("assigned_handler",),
               guards=("lead_handler", "acknowledged", "opinions_in"),
               fields=(Field("text", "text"),),
               effects=("record_reply", "note_missing_opinions", "start_deadline",
                        "issue_notice")),
    # 办理进展: the lead department notes where the work stands; the case stays where it is.
    Transition("progress", ("handling",), "handling", ("assigned_handler",), guards=("lead_handler",),
               fields=(Field("text", "text"),), effects=("record_progress",)),
    Transition("progress", ("opinion",), "opinion", ("assigned_handler",), guards=("lead_handler",),
               fields=(Field("text", "text"),), effects=("record_progress",)),
    # Two-part ratings by the author and each co-signer (workflows/ratings.py); the author's rating
    # closes the motion, a co-signer's leaves it where it is.
    *rate_transitions({"replied": "closed", "closed": "closed"}, SATISFACTION),
    Transition("rate_unsatisfied", ("replied",), "handling", ("author",),
               guards=("not_reopened_before",),
               effects=("reopen", "record_rating", "start_deadline")),
    # A call-back's fix outcome: handled again by the date the call-back set (fired by it).
    Transition("rehandle", ("replied", "closed", "handling"), "handling", ("scheduler",), automatic=True,
               guards=("fix_ordered",), fields=(Field("deadline", "date"),),
               effects=("start_deadline", "start_fix")),
    Transition("auto_close", ("replied",), "closed", ("scheduler",), automatic=True,
               guards=("rating_period_passed",)),
]

# Who is told of each step (casework/notifications; README "Who is told when").
NOTIFY = {
    "acknowledge": tell("author"),  # 签收
    "return_misrouted": tell("author", "motion_committee"),  # 退办: routed again
    "contribute": tell("assigned_handler"),  # 会办意见: the lead department's reply waits for it
    "progress": tell("author", "cosigners"),  # 办理进展
    "open_for_cosigning": tell("author"),
    "cosign": tell("author"),
    "withdraw_cosign": tell("author"),
    "submit": tell("author", "motion_committee"),
    "lapse": tell("author", "cosigners"),
    "file": tell("author", "cosigners", "assigned_handler"),
    "merge": tell("author", "merge_target_author"),
    "convert_to_opinion": tell("author", "assigned_handler"),
    "not_file": tell("author", "cosigners"),
    "reply": tell("author", "cosigners"),
    "rate": tell("assigned_handler"),
    "rate_unsatisfied": tell("assigned_handler"),
    "rehandle": tell("author", "assigned_handler"),  # a call-back's fix: handled again by a new date
    "auto_close": tell("author"),
}

WORKFLOW = Workflow(
    "motion", State, "draft", TRANSITIONS,
    deadlines={
        # A `deadline` given at file overrides the default.
        "handling": ("motion_handling_days", 30),
        "replied": ("motion_rating_days", 10),
    },
    final=("closed", "merged", "not_filed", "lapsed"),
    notify=NOTIFY,
)
