"""API of handling by departments: a case's routings (time spent, 签收, 退办) and co-handlers' opinions. The
steps themselves are transitions: acknowledge, return_misrouted, contribute, and file / adopt to re-route."""
from __future__ import annotations

from apiflask import Schema
from apiflask.fields import Boolean, Integer, List, Nested, String

from ..api.base import make_blueprint, user
from ..core import kinds
from . import operations as ops

bp = make_blueprint("handling_api", __name__, tag="handling")


class RoutingOut(Schema):
    department = String()
    department_code = String()
    routed_on = String()
    receipt_due = String(metadata={"description": "sign for it (签收) by this date"})
    acknowledged_on = String(allow_none=True)
    acknowledged_by = String(allow_none=True)
    returned_on = String(allow_none=True, metadata={"description": "退办: returned as not the department's"})
    return_reason = String(allow_none=True)
    working_days = Integer(metadata={"description": "working days spent with this department"})


class OpinionOut(Schema):
    department = String()
    department_code = String()
    due = String()
    text = String(allow_none=True)
    submitted_on = String(allow_none=True)
    on_time = Boolean(allow_none=True)
    overdue = Boolean(metadata={"description": "not given and past its due date"})
    missing_at_reply = Boolean(metadata={"description": "the lead replied without it, past its due date"})


class HandlingOut(Schema):
    routings = List(Nested(RoutingOut), required=True)
    opinions = List(Nested(OpinionOut), required=True,
                    metadata={"description": "会办意见 of the current routing"})
    awaiting_receipt = Boolean()
    receipt_due = String(allow_none=True)
    working_days = Integer(metadata={"description": "working days spent with departments in all"})


@bp.get("/cases/<kind>/<int:case_id>/handling")
@bp.output(HandlingOut)
@bp.doc(summary="Where a motion or proposal was routed: receipt (签收), returns (退办) with their reasons, "
                "working days per department, and the co-handling departments' opinions (会办意见)",
        responses={404: "no such case, or not visible to the caller"})
def handling(kind: str, case_id: int):
    case = kinds.load(kind, case_id, user())
    return ops.handling(case)
