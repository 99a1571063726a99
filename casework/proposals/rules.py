"""Proposal guards and effects (WORKFLOWS.md, "Rationalisation proposal")."""
from __future__ import annotations

from flask_babel import gettext as _
from sqlalchemy import func, select

from workflows.proposal import grade_for

from ..core.engine import Step, effect, guard
from ..core.errors import Invalid
from ..core.rules import add_parties
from ..extensions import db
from ..funds import operations as funds
from ..money import format_money
from .models import ProposalScore


def _scored_ids(case) -> set[int]:
    return set(db.session.scalars(select(ProposalScore.evaluator_id).where(ProposalScore.case_id == case.id)))


@guard("not_scored_yet")
def _not_scored_yet(step: Step):
    return _("You have already scored this proposal.") if step.user.id in _scored_ids(step.case) else None


@guard("all_evaluators_scored")
def _all_scored(step: Step):
    missing = step.case.party_ids("evaluator") - _scored_ids(step.case)
    return _("%(n)s assigned evaluator(s) have not scored yet.", n=len(missing)) if missing else None


@guard("grade_at_least_general")
def _grade_ok(step: Step):
    if step.case.grade in ("excellent", "good", "general"):
        return None
    return _("Only proposals graded General or better can be adopted.")


@guard("disclosure_posted")
def _disclosure_posted(step: Step):
    # Rewards close only through a posted disclosure; until one includes this case, refuse.
    return _("The reward has not been publicly posted yet.")


@effect("assign_evaluators")
def _assign_evaluators(step: Step):
    add_parties(step, "evaluator", step.data.get("evaluators"))


@effect("record_score")
def _record_score(step: Step):
    db.session.add(ProposalScore(case_id=step.case.id, evaluator_id=step.user.id, score=step.data["score"],
                                 comment=step.data.get("comment") or step.comment))


@effect("compute_grade")
def _compute_grade(step: Step):
    mean = db.session.scalar(select(func.avg(ProposalScore.score)).where(ProposalScore.case_id == step.case.id))
    thresholds = tuple(step.setting("grade_thresholds"))
    grade = grade_for(float(mean), thresholds)
    step.record("grade", step.case.grade, grade)
    step.case.mean_score = round(float(mean), 2)
    step.case.grade = grade


@effect("record_implementation")
def _record_implementation(step: Step):
    step.record("benefit", step.case.benefit, step.data["benefit"])
    step.case.benefit = step.data["benefit"]


@effect("pay_reward")
def _pay_reward(step: Step):
    case = step.case
    base = int(step.setting(f"reward_{case.grade}"))
    amount = base + (step.data.get("bonus") or 0)
    fund = funds.fund_for(case.unit, "reward")
    if fund is None:
        raise Invalid(_("No reward fund covers this unit."), code="guard")
    funds.pay(fund, case, amount, "other", case.number, step.user)
    step.record("reward", case.reward, format_money(amount))
    case.reward = amount
