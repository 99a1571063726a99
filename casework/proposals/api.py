"""Proposal API beyond the generic case endpoints: my proposals, possible duplicates, the annual view."""
from __future__ import annotations

from apiflask import Schema
from apiflask.fields import Dict, Float, Integer, List, Nested, String
from flask import request
from flask_babel import gettext as _

from ..accounts.models import Unit
from ..api.base import json_body, make_blueprint, step_options, user
from ..api.schemas import CaseOut
from ..clock import today
from ..core import kinds
from ..core.errors import BadRequest, Forbidden, NotFound
from ..core.inputs import record_id
from ..extensions import db
from . import operations as ops

bp = make_blueprint("proposals_api", __name__, tag="proposals")


class ProposalOut(CaseOut):
    coproposers = List(String())
    evaluators = List(String())
    scores = List(Dict())


class ProposalItem(ProposalOut):
    """A proposal inside a list (its own name keeps the OpenAPI references unambiguous)."""


class ProposalList(Schema):
    items = List(Nested(ProposalItem), required=True)


class SimilarMatch(Schema):
    id = Integer()
    number = String()
    title = String()
    similarity = Float(metadata={"description": "TF-IDF cosine of the two texts, 0-1"})


class DuplicateMatch(SimilarMatch):
    state = String()


class DuplicateMatches(Schema):
    items = List(Nested(DuplicateMatch), required=True)
    threshold = Float()


class ProposalDuplicateIn(Schema):
    original = String(required=True, metadata={"description": "the earlier proposal: id or number"})
    version = Integer()
    comment = String()


class ProposalFigures(Schema):
    collected = Integer()
    graded = Dict(metadata={"description": "excellent / good / general counts (优秀/良好/一般)"})
    adopted = Integer()
    implemented = Integer()
    benefit = String(metadata={"description": "total estimated yearly benefit, yuan"})
    rewarded = Integer()
    rewards_paid = String()


class ProposalUnitFigures(ProposalFigures):
    unit = Integer()
    unit_name = String()


class ProposalAnnual(Schema):
    unit = Integer()
    unit_name = String()
    year = Integer()
    total = Nested(ProposalFigures)
    units = List(Nested(ProposalUnitFigures))


@bp.get("/proposals/mine")
@bp.output(ProposalList)
@bp.doc(summary="Proposals the caller wrote or co-proposed, newest first")
def mine():
    return {"items": [kinds.serialize(c, user()) for c in ops.mine(user())]}


@bp.get("/cases/proposal/<int:case_id>/duplicates")
@bp.output(DuplicateMatches)
@bp.doc(summary="Earlier proposals that say much the same (union staff)",
        responses={403: "not union staff for this proposal"})
def duplicates(case_id: int):
    case = kinds.load("proposal", case_id, user())
    from ..core import settings
    return {"items": [{"id": p.id, "number": p.number, "title": p.title, "state": p.state, "similarity": s}
                      for p, s in ops.duplicates(case, user())],
            "threshold": settings.get(case.unit, "duplicate_threshold") / 100}


@bp.post("/cases/proposal/<int:case_id>/duplicate-of")
@bp.input(ProposalDuplicateIn, validation=False)
@bp.output(ProposalOut)
@bp.doc(summary="Answer a proposal as a duplicate of an earlier one (declines it with a reply naming that one)",
        responses={403: "not union staff", 409: "stale version or not possible now", 422: "no such original"})
def mark_duplicate(case_id: int, json_data=None):
    body = json_body()
    case = kinds.load("proposal", case_id, user())
    version, comment = step_options(body)
    ops.mark_duplicate(case, body.get("original"), user(), version=version, note=comment[:5000])
    db.session.commit()
    return kinds.serialize(case, user())


class SimilarIn(Schema):
    title = String()
    problem = String()
    suggestion = String()


class SimilarMatches(Schema):
    items = List(Nested(SimilarMatch), required=True)


@bp.post("/proposals/similar")
@bp.input(SimilarIn, validation=False)
@bp.output(SimilarMatches)
@bp.doc(summary="Earlier proposals like a text being written: those on the public board and the caller's own")
def similar(json_data=None):
    body = json_body()
    return {"items": ops.similar_for_author(user(), body.get("title"), body.get("problem"), body.get("suggestion"))}


@bp.get("/proposals/annual")
@bp.output(ProposalAnnual)
@bp.doc(summary="A unit's proposals of one year: collected, graded, adopted, implemented, benefit, rewards",
        responses={403: "not staff, committee or admin at that unit"})
def annual():
    units = ops.annual_units(user())
    raw_unit, raw_year = request.args.get("unit", ""), request.args.get("year", "")
    bad_year = raw_year and not (raw_year.isascii() and raw_year.isdigit())
    if raw_unit and record_id(raw_unit) is None or bad_year:
        raise BadRequest(_("`unit` and `year` must be whole numbers."))
    if not units:
        raise Forbidden(_("Only union staff, the committee and administrators see the annual figures."))
    unit = db.session.get(Unit, record_id(raw_unit)) if raw_unit else units[0]
    if unit is None:
        raise NotFound(_("No such unit."))
    if unit not in units:
        raise Forbidden(_("You hold no staff, committee or admin role at this unit."))
    year = int(raw_year) if raw_year else today().year
    if not 2000 <= year <= 2100:
        raise BadRequest(_("`year` is out of range."), fields={"year": "2000-2100"})
    return ops.annual(unit, year)
