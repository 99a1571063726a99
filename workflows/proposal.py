"""Rationalisation proposal (合理化建议): WORKFLOWS.md, "Rationalisation proposal"."""
from __future__ import annotations

from enum import Enum

from .base import Field, Transition, Workflow, tell
from .ratings import rate_transitions


class State(str, Enum):
    # Member names equal their values: `transitions` looks Enum states up by name.
    draft = "draft"
    submitted = "submitted"
    declined = "declined"
    evaluating = "evaluating"
    graded = "graded"
    implementing = "implementing"
    not_adopted = "not_adopted"
    implemented = "implemented"
    rewarded = "rewarded"
    closed = "closed"


GRADES = ("excellent", "good", "general", "not_adopted")
# Defaults in fen (优秀 500, 良好 200, 一般 50 元); admins override them per unit.
DEFAULT_REWARDS = {"excellent": 50000, "good": 20000, "general": 5000}


def grade_for(mean: float, thresholds: tuple[float, float, float] = (85, 70, 60)) -> str:
    """The grade for a mean score: at or above the first threshold 优秀, the second 良好, the third 一般."""
    excellent, good, general = thresholds
    if not excellent > good > general:
        raise ValueError(f"grade thresholds must be strictly descending, got {thresholds!r}")
    if mean >= excellent:
        return "excellent"
    if mean >= good:
        return "good"
    if mean >= general:
        return "general"
    return "not_adopted"


TRANSITIONS = [
    Transition("submit", ("draft",), "submitted", ("author",),
               guards=("required_fields",)),
    Transition("accept", ("submitted",), "evaluating", ("union_staff",),
               guards=("assignees_eligible",),
               fields=(Field("evaluators", "usernames", min=1),),
               effects=("assign_evaluators", "start_deadline")),
    Transition("decline", ("submitted",), "declined", ("union_staff",),
               fields=(Field("reply", "text"),),
               effects=("record_reply", "issue_notice")),
    Transition("score", ("evaluating",), "evaluating", ("assigned_evaluator",),
               guards=("not_scored_yet",),
               fields=(Field("score", "int", min=0, max=100), Field("comment", "text")),
               effects=("record_score",)),
    Transition("grade", ("evaluating",), "graded", ("union_staff",),
               guards=("all_evaluators_scored",),
               effects=("compute_grade",)),
    Transition("adopt", ("graded",), "implementing", ("committee",), vote=True,
               guards=("grade_at_least_general", "not_returned_by"),
               fields=(Field("department", "department", decisive=True), Field("deadline", "date", decisive=True)),
               effects=("assign_department", "route_to_department")),
    Transition("not_adopt", ("graded",), "not_adopted", ("committee",), vote=True,
               fields=(Field("reply", "text"),),
               effects=("record_reply", "issue_notice")),
    # The department signs for an adopted proposal (签收); the implementation deadline counts from then.
    Transition("acknowledge", ("implementing",), "implementing", ("receiving_handler",),
               guards=("not_acknowledged",),
               effects=("record_receipt",)),
    # 退办: back to `graded`, where the committee adopts it again for another department.
    Transition("return_misrouted", ("implementing",), "graded", ("assigned_handler",),
               guards=("return_reason_given", "within_return_window"),
               fields=(Field("reason", "text", required=False),),
               effects=("record_return",)),
    Transition("report_implemented", ("implementing",), "implemented", ("assigned_handler",),
               guards=("acknowledged",),
               fields=(Field("result", "text"), Field("benefit", "money")),
               effects=("record_implementation",)),
    # 办理进展 on an adopted proposal; the case stays where it is.
    Transition("progress", ("implementing",), "implementing", ("assigned_handler",),
               fields=(Field("text", "text"),), effects=("record_progress",)),
    Transition("reward", ("implemented",), "rewarded", ("committee",), vote=True,
               fields=(Field("bonus", "money", required=False, decisive=True),),
               effects=("pay_reward", "join_disclosure", "issue_notice")),
    # The proposer and co-proposers rate the reply to a declined proposal, or the implementation of an
    # adopted one (workflows/ratings.py); the proposal stays where it is.
    *rate_transitions({s: s for s in ("declined", "not_adopted", "implemented", "rewarded", "closed")}),
    # A call-back's fix outcome (fired by it): a declined proposal is examined again, an implemented one
    # handled again by the department, by the date the call-back set.
    Transition("rehandle", ("declined", "not_adopted"), "submitted", ("scheduler",), automatic=True,
               guards=("fix_ordered",), fields=(Field("deadline", "date"),),
               effects=("start_deadline", "start_fix")),
    Transition("rehandle", ("implemented",), "implementing", ("scheduler",), automatic=True,
               guards=("fix_ordered",), fields=(Field("deadline", "date"),),
               effects=("start_deadline", "start_fix")),
    # Fired when the disclosure carrying the reward is posted.
    Transition("close", ("rewarded",), "closed", ("scheduler",), automatic=True,
               guards=("disclosure_posted",)),
]

# Who is told of each step (casework/notifications; README "Who is told when").
NOTIFY = {
    "acknowledge": tell("author"),  # 签收
    "return_misrouted": tell("author", "committee"),  # 退办: adopted again for another department
    "progress": tell("author", "coproposers"),  # 办理进展
    "submit": tell("author", "union_staff"),
    "accept": tell("author", "assigned_evaluator"),
    "decline": tell("author"),
    "score": tell("union_staff", when="all_evaluators_scored"),  # the last score: grading can start
    "grade": tell("author", "committee"),
    "adopt": tell("author", "voters", "assigned_handler"),
    "not_adopt": tell("author", "voters"),
    "report_implemented": tell("author", "committee"),
    "reward": tell("author", "voters"),
    "close": tell("author"),
    "rate": tell("assigned_handler"),
    "rehandle": tell("author", "union_staff", "assigned_handler"),  # a call-back's fix: examined or handled again
}

WORKFLOW = Workflow(
    "proposal", State, "draft", TRANSITIONS,
    # `implementing` has a deadline too, but it is the date given at adopt, not a working-day default.
    deadlines={"evaluating": ("proposal_evaluation_days", 10)},
    final=("declined", "not_adopted", "closed"),
    notify=NOTIFY,
)
