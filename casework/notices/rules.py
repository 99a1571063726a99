"""The workflow effect `issue_notice`: the notice a step owes the person who raised the case."""
from __future__ import annotations

from ..core.engine import Step, effect
from . import operations

# (case kind, trigger) -> the notice kinds issued, in this order. A reward ends the proposal: the author gets
# the certificate and, like every other ending, a reply letter.
NOTICES = {
    ("aid", "approve"): ("aid_approval",),
    ("aid", "reject"): ("aid_rejection",),
    ("aid", "parent_approve"): ("aid_approval",),
    ("aid", "parent_reject"): ("aid_rejection",),
    ("aid", "uphold_objection"): ("aid_rejection",),  # only its branch to `rejected` carries the effect
    ("aid", "disburse"): ("aid_receipt",),
    ("proposal", "decline"): ("proposal_reply",),
    ("proposal", "not_adopt"): ("proposal_reply",),
    ("proposal", "reward"): ("proposal_certificate", "proposal_reply"),
    ("motion", "file"): ("motion_filing",),
    ("motion", "not_file"): ("motion_not_filed",),
    ("motion", "reply"): ("motion_reply",),
}
# Where the step's written words are: the reason or reply that the letter quotes.
TEXT_FIELDS = ("reason", "answer", "reply", "text")


@effect("issue_notice")
def _issue_notice(step: Step):
    # Inside the step's transaction: if the step fails later, the notice and its number vanish with it.
    kinds = NOTICES[(step.case.kind, step.transition.trigger)]
    # A committee decision's letter quotes the reasons of every vote that carried it.
    text = step.text(*TEXT_FIELDS) if step.carried else next((step.data[f] for f in TEXT_FIELDS if step.data.get(f)), "")
    issued = [operations.issue_for_case(kind, step.case, text=text, user=step.user, now=step.now,
                                        trigger=step.transition.trigger) for kind in kinds]
    # The audit entry carries each notice's number and hash: the PDF is bound into the case's hash chain.
    step.changes["notices"] = [f"{n.number} sha256:{n.sha256}" for n in issued]
