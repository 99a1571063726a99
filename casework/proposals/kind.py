"""Rationalisation proposals as a case kind."""
from __future__ import annotations

from flask_babel import gettext as _
from sqlalchemy import select

from ..accounts.models import User
from ..money import format_money
from ..core.inputs import Reader, split_names
from ..core.kinds import KindSpec, register
from ..core.permissions import sees_reviewer_notes
from ..extensions import db
from .models import Proposal, ProposalDuplicate, ProposalScore

MAX_COPROPOSERS = 10


def _parse(data: dict, user: User) -> dict:
    r = Reader(data)
    values = {"title": r.text("title", max_len=200), "problem": r.text("problem"),
              "suggestion": r.text("suggestion"),
              "expected_benefit": r.text("expected_benefit", required=False)}
    if isinstance(data, dict) and "coproposers" in data:
        # Only when given: an edit form without the field keeps the co-proposers as they are.
        values["coproposers"] = _coproposers(r, data["coproposers"], user)
    r.done()
    return values


def _coproposers(r: Reader, raw, author: User) -> list[User]:
    """User names as a list or "a, b" text; each an active person other than the author."""
    if raw in (None, "", []):
        return []
    raw = split_names(raw)
    if raw is None or not all(isinstance(n, str) for n in raw):
        r.fail("coproposers", _("Enter a list of user names."))
        return []
    names = list(dict.fromkeys(n.strip() for n in raw if n.strip()))
    if len(names) > MAX_COPROPOSERS:
        r.fail("coproposers", _("At most %(n)s co-proposers.", n=MAX_COPROPOSERS))
        return []
    users = {u.username: u for u in db.session.scalars(select(User).where(User.username.in_(names),
                                                                          User.active.is_(True)))}
    missing = [n for n in names if n not in users]
    if missing:
        r.fail("coproposers", _("No active user %(name)s.", name=", ".join(missing)))
        return []
    if author.username in users:
        r.fail("coproposers", _("You are the author; name only the people who proposed it with you."))
        return []
    return [users[n] for n in names]


def _fields(case: Proposal, viewer: User) -> dict:
    # Only a submitted proposal is ever answered as a duplicate: a draft needs no look-up.
    dup = db.session.get(ProposalDuplicate, case.id) if case.state != "draft" else None
    out = {"title": case.title, "problem": case.problem, "suggestion": case.suggestion,
           "expected_benefit": case.expected_benefit, "mean_score": case.mean_score,
           "grade": case.grade, "benefit": format_money(case.benefit), "reward": format_money(case.reward),
           "reply": case.reply, "coproposers": sorted(u.username for u in case.coproposers),
           "evaluators": sorted(p.user.username for p in case.parties if p.role == "evaluator"),
           "duplicate_of": {"id": dup.original_id, "number": dup.original.number} if dup else None}
    if sees_reviewer_notes(viewer, case):
        # Evaluators' scores and comments are for reviewers; the proposer sees the grade and the reply.
        scores = db.session.scalars(select(ProposalScore).where(ProposalScore.case_id == case.id)
                                    .order_by(ProposalScore.id)).all()
        out["scores"] = [{"evaluator": s.evaluator.username, "score": s.score, "comment": s.comment}
                         for s in scores]
    return out


def _missing(case: Proposal) -> str | None:
    if not (case.title and case.problem and case.suggestion):
        return _("Title, problem and suggestion are all required.")
    return None


SPEC = register(KindSpec(kind="proposal", model=Proposal, parse=_parse, fields=_fields,
                         owner=lambda values, user: (user.unit, user), title=lambda v: v["title"],
                         missing=_missing, assignable=(("evaluators", ("evaluator",)),),
                         search_fields=("title", "problem", "suggestion", "expected_benefit")))
