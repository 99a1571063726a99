"""OpenAPI shapes of the JSON API (shared/design/API.md). Inputs are validated by the same parsers the
web forms use, so messages follow Accept-Language; these schemas document and shape the answers."""
from __future__ import annotations

from apiflask import Schema
from apiflask.fields import Boolean, Dict, Float, Integer, List, Nested, String
from marshmallow import INCLUDE


class ErrorBody(Schema):
    code = String(required=True, metadata={"description": "machine-readable reason"})
    message = String(required=True, metadata={"description": "human-readable, localised"})
    fields = Dict(keys=String(), values=String())


class Error(Schema):
    error = Nested(ErrorBody, required=True)


class TokenIn(Schema):
    username = String(required=True)
    password = String(required=True)
    label = String()


class TokenOut(Schema):
    token = String(required=True)
    id = Integer()
    expires_at = String()


class CaseIn(Schema):
    """Aid: category, amount_requested, circumstances, applicant. Proposal: title, problem, suggestion,
    expected_benefit. Motion: title, reasons, proposal_text, session."""
    class Meta:
        unknown = INCLUDE
    category = String(metadata={"enum": ["hardship", "illness", "education", "holiday_visit"]})
    amount_requested = String(metadata={"example": "2000.00"})
    circumstances = String()
    applicant = String()
    title = String()
    problem = String()
    suggestion = String()
    expected_benefit = String()
    reasons = String()
    proposal_text = String()
    session = Integer()


class TransitionIn(Schema):
    """`version` (the case's current version) and `comment`, plus the trigger's own fields."""
    class Meta:
        unknown = INCLUDE
    version = Integer(metadata={"description": "the version you saw; a stale one gets 409"})
    comment = String()


class CaseOut(Schema):
    id = Integer(required=True)
    kind = String(required=True)
    number = String(required=True)
    state = String(required=True)
    version = Integer(required=True)
    unit = Integer(required=True)
    unit_name = String()
    title = String()
    applicant = String()
    applicant_name = String()
    created_at = String()
    state_entered_at = String()
    deadline = String(allow_none=True)
    department = Integer(allow_none=True)
    transitions = List(String(), required=True)
    # aid
    category = String()
    amount_requested = String(allow_none=True)
    amount_proposed = String(allow_none=True)
    amount_approved = String(allow_none=True)
    circumstances = String()
    details = Dict()
    # proposal
    problem = String()
    suggestion = String()
    expected_benefit = String()
    mean_score = Float(allow_none=True)
    grade = String(allow_none=True)
    benefit = String(allow_none=True)
    reward = String(allow_none=True)
    reply = String()
    coproposers = List(String())
    evaluators = List(String())
    duplicate_of = String(allow_none=True)
    scores = List(Dict())
    # motion
    co_departments = List(Integer())
    reasons = String()
    proposal_text = String()
    session = Integer()
    cosigners = List(String())
    merged_into = Integer(allow_none=True)
    reopened = Boolean()
    satisfaction = String(allow_none=True)
    # a transition's answer
    votes = Integer()
    quorum = Integer()


class CaseItem(CaseOut):
    """A case inside a list (its own name keeps the OpenAPI references unambiguous)."""


class CasePage(Schema):
    items = List(Nested(CaseItem), required=True)
    next = String(allow_none=True)


class QueueItem(Schema):
    case = Nested(CaseItem, required=True)
    transitions = List(String(), required=True)


class Queue(Schema):
    items = List(Nested(QueueItem), required=True)


class AuditOut(Schema):
    seq = Integer()
    at = String()
    actor = String()
    on_behalf_of = String(allow_none=True)
    trigger = String()
    from_ = String(data_key="from")
    to = String()
    comment = String()
    changes = Dict()
    hash = String()


class AuditList(Schema):
    items = List(Nested(AuditOut), required=True)
    intact = Boolean()


class RoleOut(Schema):
    role = String()
    unit = Integer()
    unit_name = String()
    delegated_by = String(allow_none=True)


class MeOut(Schema):
    username = String()
    name = String()
    unit = Integer()
    unit_name = String()
    roles = List(Nested(RoleOut))


class UnitOut(Schema):
    id = Integer()
    code = String()
    name = String()
    level = String()
    parent = Integer(allow_none=True)


class UnitList(Schema):
    items = List(Nested(UnitOut))


class DepartmentOut(Schema):
    id = Integer()
    code = String()
    name = String()
    handlers = List(String())


class DepartmentList(Schema):
    items = List(Nested(DepartmentOut))


class SessionOut(Schema):
    id = Integer()
    name = String()
    unit = Integer()
    cosigning_until = String()
    status = String()


class SessionList(Schema):
    items = List(Nested(SessionOut))
