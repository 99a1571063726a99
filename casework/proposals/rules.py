"""Proposal guards and effects (WORKFLOWS.md, "Rationalisation proposal")."""
from __future__ import annotations

from flask_babel import gettext as _
from sqlalchemy import func, select

from workflows.proposal import grade_for

from ..core.engine import Step, effect, guard, refusal
from ..core.errors import Invalid
from ..core.rules import add_parties
from ..labels import GRADE_LABELS, in_chinese
from ..extensions import db
from ..funds import operations as funds
from ..money import format_money
from .models import ProposalScore


@refusal("assigned_handler", kind="proposal")
def _why_not_handler(user, case, trigger):
    # A handler of some other department, rather than someone who handles no proposals at all.
    if case.department_id is not None and user.department_ids():
        return _("This proposal is not assigned to your department.")
    return None


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
    try:
        grade = grade_for(float(mean), tuple(step.setting("grade_thresholds")))
    except (TypeError, ValueError):
        raise Invalid(_("The unit's grade thresholds must be three descending numbers; ask an administrator."),
                      code="guard") from None
    step.case.mean_score = round(float(mean), 2)
    step.set("grade", grade)


@effect("record_implementation")
def _record_implementation(step: Step):
    step.set("benefit", step.data["benefit"])


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
    # 件件有答复: the reward notice is the proposer's written reply; the path to `closed` goes through here.
    reply = reward_notice(case, amount, step.data.get("bonus") or 0, step.comment)
    step.record("reply", case.reply, reply)
    case.reply = reply


def reward_notice(case, amount: int, bonus: int, comment: str = "") -> str:
    """The written reply for a rewarded proposal (a document for the proposer, so in Chinese)."""
    text = f"您提出的合理化建议《{case.title}》（{case.number}）经评审为“{in_chinese(GRADE_LABELS, case.grade)}”"
    text += "等级，已被采纳并实施"
    if case.benefit:
        text += f"，预计年经济效益{format_money(case.benefit)}元"
    text += f"。经工会委员会研究，决定给予奖励人民币{format_money(amount)}元"
    if bonus:
        text += f"（含效益奖励{format_money(bonus)}元）"
    text += "。感谢您为企业发展建言献策！"
    if comment:
        text += f"\n{comment}"
    return text
