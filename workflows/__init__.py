"""The three case workflows, and those of the register and the board, as data. No Flask, no database:
`casework` applies them."""
from __future__ import annotations

from . import aid, board, callback, motion, proposal, register, supervision, upward_report
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
    "supervision": supervision.WORKFLOW,
    "callback": callback.WORKFLOW,
    "upward_report": upward_report.WORKFLOW,
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
    "receipt_period_passed", "not_on_hold", "on_hold", "retention_passed",
    "not_scored_yet", "all_evaluators_scored", "grade_at_least_general", "disclosure_posted",
    "cosigning_window_open", "cosigning_window_ended", "not_cosigned_yet", "has_cosigned", "enough_cosigners",
    "too_few_cosigners", "merge_target_filed", "lead_handler", "not_reopened_before", "rating_period_passed",
    "not_returned_by", "not_acknowledged", "acknowledged", "return_reason_given", "within_return_window",
    "opinion_awaited", "opinions_in",
    "rating_complete", "rating_period_open", "not_rated_yet", "fix_ordered",
})
EFFECTS = frozenset({
    "start_deadline",
    "assign_visitors", "record_visit", "record_proposed_amount", "reserve_funds", "release_reservation",
    "debit_fund", "erase_sensitive", "place_hold", "lift_hold", "anonymise",
    "assign_evaluators", "record_score", "compute_grade", "assign_department", "record_implementation",
    "pay_reward", "record_reply", "join_disclosure", "answer_objection", "publish_correction",
    "record_cosign", "remove_cosign", "merge_into", "record_rating", "reopen",
    "issue_notice", "refer_to_parent", "record_progress",
    "route_to_department", "record_receipt", "record_return", "record_opinion", "note_missing_opinions",
    "start_fix",
})
# Guards that read no input, only the subject and the person: a step one of them refuses is not offered.
STANDING_GUARDS = frozenset({
    "not_rated_yet", "rating_period_open", "not_scored_yet", "not_cosigned_yet", "has_cosigned",
    "not_reopened_before", "cosigning_window_open", "not_on_hold", "on_hold", "not_upper_reviewer",
})
# The effects the register's, the board's, the slips' and the call-backs' workflows name.
SUBJECT_EFFECTS = frozenset({"register_household", "decline_household", "post_disclosure", "issue_board_pdf",
                             "record_slip_answer", "close_slip",
                             "record_callback", "order_fix", "set_ratings_aside",
                             "record_decision", "freeze_figures", "record_review"})
# The guards and branch selectors of those workflows.
SUBJECT_GUARDS = frozenset({"callback_outcome_complete", "not_upper_reviewer"})
SUBJECT_CONDITIONS = frozenset({"outcome_fix", "outcome_explain", "outcome_appeal"})
# Branch selectors the engine answers by name for `Workflow.run`.
CONDITIONS = frozenset({"posting_open", "reconsider", "above_threshold", "by_cosigner"})
# Units other than the case's whose committee votes (`Transition.level`), resolved by name.
LEVELS = frozenset({"parent_union", "upper_union"})

__all__ = ["WORKFLOWS", "SUBJECTS", "GUARDS", "STANDING_GUARDS", "EFFECTS", "SUBJECT_EFFECTS", "CONDITIONS", "LEVELS", "get", "aid",
           "proposal", "motion", "register", "board", "supervision", "callback", "upward_report", "SUBJECT_GUARDS",
           "SUBJECT_CONDITIONS",
           "Field", "Transition", "Workflow"]
