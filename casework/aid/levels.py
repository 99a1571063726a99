"""Multi-level approval by amount (WORKFLOWS.md, "Multi-level approval (aid)").

The grassroots union of a request is the unit of the aid fund that covers the applicant's unit; its parent
union is the unit above. Above the unit's threshold for the category, the grassroots committee's approval
refers the request to the parent union's committee (上级审批中), which votes with its own seats and quorum,
decides the amount within the cap and pays from its own fund; whoever voted below does not vote again. The
parent's rejection ends the request, with the parent's reasons, in a letter the parent union signs.
"""
from __future__ import annotations

from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select

from ..accounts.models import Unit
from ..core import settings
from ..core.engine import Step, condition, effect, level
from ..core.models import Vote
from ..core.votes import tally_of
from ..extensions import db
from ..funds import operations as funds
from ..labels import CHOICE_LABELS
from ..money import format_money
from .models import CATEGORIES

# The votes of each level, by trigger.
GRASSROOTS_TRIGGERS = ("approve", "reject")
PARENT_TRIGGERS = ("parent_approve", "parent_reject")

for _category in CATEGORIES:
    settings.declare(
        f"aid_parent_threshold_{_category}", None, "money",
        _l("Amount above which an aid request of the category “%(category)s”, once this union's committee has "
           "approved it, goes to the parent union's committee for a second vote and is paid from the parent "
           "union's aid fund, in yuan. Empty: this union's committee decides alone.",
           category=CHOICE_LABELS[_category]))


def threshold(case) -> int | None:
    return settings.get(case.unit, f"aid_parent_threshold_{case.category}")


def grassroots_unit(case) -> Unit:
    """The union whose committee decides first: where the aid fund covering the applicant's unit sits."""
    fund = funds.fund_for(case.unit, "aid")
    return fund.unit if fund is not None else case.unit


def parent_union(case) -> Unit | None:
    """The union a request above the threshold goes to: the one it was referred to, else the one above
    the grassroots union (None at the top of the tree: there the grassroots committee decides alone)."""
    if case.referred_unit is not None:
        return case.referred_unit
    return grassroots_unit(case).parent


def goes_up(case, amount: int | None) -> bool:
    limit = threshold(case)
    return limit is not None and amount is not None and amount > limit and parent_union(case) is not None


def deciding_fund(step: Step):
    """The fund the deciding level pays from: the parent union's once the request is before it, or when the
    amount voted goes above the threshold; the grassroots fund otherwise."""
    case = step.case
    if step.from_state == "parent_approval" or goes_up(case, step.data.get("amount")):
        return funds.fund_for(parent_union(case), "aid")
    return funds.fund_for(case.unit, "aid")


@level("parent_union")
def _parent_union(case):
    return parent_union(case)


@condition("above_threshold")
def _above_threshold(step: Step) -> bool:
    return goes_up(step.case, step.data.get("amount"))


@effect("refer_to_parent")
def _refer_to_parent(step: Step):
    # The applicant hears of it through the step's notification (workflows/aid.py NOTIFY).
    case, parent = step.case, parent_union(step.case)
    amount = step.data["amount"]
    step.record("referred_to", None, parent.name)
    step.record("referred_amount", case.referred_amount, amount)
    case.referred_unit_id, case.referred_unit, case.referred_amount = parent.id, parent, amount


def decided_here(step: Step) -> None:
    """Called when the grassroots committee approves alone: an earlier referral no longer stands."""
    case = step.case
    if step.from_state == "pending_approval" and case.referred_unit_id is not None:
        step.record("referred_to", case.referred_unit.name, None)
        case.referred_unit_id, case.referred_unit, case.referred_amount = None, None, None


# -- what the case page and the API show -------------------------------------------------------------

def _latest_round(case, triggers) -> list[Vote]:
    last = (select(func.max(Vote.round)).where(Vote.case_id == case.id, Vote.trigger.in_(triggers))
            .scalar_subquery())
    return db.session.scalars(select(Vote).where(Vote.case_id == case.id, Vote.round == last,
                                                 Vote.trigger.in_(triggers))
                              .order_by(Vote.at, Vote.id)).all()


def _level(unit: Unit | None, votes: list[Vote], quorum_at: Unit | None = None) -> dict | None:
    if unit is None:
        return None
    quorum = int(settings.get(quorum_at or unit, "committee_quorum"))
    return {"unit": unit.name, "quorum": quorum, "votes": len(votes),
            "tally": [{**g, "inputs": {k: (format_money(v) if k == "amount" else v)
                                       for k, v in g["inputs"].items()}} for g in tally_of(votes)]}


def approval(case) -> dict:
    """Where the decision stands: the deciding level and unit, and each level's latest round of votes."""
    below = grassroots_unit(case)
    referred = case.referred_unit
    return {"level": "parent" if referred is not None else "grassroots",
            "deciding_unit": (referred or below).name,
            "referred_amount": format_money(case.referred_amount) if case.referred_amount is not None else None,
            "grassroots": _level(below, _latest_round(case, GRASSROOTS_TRIGGERS), case.unit),
            "parent": _level(referred, _latest_round(case, PARENT_TRIGGERS)) if referred is not None else None}
