"""API: the reads log of an aid request (union staff, the applicant)."""
from __future__ import annotations

from apiflask import Schema
from apiflask.fields import Boolean, Dict, Integer, List, Nested, String
from flask_babel import gettext as _

from ..api.base import json_body, make_blueprint, step_options, user as _user
from ..core import kinds
from ..core.errors import Forbidden
from .models import verify_access_chain
from .views import entries_for, may_read_log, what_label

bp = make_blueprint("privacy_api", __name__, tag="privacy")


class AccessOut(Schema):
    seq = Integer(required=True)
    at = String(required=True)
    who = String(required=True, metadata={"description": "user name, or anonymous"})
    name = String(allow_none=True)
    what = String(required=True, metadata={"example": "details"})
    what_label = String()
    allowed = Boolean(required=True)
    hash = String(required=True)


class AccessList(Schema):
    intact = Boolean(required=True)
    items = List(Nested(AccessOut), required=True)


@bp.get("/cases/aid/<int:case_id>/access-log")
@bp.output(AccessList)
@bp.doc(summary="Reads of an aid request's sensitive parts, oldest first, with the chain's state",
        responses={403: "not union staff of the unit or the applicant", 404: "absent or not visible"})
def access_log(case_id: int):
    user = _user()
    case = kinds.load("aid", case_id, user)
    if not may_read_log(user, case):
        raise Forbidden(_("Only union staff and the applicant may see who read this request."))
    from ..core.permissions import sees_reviewer_notes
    ok, _bad = verify_access_chain(f"case:{case.id}")
    names = sees_reviewer_notes(user, case)  # attachment names only to those who see every attachment
    items = []
    for e in entries_for(case):
        what = e.what if names else e.what.partition(":")[0]
        items.append({"seq": e.seq, "at": e.at.isoformat() + "Z", "who": e.actor_label,
                      "name": e.user.name if e.user else None, "what": what, "what_label": what_label(what),
                      "allowed": e.allowed, "hash": e.hash})
    return {"intact": ok, "items": items}


class CorrectionIn(Schema):
    text = String(required=True, metadata={"description": "what should be corrected"})


class CorrectionOut(Schema):
    id = Integer(required=True)
    at = String(required=True)
    text = String(required=True)
    channel = String(required=True)
    status = String(required=True, metadata={"example": "open"})
    answer = String()
    answered_at = String(allow_none=True)


class MyDataOut(Schema):
    generated_at = String(required=True)
    account = Dict(required=True)
    roles = List(Dict())
    departments = List(String())
    delegations = List(Dict())
    identity = Dict(allow_none=True, metadata={"description": "the resident ID number on file, if any"})
    cases = List(Dict(), metadata={"description": "the caller's own cases, as their case page shows them"})
    took_part_in = List(Dict(), metadata={"description": "others' cases: which, and in what role only"})
    votes = List(Dict())
    household = Dict(allow_none=True)
    notifications = List(Dict())
    notification_settings = Dict(required=True, metadata={
        "description": "`mode` (immediate | digest), `since`, `channels` (inbox, email), `email`"})
    mail = List(Dict(), metadata={"description": "e-mails to the caller: subject, to, state, kind, when; no bodies"})
    api_tokens = List(Dict())
    objections = List(Dict(), metadata={"description": "objections and reports made under the caller's name"})
    my_reads = List(Dict())
    corrections = List(Dict())


@bp.get("/me/data")
@bp.output(MyDataOut)
@bp.doc(summary="Everything the service holds about the caller (PIPL art. 45)")
def my_data():
    from . import mydata
    return mydata.collect(_user())


@bp.post("/me/corrections")
@bp.input(CorrectionIn, validation=False)
@bp.output(CorrectionOut, status_code=201)
@bp.doc(summary="Ask for a correction of the caller's data (PIPL art. 46)", responses={422: "no text"})
def ask_correction(json_data=None):
    from ..extensions import db
    from . import corrections, mydata
    body = json_body()
    row = corrections.ask(_user(), body.get("text"))
    db.session.commit()
    return mydata._correction(row)


class HoldOut(Schema):
    reason = String(allow_none=True, metadata={"description": "union staff of the unit only"})
    at = String(required=True)
    by = String(required=True, metadata={"description": "user name of who placed it"})


class RetentionOut(Schema):
    case = String(required=True, metadata={"example": "A2026-00012"})
    version = Integer(required=True)
    years = Integer(required=True, metadata={"description": "the category's retention period at the unit"})
    due_on = String(allow_none=True, metadata={"description": "first day it may be anonymised; null while open"})
    anonymised_at = String(allow_none=True)
    hold = Nested(HoldOut, allow_none=True)


class HoldIn(Schema):
    reason = String(required=True, metadata={"description": "why the hold is placed or lifted"})
    version = Integer(metadata={"description": "the case's version (optimistic lock)"})


def _retention(case, user) -> dict:
    from ..core.engine import lock_version
    from ..core.permissions import roles_at
    from . import retention
    staff = "union_staff" in roles_at(user, case.unit)
    hold = None
    if case.hold_reason:
        hold = {"reason": case.hold_reason if staff else None, "at": case.hold_at.isoformat() + "Z",
                "by": case.hold_by.username if case.hold_by else ""}
    due = retention.due_on(case)
    return {"case": case.number, "version": lock_version(case), "years": retention.years_for(case),
            "due_on": due.isoformat() if due else None,
            "anonymised_at": case.anonymised_at.isoformat() + "Z" if case.anonymised_at else None, "hold": hold}


@bp.get("/cases/aid/<int:case_id>/retention")
@bp.output(RetentionOut)
@bp.doc(summary="How long an aid request's personal information is kept, its legal hold, its anonymisation",
        responses={404: "absent or not visible"})
def retention_state(case_id: int):
    user = _user()
    return _retention(kinds.load("aid", case_id, user), user)


def _hold_step(case_id: int, trigger: str) -> dict:
    from ..core.engine import fire
    from ..extensions import db
    user = _user()
    case = kinds.load("aid", case_id, user)
    body = json_body()
    version, _comment = step_options(body)
    reason = body.get("reason")
    fire(case, trigger, user, {}, version=version, comment=reason if isinstance(reason, str) else "")
    out = _retention(case, user)
    db.session.commit()
    return out


@bp.post("/cases/aid/<int:case_id>/hold")
@bp.input(HoldIn, validation=False)
@bp.output(RetentionOut)
@bp.doc(summary="Place a legal hold: the request is not anonymised while it lasts (the `place_hold` step)",
        responses={403: "not union staff of the unit", 409: "stale version",
                   422: "no reason, or already on hold"})
def place_hold(case_id: int, json_data=None):
    return _hold_step(case_id, "place_hold")


@bp.delete("/cases/aid/<int:case_id>/hold")
@bp.input(HoldIn, validation=False)
@bp.output(RetentionOut)
@bp.doc(summary="Lift the legal hold (the `lift_hold` step); the next sweep anonymises it if its period ended",
        responses={403: "not union staff of the unit", 409: "stale version", 422: "no reason, or not on hold"})
def lift_hold(case_id: int, json_data=None):
    return _hold_step(case_id, "lift_hold")
