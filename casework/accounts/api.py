"""API: the caller's declared relatives and delegations (API.md "Decisions, delegations, relatives")."""
from __future__ import annotations

from apiflask import Schema
from flask_babel import gettext as _
from apiflask.fields import Boolean, Integer, List, Nested, String

from ..api.base import json_body, make_blueprint, user
from ..core.inputs import record_id
from ..core.errors import NotFound
from ..extensions import db
from . import delegations, relatives
from .models import find_login

bp = make_blueprint("api_people", __name__, tag="people")


class RelativeIn(Schema):
    person = String(metadata={"description": "username or employee number"})
    relation = String(metadata={"description": "spouse|parent|child|sibling|grandparent|grandchild|in_law|other"})
    of = String(metadata={"description": "union staff: the member the relative is recorded for"})


class RelativeOut(Schema):
    id = Integer()
    person = String()
    name = String()
    relation = String()
    recorded_by = String()
    created_at = String()


class RelativeList(Schema):
    items = List(Nested(RelativeOut))


class DelegationIn(Schema):
    to = String()
    role = String()
    unit = String(metadata={"description": "unit id or code"})
    starts_on = String()
    ends_on = String()


class DelegationOut(Schema):
    id = Integer()
    from_ = String(data_key="from")
    to = String()
    role = String()
    unit = Integer()
    starts_on = String()
    ends_on = String()
    active = Boolean()


class DelegationList(Schema):
    items = List(Nested(DelegationOut))


class Created(Schema):
    id = Integer()


def _id(raw: int) -> int:
    number = record_id(raw)
    if number is None:
        raise NotFound(_("Not found."))
    return number


@bp.post("/relatives")
@bp.input(RelativeIn, validation=False)
@bp.output(RelativeOut, status_code=201)
@bp.doc(summary="Declare a relative: their cases refuse you in every review role (回避)")
def add_relative(json_data=None):
    body = json_body()
    owner = user()
    if body.get("of"):
        owner = find_login(body["of"]) if isinstance(body["of"], str) else None
        if owner is None:
            raise NotFound(_("No active member with this user name, employee number or phone."))
    row = relatives.declare(owner, body.get("person"), body.get("relation"), user())
    db.session.flush()
    out = relatives.serialize(row)
    db.session.commit()
    return out


@bp.get("/relatives")
@bp.output(RelativeList)
@bp.doc(summary="The caller's declared relatives")
def list_relatives():
    return {"items": [relatives.serialize(r) for r in relatives.declared_by(user())]}


@bp.delete("/relatives/<int:relative_id>")
@bp.output({}, status_code=204)
@bp.doc(summary="Remove a declared relative")
def delete_relative(relative_id: int):
    relatives.remove(_id(relative_id), user())
    db.session.commit()
    return ""


@bp.post("/delegations")
@bp.input(DelegationIn, validation=False)
@bp.output(Created, status_code=201)
@bp.doc(summary="Lend a role at a unit to a colleague for a date range; one delegate per seat at a time",
        responses={409: "this seat is already delegated for part of the period"})
def add_delegation(json_data=None):
    body = json_body()
    row = delegations.delegate(user(), body.get("to"), body.get("role"), body.get("unit"), body.get("starts_on"),
                               body.get("ends_on"))
    db.session.commit()
    return {"id": row.id}


@bp.get("/delegations")
@bp.output(DelegationList)
@bp.doc(summary="Delegations the caller gave and received")
def list_delegations():
    return {"items": [delegations.serialize(d) for d in delegations.given_and_received(user())]}


@bp.delete("/delegations/<int:delegation_id>")
@bp.output({}, status_code=204)
@bp.doc(summary="End a delegation (removed if it has not started)")
def delete_delegation(delegation_id: int):
    delegations.end(_id(delegation_id), user())
    db.session.commit()
    return ""
