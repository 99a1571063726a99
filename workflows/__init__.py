"""The three case workflows, and those of the register and the board, as data. No Flask, no database:
`casework` applies them."""
from __future__ import annotations

from . import aid, board, callback, motion, proposal, register
from .base import Field, Transition, Workflow

WORKFLOWS: dict[str, Workflow] = {
    "aid": aid.WORKFLOW,
    "proposal": proposal.WORKFLOW,
    "motion": motion.WORKFLOW,
}
# Committee decisions on things that are not cases, fired through the same engine and audit chain.
SUBJECTS: dict[str, Workflow] = {
    "register": register.WORKFLOW,
    "board": board.WORKFLOW,
    "callback": callback.WORKFLOW,
}


def get(kind: str) -> Workflow:
    try:
        return WORKFLOWS.get(kind) or SUBJECTS[kind]
    except KeyError:
        raise KeyError(f"unknown case kind {kind!r}") from None


# Every guard and effect name the tables use, written out so the engine can check at start-up that it
# implements each one (tests/workflows keeps these equal to what the tables use).
GUARDS = frozenset({
    "required_fields", "required_documents", "assignees_eligible", "visit_recorded", "amount_within_cap",
    "fund_has_free_balance", "posting_open", "posting_period_ended", "no_open_objection",
    "receipt_period_passed",
    "not_scored_yet", "all_evaluators_scored", "grade_at_least_general", "disclosure_posted",
    "cosigning_window_open", "cosigning_window_ended", "not_cosigned_yet", "has_cosigned", "enough_cosigners",
    "too_few_cosigners", "merge_target_filed", "lead_handler", "not_reopened_before", "rating_period_passed",
    "rating_complete", "rating_period_open", "not_rated_yet", "fix_ordered",
})
EFFECTS = frozenset({
    "start_deadline", "notify_applicant", "notify_author",
    "assign_visitors", "record_visit", "record_proposed_amount", "reserve_funds", "release_reservation",
    "debit_fund", "erase_sensitive",
    "assign_evaluators", "record_score", "compute_grade", "assign_department", "record_implementation",
    "pay_reward", "record_reply", "join_disclosure", "answer_objection", "publish_correction",
    "record_cosign", "remove_cosign", "merge_into", "record_rating", "reopen",
    "issue_notice", "start_fix",
})
# The effects the register's and the board's workflows name.
SUBJECT_EFFECTS = frozenset({"register_household", "decline_household", "post_disclosure", "issue_board_pdf",
                             "record_callback", "order_fix", "notify_raters", "set_ratings_aside",
                             "record_decision"})
# The guards and branch selectors of those workflows.
SUBJECT_GUARDS = frozenset({"callback_outcome_complete"})
SUBJECT_CONDITIONS = frozenset({"outcome_fix", "outcome_explain", "outcome_appeal"})
# Branch selectors the engine answers by name for `Workflow.run`.
CONDITIONS = frozenset({"posting_open", "reconsider", "by_cosigner"})

__all__ = ["WORKFLOWS", "SUBJECTS", "GUARDS", "EFFECTS", "SUBJECT_EFFECTS", "CONDITIONS", "get", "aid",
           "proposal", "motion", "register", "board", "callback", "SUBJECT_GUARDS", "SUBJECT_CONDITIONS",
           "Field", "Transition", "Workflow"]
