"""Rationalisation proposal (合理化建议): WORKFLOWS.md, "Rationalisation proposal"."""
from __future__ import annotations

from enum import Enum

from .base import Field, Transition, Workflow
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
GRADE_LABELS_ZH = {"excellent": "优秀", "good": "良好", "general": "一般", "not_adopted": "不采纳"}
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
               effects=("record_reply", "notify_author", "issue_notice")),
    Transition("score", ("evaluating",), "evaluating", ("assigned_evaluator",),
               guards=("not_scored_yet",),
               fields=(Field("score", "int", min=0, max=100), Field("comment", "text")),
               effects=("record_score",)),
    Transition("grade", ("evaluating",), "graded", ("union_staff",),
               guards=("all_evaluators_scored",),
               effects=("compute_grade",)),
    Transition("adopt", ("graded",), "implementing", ("committee",), vote=True,
               guards=("grade_at_least_general",),
               fields=(Field("department", "department", decisive=True), Field("deadline", "date", decisive=True)),
               effects=("assign_department", "start_deadline")),
    Transition("not_adopt", ("graded",), "not_adopted", ("committee",), vote=True,
               fields=(Field("reply", "text"),),
               effects=("record_reply", "notify_author", "issue_notice")),
    Transition("report_implemented", ("implementing",), "implemented", ("assigned_handler",),
               fields=(Field("result", "text"), Field("benefit", "money")),
               effects=("record_implementation",)),
    Transition("reward", ("implemented",), "rewarded", ("committee",), vote=True,
               fields=(Field("bonus", "money", required=False, decisive=True),),
               effects=("pay_reward", "notify_author", "join_disclosure", "issue_notice")),
    # The proposer and co-proposers rate the reply to a declined proposal, or the implementation of an
    # adopted one (workflows/ratings.py); the proposal stays where it is.
    *rate_transitions({s: s for s in ("declined", "not_adopted", "implemented", "rewarded", "closed")}),
    # A call-back's fix outcome (fired by it): a declined proposal is examined again, an implemented one
    # handled again by the department, by the date the call-back set.
    Transition("rehandle", ("declined", "not_adopted"), "submitted", ("scheduler",), automatic=True,
               guards=("fix_ordered",), fields=(Field("deadline", "date"),),
               effects=("start_deadline", "start_fix", "notify_author")),
    Transition("rehandle", ("implemented",), "implementing", ("scheduler",), automatic=True,
               guards=("fix_ordered",), fields=(Field("deadline", "date"),),
               effects=("start_deadline", "start_fix", "notify_author")),
    # Fired when the disclosure carrying the reward is posted.
    Transition("close", ("rewarded",), "closed", ("scheduler",), automatic=True,
               guards=("disclosure_posted",)),
]

WORKFLOW = Workflow(
    "proposal", State, "draft", TRANSITIONS,
    # `implementing` has a deadline too, but it is the date given at adopt, not a working-day default.
    deadlines={"evaluating": ("proposal_evaluation_days", 10)},
    final=("declined", "not_adopted", "closed"),
)
