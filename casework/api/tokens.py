"""API tokens: get one with a password, list and revoke your own (the web page /account/tokens does the same)."""
from __future__ import annotations

from apiflask import Schema
from apiflask.fields import Boolean, Integer, List, Nested, String
from flask import g
from flask_babel import gettext as _

from ..accounts import auth
from ..accounts.models import ApiToken
from ..core.errors import NotFound, Unauthorized
from ..extensions import db, limited
from . import schemas as s
from .base import json_body, make_blueprint, public, user

bp = make_blueprint("api_tokens", __name__, tag="tokens")


class TokenInfo(Schema):
    id = Integer(required=True)
    label = String(required=True)
    created_at = String(required=True)
    expires_at = String(required=True)
    last_used_at = String(allow_none=True)
    revoked_at = String(allow_none=True)
    active = Boolean(required=True, metadata={"description": "not revoked and not expired"})
    current = Boolean(required=True, metadata={"description": "the token this request was made with"})


class TokenList(Schema):
    items = List(Nested(TokenInfo), required=True)


def _iso(moment) -> str | None:
    return moment.isoformat() + "Z" if moment else None


def info(row: ApiToken) -> dict:
    current = getattr(g, "api_token", None)
    return {"id": row.id, "label": row.label, "created_at": _iso(row.created_at), "expires_at": _iso(row.expires_at),
            "last_used_at": _iso(row.last_used_at), "revoked_at": _iso(row.revoked_at),
            "active": auth.is_usable(row), "current": current is not None and current.id == row.id}


@bp.post("/tokens")
@limited("sign-in")
@public
@bp.input(s.TokenIn, validation=False)
@bp.output(s.TokenOut, status_code=201)
@bp.doc(summary="Get a bearer token", responses={401: "wrong user name or password"})
def create_token(json_data=None):
    body = json_body()
    tried = auth.attempt(body.get("username"), body.get("password"))
    if not tried.ok:
        # One answer for an unknown user, a wrong password and an address that must wait.
        raise Unauthorized(auth.refusal(), code="bad_credentials")
    label = body.get("label")
    secret, row = auth.issue(tried.user, label if isinstance(label, str) else "")
    db.session.commit()
    return {"token": secret, "id": row.id, "expires_at": _iso(row.expires_at)}


@bp.get("/tokens")
@bp.output(TokenList)
@bp.doc(summary="The caller's tokens, newest first, including revoked and expired ones (never the secret)")
def list_tokens():
    return {"items": [info(row) for row in auth.owned(user())]}


@bp.delete("/tokens/current")
@bp.output({}, status_code=204)
@bp.doc(summary="Revoke the token used for this request")
def revoke_token():
    auth.revoke(g.api_token)
    db.session.commit()
    return ""


@bp.delete("/tokens/<int:token_id>")
@bp.output({}, status_code=204)
@bp.doc(summary="Revoke one of the caller's tokens", responses={404: "no such token of the caller"})
def revoke_one(token_id: int):
    row = auth.find_owned(user(), token_id)
    if row is None:
        raise NotFound(_("No such token."))
    auth.revoke(row)
    db.session.commit()
    return ""
