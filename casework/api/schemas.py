"""OpenAPI shapes of the JSON API (shared/design/API.md). Inputs are validated by the same parsers the
web forms use, so messages follow Accept-Language; these schemas document and shape the answers."""
from __future__ import annotations

from apiflask import Schema
from apiflask.fields import Boolean, Date, Dict, Float, Integer, List, Nested, String
from marshmallow import INCLUDE


class ErrorBody(Schema):
    code = String(required=True, metadata={"description": "machine-readable reason"})
    message = String(required=True, metadata={"description": "human-readable, localised"})
    fields = Dict(keys=String(), values=String())


class Error(Schema):
    error = Nested(ErrorBody, required=True)


class OrderQuery(Schema):
    """`?sort=&dir=` of the case lists and the queue (documented here, read by casework.core.queries)."""
    sort = String(metadata={"description": "number, title, state (in workflow order), deadline (none last), "
                                           "created or updated; then by id"})
    dir = String(metadata={"description": "asc (the default) or desc"})


class DaysQuery(OrderQuery):
    """`?from=&to=` of the case lists and the queue (read by casework.core.queries.day_span)."""
    from_ = String(data_key="from", metadata={"description": "only cases created on or after this day "
                                                            "(YYYY-MM-DD, the union's time zone)"})
    to = String(metadata={"description": "only cases created on or before this day (YYYY-MM-DD, included)"})


class CaseListQuery(DaysQuery):
    state = String(metadata={"description": "only cases in this state"})
    unit = Integer(metadata={"description": "only cases of this unit and the units under it"})
    after = String(metadata={"description": "the `next` cursor of the page before"})


class TokenIn(Schema):
    username = String(required=True)
    password = String(required=True)
    label = String()


class TokenOut(Schema):
    token = String(required=True)
    id = Integer()
    expires_at = String()


class ConsentIn(Schema):
    version = String(required=True, metadata={"description": "the consent text's version, e.g. 2026-12"})
    given_by = String(metadata={"enum": ["self", "on_behalf"]})
    how = String(metadata={"enum": ["written", "in_person", "phone"],
                           "description": "on_behalf: how the member gave their consent"})


class ConsentOut(Schema):
    version = String(required=True)
    given_by = String(required=True)
    how = String(allow_none=True)
    at = String(required=True)
    by = String(allow_none=True)
    withdrawn_at = String(allow_none=True)
    text = String(metadata={"description": "the exact text agreed to"})


class CaseIn(Schema):
    """Aid: category, amount_requested, circumstances, applicant, details. Proposal: title, problem,
    suggestion, expected_benefit, coproposers. Motion: title, reasons, proposal_text, session."""
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
    coproposers = List(String(), metadata={"description": "proposal: co-proposers' user names"})
    reasons = String()
    proposal_text = String()
    session = Integer()
    details = Dict(metadata={"description": "aid: the category's details, e.g. for hardship household_size, "
                                            "monthly_income and cause"})
    consent = Nested(ConsentIn, metadata={"description": "aid: the separate consent to processing the sensitive "
                                                         "parts; submit refuses a request without it (422)"})


def _trigger_field(f, used_by: list[str]):
    """The OpenAPI shape of one workflow input (workflows/base.py Field), as the engine reads it."""
    about = {"description": "for " + ", ".join(used_by)}
    if f.type == "int":
        bounds = {k: v for k, v in (("minimum", f.min), ("maximum", f.max)) if v is not None}
        return Integer(metadata={**about, **bounds})
    if f.type == "money":
        return String(metadata={**about, "description": about["description"] + "; yuan, two decimals",
                                "example": "2000.00"})
    if f.type == "date":
        return Date(metadata=about)
    if f.type == "bool":
        return Boolean(metadata=about)
    if f.type == "choice":
        return String(metadata={**about, "enum": list(f.choices)})
    if f.type == "case":
        return Integer(metadata={**about, "description": about["description"] + "; a case id"})
    if f.type in ("usernames", "departments"):
        what = "; user names" if f.type == "usernames" else "; department ids or codes"
        return List(String(), metadata={**about, "description": about["description"] + what})
    if f.type == "department":
        return String(metadata={**about, "description": about["description"] + "; a department id or code"})
    return String(metadata=about)  # text, username


def _trigger_fields() -> dict:
    import workflows
    fields, used_by = {}, {}
    for wf in workflows.WORKFLOWS.values():
        for t in wf.transitions:
            for f in t.fields:
                fields.setdefault(f.name, f)
                label = f"{wf.kind} {t.trigger}"
                if label not in used_by.setdefault(f.name, []):
                    used_by[f.name].append(label)
    return {name: _trigger_field(f, used_by[name]) for name, f in fields.items()
            if name not in ("version", "comment")}


class TransitionIn(Schema.from_dict(_trigger_fields(), name="TriggerFields")):
    """`version` (the case's current version) and `comment`, plus the trigger's own fields (WORKFLOWS.md);
    each says which triggers read it."""
    class Meta:
        unknown = INCLUDE
    version = Integer(metadata={"description": "the version you saw; a stale one gets 409"})
    comment = String()


class DuplicateRef(Schema):
    id = Integer(required=True)
    number = String(required=True)


class ApprovalLevelOut(Schema):
    unit = String(required=True, metadata={"description": "the union whose committee votes at this level"})
    quorum = Integer(required=True)
    votes = Integer(required=True, metadata={"description": "votes cast in this level's latest round"})
    tally = List(Dict(), metadata={"description": "that round by position: [{trigger, inputs, votes}]"})


class ApprovalOut(Schema):
    level = String(required=True, metadata={"description": "grassroots, or parent once the grassroots committee "
                                                           "referred the request to the parent union"})
    deciding_unit = String(required=True)
    referred_amount = String(allow_none=True, metadata={"description": "the amount the grassroots committee "
                                                                       "approved and referred, in yuan"})
    grassroots = Nested(ApprovalLevelOut, allow_none=True)
    parent = Nested(ApprovalLevelOut, allow_none=True)


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
    consent = Nested(ConsentOut, allow_none=True)
    approval = Nested(ApprovalOut, metadata={"description": "multi-level approval: the deciding level and "
                                                           "both committees' tallies (one case's GET and a "
                                                           "transition's answer, not lists)"})
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
    duplicate_of = Nested(DuplicateRef, allow_none=True, metadata={
        "description": "the earlier proposal this one was answered as a duplicate of"})
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
    tally = List(Dict(), metadata={"description": "a vote's current round: [{inputs (decisive), votes}]"})


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
