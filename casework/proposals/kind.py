"""Rationalisation proposals as a case kind."""
from __future__ import annotations

from ..accounts.models import User
from ..money import format_money
from ..core.inputs import Reader
from ..core.kinds import KindSpec, register
from .models import Proposal


def _parse(data: dict, user: User) -> dict:
    r = Reader(data)
    values = {"title": r.text("title", max_len=200), "problem": r.text("problem"),
              "suggestion": r.text("suggestion"),
              "expected_benefit": r.text("expected_benefit", required=False)}
    r.done()
    return values


def _fields(case: Proposal, viewer: User) -> dict:
    return {"title": case.title, "problem": case.problem, "suggestion": case.suggestion,
            "expected_benefit": case.expected_benefit, "mean_score": case.mean_score,
            "grade": case.grade, "benefit": format_money(case.benefit), "reward": format_money(case.reward),
            "reply": case.reply}


SPEC = register(KindSpec(kind="proposal", model=Proposal, parse=_parse, fields=_fields,
                         owner=lambda values, user: (user.unit, user), title=lambda v: v["title"]))
