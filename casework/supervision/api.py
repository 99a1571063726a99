"""Supervision API: a case's progress notes and slips, issuing and answering slips, the caller's open slips,
the supervision board's figures (API.md, "Supervision")."""
from __future__ import annotations

from apiflask import Schema
from apiflask.fields import Boolean, Dict, Float, Integer, List, Nested, String
from flask import request
from flask_babel import gettext as _

from ..accounts.models import Unit
from ..api.base import json_body, make_blueprint, step_options, subject_audit, user
from ..api.schemas import AuditList
from ..core import engine, kinds
from ..core.errors import BadRequest, Forbidden, NotFound
from ..core.inputs import record_id
from ..extensions import db
from . import operations as ops

bp = make_blueprint("supervision_api", __name__, tag="supervision")


class ProgressNoteOut(Schema):
    id = Integer(required=True)
    at = String(required=True)
    department = String(allow_none=True)
    by = String(required=True, metadata={"description": "user name of the handler who wrote it"})
    text = String(required=True)


class ProgressNoteItem(ProgressNoteOut):
    """A note in a list (its own class: APIFlask registers a class met nested in a list and as an output
    twice)."""


class ProgressNoteList(Schema):
    items = List(Nested(ProgressNoteItem), required=True)


class ProgressNoteIn(Schema):
    text = String(required=True, metadata={"description": "where the handling stands"})
    version = Integer(metadata={"description": "the case's version (optimistic lock)"})


class SlipOut(Schema):
    id = Integer(required=True)
    number = String(required=True, metadata={"description": "the slip's reference number", "example": "工督〔2026〕3号"})
    case = String(required=True, metadata={"description": "the case's number"})
    case_id = Integer(required=True)
    kind = String(required=True)
    department = String(required=True)
    colour = String(required=True, metadata={"enum": ["blue", "yellow", "red"]})
    reason = String(required=True, metadata={"enum": ["overdue", "unsatisfied", "no_progress",
                                                      "deadline_near", "staff"]})
    state = String(required=True, metadata={"enum": ["issued", "answered", "closed"]})
    version = Integer(required=True)
    issued_at = String(required=True)
    issued_by = String(allow_none=True, metadata={"description": "null: issued by the scheduler's sweep"})
    reply_by = String(required=True)
    remark = String()
    answer = String()
    answered_at = String(allow_none=True)
    answered_on_time = Boolean(allow_none=True)
    notice_id = Integer(allow_none=True, metadata={"description": "GET /notices/{id}/pdf"})
    transitions = List(String(), metadata={"description": "what the caller may do now: answer, close"})


class SlipItem(SlipOut):
    """A slip in a list (see ProgressNoteItem)."""


class SlipList(Schema):
    items = List(Nested(SlipItem), required=True)


class SlipIn(Schema):
    colour = String(required=True, metadata={"enum": ["blue", "yellow", "red"]})
    remark = String(metadata={"description": "the supervising staff's words"})


class AnswerIn(Schema):
    answer = String(required=True)
    version = Integer(metadata={"description": "the slip's version (optimistic lock)"})


class CloseIn(Schema):
    comment = String()
    version = Integer()


class BoardRow(Schema):
    rank = Integer(required=True)
    department_id = Integer(required=True)
    department = String(required=True)
    code = String()
    open = Integer(required=True, metadata={"description": "cases under supervision now (as open_items)"})
    open_items = Integer(required=True, metadata={"description": "cases under supervision now"})
    open_slips = Integer(required=True, metadata={"description": "slips issued in the period, still open"})
    slips = Dict(keys=String(), values=Integer(), metadata={"description": "slips issued in the period by colour"})
    slips_total = Integer()
    due = Integer(metadata={"description": "slips of the period answered or past their reply-by date"})
    on_time = Integer()
    on_time_rate = Float(allow_none=True)
    ratings = Integer(metadata={"description": "rating answers given in the period (attitude and result each "
                                              "count one; set-aside ratings do not)"})
    average_rating = Float(allow_none=True, metadata={"description": "满意 3, 基本满意 2, 不满意 1"})
    satisfaction = Float(allow_none=True, metadata={"description": "share of the answers that are 满意 or 基本满意"})
    callbacks_opened = Integer(metadata={"description": "call-backs (回访) opened in the period"})
    callbacks_made = Integer(metadata={"description": "of those, the call-backs made (recorded)"})
    callback_rate = Float(allow_none=True, metadata={"description": "made / opened; the target is 1.0"})


class BoardOut(Schema):
    unit = Dict()
    period = String(required=True, metadata={"description": "YYYY-MM, YYYY, or first/last day"})
    from_ = String(data_key="from", required=True, metadata={"description": "the period's first day"})
    to = String(required=True, metadata={"description": "the period's last day (included)"})
    period_label = String()
    departments = List(Nested(BoardRow), required=True)
    totals = Dict()


def _slip_out(s) -> dict:
    return {"id": s.id, "number": s.number, "case": s.case.number, "case_id": s.case_id, "kind": s.case.kind,
            "department": s.department.name, "colour": s.colour, "reason": s.reason, "state": s.status,
            "version": s.version, "issued_at": s.issued_at.isoformat() + "Z",
            "issued_by": s.issued_by.username if s.issued_by else None, "reply_by": s.reply_by.isoformat(),
            "remark": s.remark, "answer": s.answer,
            "answered_at": s.answered_at.isoformat() + "Z" if s.answered_at else None,
            "answered_on_time": s.answered_on_time, "notice_id": s.notice_id,
            "transitions": engine.available(s, user())}


def _slip_committed(slip) -> dict:
    """The slip after a step, read before the commit expires it."""
    out = _slip_out(slip)
    db.session.commit()
    return out


def _note_out(n) -> dict:
    return {"id": n.id, "at": n.at.isoformat() + "Z", "department": n.department.name if n.department else None,
            "by": n.user.username, "text": n.text}


@bp.post("/cases/<kind>/<int:case_id>/progress")
@bp.input(ProgressNoteIn, validation=False)
@bp.output(ProgressNoteOut, status_code=201)
@bp.doc(summary="Add a progress note: the `progress` step, by a handler of the lead department",
        responses={409: "stale version, or the case is not being handled"})
def add_progress(kind: str, case_id: int, json_data=None):
    body = json_body()
    case = kinds.load(kind, case_id, user())
    version, _comment = step_options(body)
    engine.fire(case, "progress", user(), {"text": body.get("text")}, version=version)
    out = _note_out(ops.notes_of(case)[-1])
    db.session.commit()
    return out


@bp.post("/cases/<kind>/<int:case_id>/slips")
@bp.input(SlipIn, validation=False)
@bp.output(SlipOut, status_code=201)
@bp.doc(summary="Issue a supervision slip to the case's handling department (union staff)",
        responses={403: "not union staff of the case's unit", 409: "the case is not under supervision"})
def issue(kind: str, case_id: int, json_data=None):
    body = json_body()
    case = kinds.load(kind, case_id, user())
    remark = body.get("remark") or ""
    if not isinstance(remark, str) or not isinstance(body.get("colour", ""), str):
        raise BadRequest(_("`colour` and `remark` must be text."), fields={"remark": "text"})
    slip = ops.issue(case, user(), colour=body.get("colour") or "", remark=remark)
    return _slip_committed(slip)


@bp.get("/slips/<int:slip_id>")
@bp.output(SlipOut)
@bp.doc(summary="One slip")
def get_slip(slip_id: int):
    return _slip_out(ops.load(slip_id, user()))


@bp.post("/slips/<int:slip_id>/answer")
@bp.input(AnswerIn, validation=False)
@bp.output(SlipOut)
@bp.doc(summary="Answer a slip (a handler of its department)",
        responses={409: "stale version, or already answered or closed"})
def answer(slip_id: int, json_data=None):
    body = json_body()
    slip = ops.load(slip_id, user())
    version, _comment = step_options(body)
    ops.answer(slip, user(), body.get("answer"), version=version)
    return _slip_committed(slip)


@bp.post("/slips/<int:slip_id>/close")
@bp.input(CloseIn, validation=False)
@bp.output(SlipOut)
@bp.doc(summary="Close a slip (union staff)", responses={409: "stale version, or already closed"})
def close(slip_id: int, json_data=None):
    body = json_body()
    slip = ops.load(slip_id, user())
    version, comment = step_options(body)
    ops.close(slip, user(), comment, version=version)
    return _slip_committed(slip)


@bp.get("/slips/<int:slip_id>/audit")
@bp.output(AuditList)
@bp.doc(summary="A slip's audit trail (issue, answer, close) with the hash chain's state")
def slip_audit(slip_id: int):
    return subject_audit(ops.load(slip_id, user()))


@bp.get("/cases/<kind>/<int:case_id>/progress")
@bp.output(ProgressNoteList)
@bp.doc(summary="A motion's or proposal's progress notes (办理进展), oldest first")
def progress(kind: str, case_id: int):
    case = kinds.load(kind, case_id, user())
    return {"items": [_note_out(n) for n in ops.notes_of(case)]}


@bp.get("/cases/<kind>/<int:case_id>/slips")
@bp.output(SlipList)
@bp.doc(summary="A case's supervision slips (督办单) that the caller may see, oldest first")
def case_slips(kind: str, case_id: int):
    case = kinds.load(kind, case_id, user())
    return {"items": [_slip_out(s) for s in ops.for_case(case) if ops.may_see(user(), s)]}


@bp.get("/slips")
@bp.output(SlipList)
@bp.doc(summary="The open slips addressed to the caller's departments, earliest reply-by date first")
def my_slips():
    return {"items": [_slip_out(s) for s in ops.open_for_user(user())]}


class BoardQuery(Schema):
    unit = Integer(metadata={"description": "unit id (default: the caller's highest)"})
    from_ = String(data_key="from", metadata={"description": "first day, YYYY-MM-DD (alone: up to today)",
                                              "format": "date"})
    to = String(metadata={"description": "last day, YYYY-MM-DD, included (alone: from the first of its month)",
                          "format": "date"})
    period = String(metadata={"description": "YYYY-MM or YYYY (default: this month); `from`/`to` win over it"})


@bp.get("/supervision")
@bp.input(BoardQuery, location="query", validation=False)
@bp.output(BoardOut)
@bp.doc(summary="The supervision board's figures per department for a unit and period",
        responses={400: "`from` or `to` is not a day, out of range, or `to` is before `from`",
                   403: "holds no union staff, committee or motion committee role", 404: "no such unit",
                   422: "bad period"})
def board(**_ignored):
    raw = request.args.get("unit")
    if raw not in (None, ""):
        unit_id = record_id(raw)
        unit = db.session.get(Unit, unit_id) if unit_id else None
        if unit is None:
            raise NotFound(_("There is no such unit."), code="unknown_unit")
        if not ops.may_see_board(user(), unit):
            raise Forbidden(_("Only union staff and committee members see the supervision board."))
    else:
        units = ops.board_units(user())
        if not units:
            raise Forbidden(_("Only union staff and committee members see the supervision board."))
        unit = units[0]
    period = ops.board_period(request.args)
    out = ops.figures(unit, period)
    for row in out["departments"]:
        row["open"] = row["open_items"]
    return {**out, "from_": period.start.isoformat(), "to": period.last.isoformat()}
