"""Motion API beyond the generic case endpoints: the session report, my motions, co-handling."""
from __future__ import annotations

from apiflask import Schema
from apiflask.fields import Boolean, Dict, Float, Integer, List, Nested, String
from flask_babel import gettext as _

from ..api.base import make_blueprint, user
from ..api.schemas import CaseOut
from ..core import kinds
from ..core.errors import Forbidden, NotFound
from ..core.models import CongressSession
from ..extensions import db
from . import operations as ops

bp = make_blueprint("motions_api", __name__, tag="motions")


class MotionOut(CaseOut):
    co_departments = List(Integer())


class MotionList(Schema):
    items = List(Nested(MotionOut), required=True)


class SessionReportRow(Schema):
    id = Integer()
    number = String()
    title = String()
    author = String()
    author_name = String()
    cosigners = Integer()
    state = String()
    department = String(allow_none=True)
    department_id = Integer(allow_none=True)
    co_departments = List(String())
    deadline = String(allow_none=True)
    replied_on = String(allow_none=True, metadata={"description": "date of the last reply"})
    replies = Integer()
    on_time = Boolean(allow_none=True, metadata={"description": "every reply by its deadline; null: no deadline"})
    reopened = Boolean()
    rating = String(allow_none=True, metadata={"description": "satisfied / basically_satisfied / no_rating"})
    merged_into = String(allow_none=True)


class SessionReportSession(Schema):
    id = Integer()
    name = String()
    unit = Integer()
    unit_name = String()
    status = String()
    cosigning_until = String()


class SessionReport(Schema):
    session = Nested(SessionReportSession)
    motions = List(Nested(SessionReportRow))
    count = Integer()
    states = Dict()
    ratings = Dict()
    due = Integer(metadata={"description": "motions with a handling deadline, replied or overdue"})
    on_time = Integer()
    on_time_rate = Float(allow_none=True)


@bp.get("/sessions/<int:session_id>/report")
@bp.output(SessionReport)
@bp.doc(summary="A congress session's motions with state, department, reply date, rating; on-time rate",
        responses={403: "may not see this session's motions", 404: "no such session"})
def report(session_id: int):
    session = db.session.get(CongressSession, session_id)
    if session is None:
        raise NotFound(_("No such congress session."))
    if not ops.sees_session(user(), session):
        raise Forbidden(_("Only those who see every motion of this session's unit see its report."))
    return ops.session_report(session)


@bp.get("/motions/mine")
@bp.output(MotionList)
@bp.doc(summary="Motions the caller wrote or co-signed, newest first")
def mine():
    return {"items": [kinds.serialize(m, user()) for m in ops.mine(user())]}


@bp.get("/motions/co-handling")
@bp.output(MotionList)
@bp.doc(summary="Open motions one of the caller's departments co-handles, nearest deadline first")
def co_handling():
    return {"items": [kinds.serialize(m, user()) for m in ops.co_handling(user())]}
