"""Motion guards and effects (WORKFLOWS.md, "Congress motion")."""
from __future__ import annotations

from flask_babel import gettext as _

from ..clock import today, utcnow
from ..core.engine import Step, effect, guard, refusal
from ..core.rules import add_parties
from ..extensions import db

FILED = ("handling", "replied", "closed")


def _window_open(case) -> bool:
    return utcnow() < case.session.cosigning_until


@guard("cosigning_window_open")
def _cosigning_open(step: Step):
    return None if _window_open(step.case) else _("The co-signing window of this session has closed.")


@guard("cosigning_window_ended")
def _cosigning_ended(step: Step):
    return _("The co-signing window is still open.") if _window_open(step.case) else None


def _cosigners(case) -> int:
    return len(case.party_ids("cosigner"))


@guard("not_cosigned_yet")
def _not_cosigned(step: Step):
    return _("You have already co-signed this motion.") if step.user.id in step.case.party_ids("cosigner") else None


@guard("has_cosigned")
def _has_cosigned(step: Step):
    return None if step.user.id in step.case.party_ids("cosigner") else _("You have not co-signed this motion.")


@guard("enough_cosigners")
def _enough(step: Step):
    need = int(step.setting("min_cosigners"))
    have = _cosigners(step.case)
    return None if have >= need else _("%(need)s co-signers are needed; %(have)s have signed.", need=need, have=have)


@guard("too_few_cosigners")
def _too_few(step: Step):
    need = int(step.setting("min_cosigners"))
    return _("The motion has enough co-signers.") if _cosigners(step.case) >= need else None


@guard("merge_target_filed")
def _merge_target(step: Step):
    target = step.data.get("into")
    if target is None or target.state not in FILED:
        return _("A motion can only be merged into a filed motion.")
    if target.session_id != step.case.session_id:
        return _("A motion can only be merged into a motion of the same congress session.")
    return None


@refusal("cosigner_candidate", kind="motion")
def _why_not_cosigner(user, case, trigger):
    return _("You cannot co-sign your own motion.") if user.id == case.applicant_id else None


@refusal("assigned_handler", kind="motion")
def _why_not_handler(user, case, trigger):
    # Co-handling departments see the motion and send their part to the lead department, which replies
    # for all: the reply is not offered to them, and trying it says so.
    if set(case.co_department_ids or ()) & user.department_ids():
        return _lead_only(case)
    if case.department_id is not None and user.department_ids():  # a handler of some other department
        return _("This motion is not assigned to your department.")
    return None


def _lead_only(case) -> str:
    return _("Only the lead department (%(name)s) replies to this motion; co-handling departments contribute "
             "to its reply.", name=case.department.name if case.department else "—")


@guard("lead_handler")
def _lead_handler(step: Step):
    return None if step.case.department_id in step.user.department_ids() else _lead_only(step.case)


@guard("not_reopened_before")
def _not_reopened(step: Step):
    return _("This motion was reopened once already; the second reply is final.") if step.case.reopened else None


@guard("rating_period_passed")
def _rating_passed(step: Step):
    if step.case.deadline is not None and today() > step.case.deadline:
        return None
    return _("The rating period has not passed yet.")


@effect("record_cosign")
def _record_cosign(step: Step):
    add_parties(step, "cosigner", [step.user])
    step.record("cosigners", _cosigners(step.case) - 1, _cosigners(step.case))


@effect("remove_cosign")
def _remove_cosign(step: Step):
    before = _cosigners(step.case)
    for p in list(step.case.parties):
        if p.role == "cosigner" and p.user_id == step.user.id:
            step.case.parties.remove(p)
            db.session.delete(p)
    step.record("cosigners", before, _cosigners(step.case))


@effect("merge_into")
def _merge_into(step: Step):
    target = step.data["into"]
    step.case.merged_into_id = target.id
    step.record("merged_into", None, target.number)
    # The audit entry stores the inputs as JSON: name the target by its number, not the row.
    step.data["into"] = target.number


@effect("reopen")
def _reopen(step: Step):
    step.case.reopened = True
    step.case.satisfaction = "unsatisfied"
    step.record("satisfaction", None, "unsatisfied")
