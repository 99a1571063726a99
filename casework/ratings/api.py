"""Ratings and call-backs in the JSON API (API.md, "Supervision ..., ratings"): a case's ratings ledger, the
call-backs due, recording a call-back with its outcome, the committee's vote on an appeal."""
from __future__ import annotations

from apiflask.fields import Boolean, Date, Dict, Integer, List, Nested, String
from apiflask import Schema
from flask_babel import gettext as _
from marshmallow import INCLUDE

from workflows.callback import HOW, OUTCOMES

from ..api.base import json_body, make_blueprint, step_options, subject_audit, user
from ..api.schemas import AuditList
from ..core import engine, kinds
from ..core.errors import NotFound
from ..extensions import db
from . import operations
from .models import Callback

bp = make_blueprint("ratings_api", __name__, tag="ratings")


class RatingOut(Schema):
    id = Integer()
    case = Integer()
    rater = String()
    role = String(metadata={"description": "author / cosigner (a motion's co-signer or a proposal's co-proposer)"})
    round = Integer(metadata={"description": "the reply rated: 1 = the first reply, 2 = after a fix"})
    attitude = String(allow_none=True, metadata={"description": "satisfied / basically_satisfied / unsatisfied; "
                                                                "null when rated by the old single rating"})
    result = String(metadata={"description": "satisfied / basically_satisfied / unsatisfied"})
    comment = String()
    at = String()
    department = String(allow_none=True)
    set_aside = Boolean(metadata={"description": "set aside by an upheld appeal; kept in the ledger"})
    callback = Integer(allow_none=True)


class RatingList(Schema):
    items = List(Nested(RatingOut))


class CaseRef(Schema):
    kind = String()
    id = Integer()
    number = String()
    title = String()


class CallbackOut(Schema):
    id = Integer()
    version = Integer()
    case = Nested(CaseRef)
    state = String(metadata={"description": "due / fixing / fixed / explained / appealed / upheld / dismissed"})
    round = Integer()
    department = String(allow_none=True)
    due_on = String()
    called_by = String(allow_none=True)
    called_on = String(allow_none=True)
    how = String(allow_none=True, metadata={"enum": list(HOW)})
    notes = String()
    outcome = String(allow_none=True, metadata={"enum": list(OUTCOMES)})
    fix_by = String(allow_none=True)
    explanation = String()
    decision = String()
    ratings = List(Nested(RatingOut))
    transitions = List(String())
    votes = Integer()
    quorum = Integer()
    tally = List(Dict())


class CallbackItem(CallbackOut):
    """A call-back in a list (the same fields as one call-back)."""


class CallbackList(Schema):
    items = List(Nested(CallbackItem))


class CallbackIn(Schema):
    """The call-back: who is the caller; when (`called_on`, default today), `how`, what was said (`notes`),
    and the `outcome`: `fix` needs `deadline` (the re-handling's new deadline), `explain` needs
    `explanation`; `appeal` (the department says the rating is mistaken) goes to the committee's vote."""
    class Meta:
        unknown = INCLUDE
    version = Integer()
    how = String(required=True, metadata={"enum": list(HOW)})
    notes = String(required=True)
    outcome = String(required=True, metadata={"enum": list(OUTCOMES)})
    called_on = Date()
    deadline = Date()
    explanation = String()
    comment = String()


class AppealVoteIn(Schema):
    class Meta:
        unknown = INCLUDE
    version = Integer()
    reason = String(required=True)
    comment = String()


class CallbackQuery(Schema):
    state = String(metadata={"description": "a call-back state; default `due`; `all` for every state"})


@bp.get("/cases/<kind>/<int:case_id>/ratings")
@bp.output(RatingList)
@bp.doc(summary="A case's ratings ledger: every rating of every reply, set-aside ones flagged")
def case_ratings(kind: str, case_id: int):
    case = kinds.load(kind, case_id, user())
    return {"items": [operations.rating_item(r) for r in operations.ratings_of(case)]}


def _load(callback_id: int) -> Callback:
    cb = db.session.get(Callback, callback_id)
    if cb is None or not operations.can_view(user(), cb):
        raise NotFound(_("No such call-back."))
    return cb


@bp.get("/callbacks/<int:callback_id>")
@bp.output(CallbackOut)
@bp.doc(summary="One call-back with its ratings and the steps the caller may take")
def callback(callback_id: int):
    return operations.callback_item(_load(callback_id), user())


@bp.post("/callbacks/<int:callback_id>")
@bp.input(CallbackIn, validation=False)
@bp.output(CallbackOut)
@bp.doc(summary="Record the call-back and its outcome (union staff)",
        responses={403: "not union staff here", 409: "stale version or already recorded",
                   422: "a field or a guard failed"})
def record(callback_id: int, json_data=None):
    return _fire(callback_id, "record")


# Not `<trigger>`: that name is documented with the cases' triggers (api/base.py).
@bp.post("/callbacks/<int:callback_id>/transitions/<decision>")
@bp.input(AppealVoteIn, validation=False)
@bp.output(CallbackOut)
@bp.doc(summary="The committee's vote on an appeal: `uphold_appeal` (the rating is set aside) or "
                "`dismiss_appeal` (it stands), each with a `reason`; the response says `votes` and `quorum`",
        responses={403: "not on the committee, or 回避", 409: "stale version or not possible now",
                   422: "a field or a guard failed"})
def vote(callback_id: int, decision: str, json_data=None):
    if decision not in ("uphold_appeal", "dismiss_appeal"):
        raise NotFound(_("There is no action called %(name)s.", name=decision), code="unknown_trigger")
    return _fire(callback_id, decision)


def _fire(callback_id: int, trigger: str) -> dict:
    body = json_body()
    cb = _load(callback_id)
    version, comment = step_options(body)
    outcome = engine.fire(cb, trigger, user(), body, version=version, comment=comment)
    out = operations.callback_item(cb, user())
    db.session.commit()
    if outcome.votes is not None:
        out.update(votes=outcome.votes, quorum=outcome.quorum, tally=outcome.tally or [])
    return out


@bp.get("/callbacks/<int:callback_id>/audit")
@bp.output(AuditList)
@bp.doc(summary="A call-back's audit trail with the hash chain's state")
def audit(callback_id: int):
    return subject_audit(_load(callback_id))


@bp.get("/callbacks")
@bp.input(CallbackQuery, location="query", validation=False)
@bp.output(CallbackList)
@bp.doc(summary="Call-backs (回访) of the units where the caller is union staff or on the committee; due first")
def callbacks(query_data=None):
    from flask import request
    state = request.args.get("state") or "due"
    return {"items": [operations.callback_item(cb, user()) for cb in operations.visible(user(), state)]}
