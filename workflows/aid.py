"""Aid request (帮扶申请): WORKFLOWS.md, "Aid request"."""
from __future__ import annotations

from enum import Enum

from .base import Field, Transition, Workflow, tell


class State(str, Enum):
    # Member names equal their values: `transitions` looks Enum states up by name.
    draft = "draft"
    submitted = "submitted"
    returned = "returned"
    verifying = "verifying"
    pending_approval = "pending_approval"
    parent_approval = "parent_approval"  # 上级审批中: above the unit's threshold, the parent union decides
    posting = "posting"
    objection_review = "objection_review"
    approved = "approved"
    disbursed = "disbursed"
    closed = "closed"
    rejected = "rejected"
    withdrawn = "withdrawn"


PAYMENT_METHODS = ("bank_transfer", "cash", "other")

_ANSWER = Field("answer", "text")

TRANSITIONS = [
    Transition("submit", ("draft",), "submitted", ("applicant", "filer"),
               guards=("required_fields", "required_documents"),
               effects=("start_deadline",)),
    Transition("return_for_info", ("submitted",), "returned", ("union_staff",),
               fields=(Field("reason", "text"),)),
    # Same checks as submit: the case was returned because something was missing.
    Transition("resubmit", ("returned",), "submitted", ("applicant",),
               guards=("required_fields", "required_documents"),
               effects=("start_deadline",)),
    Transition("start_verification", ("submitted",), "verifying", ("union_staff",),
               guards=("assignees_eligible",),
               fields=(Field("visitors", "usernames", required=False),),
               effects=("assign_visitors",)),
    Transition("record_visit", ("verifying",), "verifying", ("union_staff", "group_leader"),
               guards=("assignees_eligible",),
               fields=(Field("visited_on", "date"),
                       Field("visitors", "usernames", min=2),
                       Field("findings", "text", private=True)),
               effects=("record_visit",)),
    Transition("verify", ("verifying",), "pending_approval", ("union_staff",),
               guards=("visit_recorded", "amount_within_cap"),
               fields=(Field("proposed_amount", "money"),),
               effects=("record_proposed_amount",)),
    # Above the unit's threshold for the category the approval goes on to the parent union's committee;
    # at or below it the grassroots committee decides. Branches: table order matters.
    Transition("approve", ("pending_approval",), "parent_approval", ("committee",), vote=True,
               conditions=("above_threshold",),
               guards=("amount_within_cap", "fund_has_free_balance"),
               fields=(Field("amount", "money", decisive=True),),
               effects=("refer_to_parent",)),
    Transition("approve", ("pending_approval",), "posting", ("committee",), vote=True,
               unless=("above_threshold",),
               guards=("amount_within_cap", "fund_has_free_balance"),
               fields=(Field("amount", "money", decisive=True),),
               effects=("reserve_funds", "join_disclosure", "issue_notice")),
    Transition("reject", ("pending_approval",), "rejected", ("committee",), vote=True,
               fields=(Field("reason", "text"),),
               effects=("issue_notice",)),
    # The parent union's committee: its own seats and quorum; whoever voted below does not vote again.
    # It decides the amount (within the cap) and its fund is charged; its rejection ends the case.
    Transition("parent_approve", ("parent_approval",), "posting", ("committee",), vote=True,
               level="parent_union", once_with=("approve", "reject"),
               guards=("amount_within_cap", "fund_has_free_balance"),
               fields=(Field("amount", "money", decisive=True),),
               effects=("reserve_funds", "join_disclosure", "issue_notice")),
    Transition("parent_reject", ("parent_approval",), "rejected", ("committee",), vote=True,
               level="parent_union", once_with=("approve", "reject"),
               fields=(Field("reason", "text"),),
               effects=("issue_notice",)),
    # Fired by the disclosure module when someone objects to the case's item.
    Transition("object", ("posting",), "objection_review", ("scheduler",), automatic=True,
               guards=("posting_open",),
               effects=("start_deadline",)),
    # Branches: table order matters, `candidates` lists them in this order.
    Transition("dismiss_objection", ("objection_review",), "posting", ("committee",), vote=True,
               conditions=("posting_open",),
               fields=(_ANSWER,),
               effects=("answer_objection",)),
    Transition("dismiss_objection", ("objection_review",), "approved", ("committee",), vote=True,
               unless=("posting_open",),
               fields=(_ANSWER,),
               effects=("answer_objection",)),
    Transition("uphold_objection", ("objection_review",), "pending_approval", ("committee",), vote=True,
               conditions=("reconsider",),
               fields=(_ANSWER, Field("reconsider", "bool", required=False, decisive=True)),
               effects=("release_reservation", "answer_objection", "publish_correction")),
    Transition("uphold_objection", ("objection_review",), "rejected", ("committee",), vote=True,
               unless=("reconsider",),
               fields=(_ANSWER, Field("reconsider", "bool", required=False, decisive=True)),
               effects=("release_reservation", "answer_objection", "publish_correction", "issue_notice")),
    Transition("end_posting", ("posting",), "approved", ("scheduler",), automatic=True,
               guards=("posting_period_ended", "no_open_objection")),
    Transition("disburse", ("approved",), "disbursed", ("fund_manager",),
               fields=(Field("method", "choice", choices=PAYMENT_METHODS),
                       Field("reference", "text")),
               effects=("debit_fund", "start_deadline", "issue_notice")),
    Transition("confirm_receipt", ("disbursed",), "closed", ("applicant", "union_staff")),
    Transition("auto_close", ("disbursed",), "closed", ("scheduler",), automatic=True,
               guards=("receipt_period_passed",)),
    # No reservation exists before approval; the release is kept so a withdraw never leaks one.
    Transition("withdraw", ("draft", "submitted", "returned", "verifying"), "withdrawn",
               ("applicant", "filer"),
               effects=("release_reservation",)),
    # Withdrawing the separate consent (PIPL art. 15) ends the processing and deletes what was given.
    Transition("withdraw_consent", ("draft", "submitted", "returned", "verifying", "pending_approval",
                                    "parent_approval"), "withdrawn",
               ("applicant",), comment_required=False,
               effects=("release_reservation", "erase_sensitive")),
    # Retention (PIPL art. 47): a legal hold keeps a case from anonymisation; the sweep anonymises a closed
    # case once its category's retention period has passed. Reflexive: the case's state stays.
    *(Transition("place_hold", (s.value,), s.value, ("union_staff",), comment_required=True,
                 guards=("not_on_hold",), effects=("place_hold",)) for s in State),
    *(Transition("lift_hold", (s.value,), s.value, ("union_staff",), comment_required=True,
                 guards=("on_hold",), effects=("lift_hold",)) for s in State),
    *(Transition("anonymise", (s,), s, ("scheduler",), automatic=True,
                 guards=("not_on_hold", "retention_passed"), effects=("anonymise",))
      for s in ("closed", "rejected", "withdrawn")),
]

_OWNER = ("applicant", "filer")
# Who is told of each step (casework/notifications; README "Who is told when").
NOTIFY = {
    "submit": tell(*_OWNER, "union_staff"),
    "return_for_info": tell(*_OWNER),
    "resubmit": tell(*_OWNER, "union_staff"),
    "start_verification": tell(*_OWNER, "visitor"),
    "record_visit": tell("union_staff"),
    "verify": tell(*_OWNER, "committee"),
    "approve": tell(*_OWNER, "voters", "committee"),  # the parent's committee, when the case goes up
    "reject": tell(*_OWNER, "voters"),
    "parent_approve": tell(*_OWNER, "voters"),
    "parent_reject": tell(*_OWNER, "voters"),
    "object": tell(*_OWNER, "committee"),
    "dismiss_objection": tell(*_OWNER, "voters", "fund_manager"),
    "uphold_objection": tell(*_OWNER, "voters", "committee"),
    "end_posting": tell(*_OWNER, "fund_manager"),
    "disburse": tell(*_OWNER),
    "confirm_receipt": tell(*_OWNER),
    "auto_close": tell(*_OWNER),
    "withdraw": tell(*_OWNER),
    "withdraw_consent": tell(*_OWNER),
    # Retention: a hold is union staff's record for an authority; anonymising takes the person out of the case.
    "place_hold": tell(),
    "lift_hold": tell(),
    "anonymise": tell(),
}

WORKFLOW = Workflow(
    "aid", State, "draft", TRANSITIONS,
    deadlines={
        "submitted": ("aid_intake_days", 5),
        # The period runs from the disclosure's posting, not from approval: the disclosure owns it.
        "posting": ("posting_days", 5),
        "objection_review": ("objection_answer_days", 5),
        "disbursed": ("aid_receipt_days", 10),
    },
    final=("closed", "rejected", "withdrawn"),
    notify=NOTIFY,
)
