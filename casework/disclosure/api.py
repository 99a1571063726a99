"""Board API (shared/design/API.md, "Disclosure"): reading needs no token."""
from __future__ import annotations

from apiflask.fields import Boolean, Dict, Integer, List, Nested, String
from apiflask import Schema
from flask import g, url_for
from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.orm import joinedload

from ..api.base import json_body, make_blueprint, public, subject_audit, user
from ..api.schemas import AuditList
from ..core.errors import BadRequest, Forbidden, Invalid, NotFound
from ..core.inputs import record_id
from ..core.permissions import grants
from ..extensions import db, limited
from ..money import format_money
from ..core import engine
from . import human, operations
from .models import Disclosure, DisclosureItem

bp = make_blueprint("board_api", __name__, tag="disclosure")


class ItemOut(Schema):
    id = Integer()
    seq = Integer()
    masked_name = String()
    unit = String()
    category = String()
    amount = String(allow_none=True)
    withdrawn = Boolean()


class VersionOut(Schema):
    id = Integer()
    version = Integer()
    status = String()
    correction = String()


class PostingFields(Schema):
    id = Integer()
    kind = String()
    unit = Integer()
    unit_name = String()
    title = String()
    status = String()
    version = Integer()
    starts_at = String(allow_none=True)
    ends_at = String(allow_none=True)
    pdf_url = String(allow_none=True)
    signers = List(String())


class PostingOut(PostingFields):
    items = List(Nested(ItemOut))
    versions = List(Nested(VersionOut))
    votes = Integer()
    quorum = Integer()
    tally = List(Dict())


class PostingItem(PostingFields):
    """A posting in the board list (its items and versions come with the posting itself)."""


class BoardOut(Schema):
    items = List(Nested(PostingItem))


class ObjectionIn(Schema):
    item = Integer(required=True)
    text = String(required=True)
    anonymous = Boolean()
    contact = String()
    challenge = String(required=True, metadata={"description": "the `id` of a check from POST /api/v1/challenges"})
    answer = String(required=True, metadata={"description": "the answer to its question (digits); one try each"})


class ChallengeOut(Schema):
    id = String(required=True, metadata={"description": "send it back as `challenge`; good for one try, 2 hours"})
    question = String(required=True)


class TrackingOut(Schema):
    tracking_code = String()
    display_code = String(metadata={"description": "the code grouped XXXX-XXXX-XXXX-XXXX; lookups take either"})
    acknowledged_at = String(allow_none=True)
    ack_due_on = String(allow_none=True)
    reward = Integer(allow_none=True, metadata={"description": "fen; claimed with the code at the union office"})
    kind = String()
    status = String()
    answer = String()
    answered_at = String(allow_none=True)
    due_on = String()


class SignoffIn(Schema):
    comment = String()


def _public_status(status: str) -> str:
    return {"awaiting_signoff": "scheduled", "superseded": "ended"}.get(status, status)


def posting(d: Disclosure, full: bool = False) -> dict:
    out = {"id": d.id, "kind": d.kind, "unit": d.unit_id, "unit_name": d.unit.name, "title": d.title,
           "status": _public_status(d.status), "version": d.version,
           "starts_at": d.starts_at.isoformat() + "Z" if d.starts_at else None,
           "ends_at": d.ends_on.isoformat() if d.ends_on else None, "signers": d.signers or [],
           "pdf_url": _pdf_url(d)}
    if full:
        out["items"] = [{"id": i.id, "seq": i.seq, "masked_name": i.masked_name, "unit": i.unit_name,
                         "category": i.category, "amount": format_money(i.amount), "withdrawn": i.withdrawn}
                        for i in d.items]
        out["versions"] = [{"id": v.id, "version": v.version, "status": _public_status(v.status),
                            "correction": v.correction} for v in operations.versions(d)]
    return out


def _pdf_url(d: Disclosure) -> str | None:
    if d.status == "awaiting_signoff":
        return None
    return url_for("notices.board_pdf", disclosure_id=d.id)


def _committee_sees(d: Disclosure) -> bool:
    u = getattr(g, "api_user", None)
    return u is not None and any(gr.role == "committee" and d.unit.path.startswith(gr.unit_path)
                                 for gr in grants(u))


@bp.get("/board")
@public
@bp.output(BoardOut)
@bp.doc(summary="Current and past postings (committee members also see those awaiting sign-off)")
def board():
    rows = db.session.scalars(select(Disclosure).options(joinedload(Disclosure.unit))
                              .order_by(Disclosure.id.desc()).limit(500)).all()
    return {"items": [posting(d) for d in rows
                      if d.status in ("posted", "ended", "superseded") or _committee_sees(d)]}


def _load(disclosure_id: int) -> Disclosure:
    d = db.session.get(Disclosure, disclosure_id)
    if d is None or (d.status == "awaiting_signoff" and not _committee_sees(d)):
        raise NotFound(_("No such posting."))
    return d


@bp.get("/board/<int:disclosure_id>")
@public
@bp.output(PostingOut)
@bp.doc(summary="One posting with its masked items and its versions")
def board_one(disclosure_id: int):
    d = _load(disclosure_id)
    out = posting(d, full=True)
    if d.status == "awaiting_signoff":
        out["items"] = [{"seq": n, "masked_name": v["masked_name"], "unit": v["unit_name"],
                         "category": v["category"], "amount": format_money(v["amount"]), "withdrawn": False}
                        for n, v in enumerate(operations.preview_items(d), start=1)]
    return out


@bp.post("/board/<int:disclosure_id>/signoff")
@bp.input(SignoffIn, validation=False)
@bp.output(PostingOut)
@bp.doc(summary="Sign a posting off (a committee quorum vote); at the quorum it goes up")
def signoff(disclosure_id: int, json_data=None):
    d = _load(disclosure_id)
    body = json_body()
    outcome = engine.fire(d, "sign_off", user(), {}, comment=str(body.get("comment") or "")[:2000])
    db.session.commit()
    return {**posting(d, full=True), "votes": outcome.votes, "quorum": outcome.quorum, "tally": outcome.tally or []}


@bp.get("/board/<int:disclosure_id>/audit")
@bp.output(AuditList)
@bp.doc(summary="A posting's audit trail (sign-offs, posting, end, corrections) with the hash chain's state")
def board_audit(disclosure_id: int):
    d = _load(disclosure_id)
    if not operations.may_read_audit(user(), d):
        raise Forbidden(_("Only the committee and union staff read a posting's audit trail."))
    return subject_audit(d)


@bp.post("/challenges")
@limited("challenge")
@public
@bp.output(ChallengeOut, status_code=201)
@bp.doc(summary="A human check for an anonymous objection or report: answer its question once, in the request")
def challenges():
    token, question = human.new()
    return {"id": token, "question": question}


@bp.post("/board/<int:disclosure_id>/objections")
@limited("public-post")
@public
@bp.input(ObjectionIn, validation=False)
@bp.output(TrackingOut, status_code=201)
@bp.doc(summary="Object to an item during its posting period, with a solved human check; returns a tracking code",
        responses={422: "A field or a guard failed, or the human check is missing, wrong, used or expired"})
def objections(disclosure_id: int, json_data=None):
    d = _load(disclosure_id)
    body = json_body()
    item_id = body.get("item")
    if isinstance(item_id, bool) or not isinstance(item_id, int):
        raise BadRequest(_("`item` must be the item's id."), fields={"item": "integer"})
    item = db.session.get(DisclosureItem, item_id) if record_id(item_id) else None
    if item is None or item.disclosure_id != d.id:
        raise NotFound(_("This posting has no such item."))
    anonymous = body.get("anonymous", True)
    if not isinstance(anonymous, bool):
        raise BadRequest(_("`anonymous` must be true or false."), fields={"anonymous": "boolean"})
    if not human.passed(body.get("challenge"), body.get("answer")):
        raise Invalid(_("Answer a new human check (POST /api/v1/challenges): this one is missing, wrong, used "
                        "or expired."), code="human_check", fields={"challenge": "required", "answer": "required"})
    row = operations.object_to(item, body.get("text"), anonymous, getattr(g, "api_user", None),
                               str(body.get("contact") or ""))
    db.session.commit()
    return tracking(row)


def tracking(row) -> dict:
    return {"tracking_code": row.tracking_code, "display_code": operations.grouped(row.tracking_code),
            "acknowledged_at": row.acknowledged_at.isoformat() + "Z" if row.acknowledged_at else None,
            "ack_due_on": row.ack_due_on.isoformat() if row.ack_due_on else None, "reward": row.reward,
            "kind": row.kind, "status": row.status, "answer": row.answer,
            "answered_at": row.answered_at.isoformat() + "Z" if row.answered_at else None,
            "due_on": row.due_on.isoformat()}


@bp.get("/objections/<code>")
@limited("lookup")
@public
@bp.output(TrackingOut)
@bp.doc(summary="Follow an objection or report by its tracking code")
def follow(code: str):
    return tracking(operations.find_tracking(code))
