"""Aid guards and effects (WORKFLOWS.md, "Aid request")."""
from __future__ import annotations

from flask_babel import gettext as _
from sqlalchemy import func, select

from ..clock import today
from ..core.engine import Step, condition, effect, guard
from ..core.models import Attachment
from ..core.rules import add_parties
from ..extensions import db
from ..labels import DOC_LABELS
from ..funds import operations as funds
from ..money import format_money
from . import levels
from .models import AidVisit



@guard("required_documents")
def _required_documents(step: Step):
    from ..register.rules import check_aid_register
    if (refusal := check_aid_register(step)):
        return refusal  # this unit gives this category only to registered households
    needed = step.setting(f"aid_docs_{step.case.category}") or []
    have = set(db.session.scalars(select(Attachment.doc_type).where(Attachment.case_id == step.case.id)))
    missing = [str(DOC_LABELS.get(d, d)) for d in needed if d not in have]
    if missing:
        return _("Attach these documents first: %(docs)s.", docs=", ".join(missing))
    return None


@guard("visit_recorded")
def _visit_recorded(step: Step):
    count = db.session.scalar(select(func.count()).select_from(AidVisit).where(AidVisit.case_id == step.case.id))
    return None if count else _("Record at least one home visit first.")


@guard("amount_within_cap")
def _amount_within_cap(step: Step):
    amount = step.data.get("proposed_amount", step.data.get("amount"))
    cap = step.setting(f"aid_cap_{step.case.category}")
    if amount is not None and amount > cap:
        return _("The amount is above this category's cap of %(cap)s yuan.", cap=format_money(cap))
    if amount == 0:
        return _("The amount must be more than zero.")
    return None


@guard("fund_has_free_balance")
def _fund_has_free_balance(step: Step):
    fund = levels.deciding_fund(step)
    if fund is None:
        return _("No aid fund covers this unit.")
    amount = step.data.get("amount") or 0
    if fund.free < amount:
        return _("The fund %(name)s has only %(free)s yuan free.", name=fund.name, free=format_money(fund.free))
    return None


def _is_posting_open(case) -> bool:
    # The posting's period, not case.deadline: under an objection that is the answer's deadline.
    from ..disclosure.operations import posting_ends_on
    ends = posting_ends_on(case)
    return ends is not None and today() <= ends


@condition("posting_open")
def _posting_open_branch(step: Step) -> bool:
    return _is_posting_open(step.case)


@guard("posting_open")
def _posting_open(step: Step):
    return None if _is_posting_open(step.case) else _("The posting period has ended.")


@guard("posting_period_ended")
def _posting_period_ended(step: Step):
    from ..disclosure.operations import posting_ends_on
    ends = posting_ends_on(step.case)
    if ends is not None and today() > ends:
        return None
    return _("The posting period has not ended yet.")


@guard("no_open_objection")
def _no_open_objection(step: Step):
    # Objections move the case to objection_review, so a case still posting has none open.
    return None if step.case.state == "posting" else _("An objection is still open.")


@guard("receipt_period_passed")
def _receipt_period_passed(step: Step):
    if step.case.deadline is not None and today() > step.case.deadline:
        return None
    return _("The receipt period has not passed yet.")


@condition("reconsider")
def _reconsider(step: Step) -> bool:
    return bool(step.data.get("reconsider"))


@effect("assign_visitors")
def _assign_visitors(step: Step):
    add_parties(step, "visitor", step.data.get("visitors"))


@effect("record_visit")
def _record_visit(step: Step):
    visitors = step.data["visitors"]
    if step.data["visited_on"] > today():
        from ..core.errors import Invalid
        raise Invalid(_("The visit date is in the future."), fields={"visited_on": _("in the future")})
    db.session.add(AidVisit(case_id=step.case.id, visited_on=step.data["visited_on"],
                            visitor_ids=[u.id for u in visitors], findings=step.data["findings"],
                            recorded_by_id=step.user.id))
    add_parties(step, "visitor", visitors)


@effect("record_proposed_amount")
def _record_proposed_amount(step: Step):
    step.set("amount_proposed", step.data["proposed_amount"])


@effect("reserve_funds")
def _reserve_funds(step: Step):
    fund = levels.deciding_fund(step)  # the parent union's, when it decided
    levels.decided_here(step)
    amount = step.data["amount"]
    funds.reserve(fund, step.case, amount, step.user)
    step.set("amount_approved", amount)
    step.case.fund_id = fund.id


@effect("release_reservation")
def _release_reservation(step: Step):
    entry = funds.release(step.case, step.user)
    if entry is not None:
        step.record("released", None, format_money(entry.amount))


@effect("debit_fund")
def _debit_fund(step: Step):
    entry = funds.debit_reserved(step.case, step.data["method"], step.data["reference"], step.user)
    step.record("disbursed", None, format_money(entry.amount))


@effect("erase_sensitive")
def _erase_sensitive(step: Step):
    """Consent withdrawn: processing ends, and what was given under it goes (files, details, visit findings)."""
    from ..privacy.retention import anonymise
    anonymise(step, full=False)
