"""What every API blueprint shares: bearer-token auth, JSON bodies, the /api/v1 prefix.

A capability package makes its own blueprint with `make_blueprint`; `casework.api.register` mounts them all.
"""
from __future__ import annotations

from datetime import timedelta

from apiflask import APIBlueprint
from flask import g, request
from flask_babel import gettext as _
from sqlalchemy import select

from ..accounts.models import ApiToken, User
from ..clock import utcnow
from ..core.errors import BadRequest, Unauthorized
from ..extensions import db

BLUEPRINTS: list[APIBlueprint] = []


def public(view):
    """Marks an API view that needs no token."""
    view._casework_public = True
    return view


def make_blueprint(name: str, import_name: str, tag: str) -> APIBlueprint:
    bp = APIBlueprint(name, import_name, url_prefix="/api/v1", tag=tag)
    bp.before_request(_authenticate)
    BLUEPRINTS.append(bp)
    return bp


def _authenticate():
    from flask import current_app
    g.api_user = None
    header = request.headers.get("Authorization", "")
    if header.startswith("Bearer "):
        token = header[7:].strip()
        row = db.session.scalar(select(ApiToken).where(ApiToken.token_hash == ApiToken.digest(token)))
        now = utcnow()
        if row and row.revoked_at is None and row.expires_at > now and row.user.active:
            g.api_user = row.user
            g.api_token = row
            stale = not row.last_used_at or (now - row.last_used_at) > timedelta(minutes=5)
            if stale and request.method not in ("GET", "HEAD"):  # reads never write
                row.last_used_at = now
                db.session.commit()
            return None
        raise Unauthorized(_("The token is unknown, expired or revoked."), code="bad_token")
    view = current_app.view_functions.get(request.endpoint)
    if not getattr(view, "_casework_public", False):
        raise Unauthorized(_("Send a token: Authorization: Bearer <token>."), code="no_token")
    return None


def user() -> User:
    return g.api_user


def json_body() -> dict:
    body = request.get_json(silent=True)
    if body is None:
        if request.data:
            raise BadRequest(_("The body is not valid JSON."))
        body = {}
    if not isinstance(body, dict):
        raise BadRequest(_("The body must be a JSON object."))
    return body
