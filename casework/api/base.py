"""What every API blueprint shares: bearer-token auth, JSON bodies, the /api/v1 prefix.

A capability package makes its own blueprint with `make_blueprint`; `casework.api.register` mounts them all.
"""
from __future__ import annotations

from datetime import timedelta

from apiflask import APIBlueprint
from flask import Flask, g, request
from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.orm import joinedload
from werkzeug.http import HTTP_STATUS_CODES

from ..accounts.models import ApiToken, User
from ..clock import utcnow
from ..core.errors import BadRequest, NotFound, Unauthorized
from ..core import tenancy
from ..extensions import db

BLUEPRINTS: list[APIBlueprint] = []
# Ids larger than an id column holds (PostgreSQL `integer`) are answered 404 before they reach a query.
MAX_ID = 2**31 - 1
BEARER = "bearerAuth"
# Every operation may answer these, in the contract's error shape (API.md "Conventions"); an operation's own
# `responses` text replaces the generic one.
ERROR_RESPONSES = {
    400: "Malformed: the body is not a JSON object, or a parameter has the wrong type",
    401: "No token, or an unknown, expired or revoked one",
    403: "Not allowed for this user",
    404: "Absent, or not visible to this user",
    409: "Stale `version`, or not possible in the current state",
    422: "A field or a guard failed; `message` says why, `fields` which",
}
TOO_LARGE = {413: "The request body is larger than the configured limit"}
TOO_MANY = {429: "Too many requests from this address: `Retry-After` says in how many seconds to try again"}


def public(view):
    """Marks an API view that needs no token."""
    view._casework_public = True
    return view


def is_public(view) -> bool:
    return getattr(view, "_casework_public", False)


def make_blueprint(name: str, import_name: str, tag: str) -> APIBlueprint:
    bp = APIBlueprint(name, import_name, url_prefix="/api/v1", tag=tag)
    bp.before_request(_authenticate)
    bp.before_request(_check_request)
    BLUEPRINTS.append(bp)
    return bp


def _authenticate():
    from flask import current_app
    g.api_user = None
    header = request.headers.get("Authorization", "")
    if header.startswith("Bearer "):
        token = header[7:].strip()
        with tenancy.identifying():
            row = db.session.scalar(select(ApiToken).options(joinedload(ApiToken.user).joinedload(User.unit))
                                    .where(ApiToken.token_hash == ApiToken.digest(token)))
        now = utcnow()
        if row and row.revoked_at is None and row.expires_at > now and row.user.active:
            g.api_user = row.user
            g.log_username = row.user.username
            g.api_token = row
            # Reads count too (a token that only reads is still in use, or leaked), at most one write
            # per token in five minutes.
            if not row.last_used_at or (now - row.last_used_at) > timedelta(minutes=5):
                row.last_used_at = now
                db.session.commit()
            return None
        raise Unauthorized(_("The token is unknown, expired or revoked."), code="bad_token")
    view = current_app.view_functions.get(request.endpoint)
    if not is_public(view):
        raise Unauthorized(_("Send a token: Authorization: Bearer <token>."), code="no_token")
    return None


def _check_request():
    """What no view should meet: ids beyond any row (404) and JSON nested deeper than the parser goes (400;
    the input decorators parse the body before the view runs)."""
    if any(isinstance(v, int) and v > MAX_ID for v in (request.view_args or {}).values()):
        raise NotFound(_("No such record."))
    if request.is_json and request.content_length:
        try:
            request.get_json(silent=True)
        except RecursionError:
            raise BadRequest(_("The body is not valid JSON.")) from None


def user() -> User:
    return g.api_user


def json_body() -> dict:
    body = request.get_json(silent=True)
    if body is None or not _valid_text(body):
        if request.data:
            raise BadRequest(_("The body is not valid JSON."))
        body = {}
    if _has_nul(body):  # PostgreSQL stores no NUL in text: refuse it here, not as a database error
        raise BadRequest(_("Text may not contain NUL characters."))
    if not isinstance(body, dict):
        raise BadRequest(_("The body must be a JSON object."))
    return body


def step_options(body: dict) -> tuple[int | None, str]:
    """(version, comment) of a body that takes a step: the optimistic lock and the voter's own words."""
    version = body.get("version")
    if version is not None and (isinstance(version, bool) or not isinstance(version, int)):
        raise BadRequest(_("`version` must be a whole number."), fields={"version": "integer"})
    comment = body.get("comment") or ""
    if not isinstance(comment, str):
        raise BadRequest(_("`comment` must be text."), fields={"comment": "text"})
    return version, comment


def _strings(body):
    """Every string in a JSON body, keys included."""
    todo = [body]
    while todo:
        value = todo.pop()
        if isinstance(value, dict):
            todo.extend(value.keys())
            todo.extend(value.values())
        elif isinstance(value, list):
            todo.extend(value)
        elif isinstance(value, str):
            yield value


def _has_nul(body) -> bool:
    return any("\x00" in text for text in _strings(body))


def _valid_text(body) -> bool:
    """False when a string holds a lone surrogate (a \\ud800 escape without its pair): such text can be
    neither stored nor sent on."""
    for text in _strings(body):
        try:
            text.encode("utf-8")
        except UnicodeEncodeError:
            return False
    return True


def document(app: Flask) -> None:
    """What every operation shares goes into the OpenAPI document once, here: the error responses in the
    contract's shape, the bearer scheme (optional on public operations) and the values `kind` and `trigger`
    take. `casework.api.register` calls it after mounting the blueprints."""
    from . import schemas
    # APIFlask's AUTO_SERVERS would take the Host of whoever fetches the document first, and keep it;
    # _finish_spec writes the configured address instead.
    app.config.update(AUTO_SERVERS=False)
    app.config.update(HTTP_ERROR_SCHEMA=schemas.Error, VALIDATION_ERROR_SCHEMA=schemas.Error,
                      SECURITY_SCHEMES={BEARER: {"type": "http", "scheme": "bearer",
                                                 "description": "POST /api/v1/tokens gives one"}})
    names = {bp.name for bp in BLUEPRINTS}
    for endpoint, view in app.view_functions.items():
        if endpoint.rsplit(".", 1)[0] not in names:
            continue
        spec = view._spec  # every API view has at least @doc
        if spec.get("hide"):
            continue
        own = spec.get("responses") or {}
        if isinstance(own, list):
            own = {code: HTTP_STATUS_CODES.get(int(code), "") for code in own}
        own = {int(code): text for code, text in own.items()}
        generic = {**ERROR_RESPONSES, **(TOO_LARGE if spec.get("body") else {}),
                   **(TOO_MANY if getattr(view, "_casework_limited", None) else {})}
        spec["responses"] = {**{code: text for code, text in generic.items() if code not in own}, **own}
        spec["security"] = [{}, {BEARER: []}] if is_public(view) else [{BEARER: []}]
    app.spec_processor(_finish_spec)


def _finish_spec(spec: dict) -> dict:
    from ..config import public_url
    spec["servers"] = [{"url": public_url(), "description": "CASEWORK_PUBLIC_URL"}]
    return _enumerate_path_values(spec)


def _enumerate_path_values(spec: dict) -> dict:
    import workflows
    from ..core import kinds
    values = {"kind": sorted(kinds.KINDS),
              "trigger": sorted({t for wf in workflows.WORKFLOWS.values() for t in wf.triggers})}
    for operations in spec.get("paths", {}).values():
        for operation in operations.values():
            for parameter in operation.get("parameters", []):
                if parameter.get("in") == "path" and parameter.get("name") in values:
                    parameter["schema"] = {"type": "string", "enum": values[parameter["name"]]}
    return spec


def audit_item(e, reviewer: bool, payee_only: bool = False) -> dict:
    """One audit entry as the API shows it (a case's, a register entry's or a board posting's)."""
    changes = dict(e.changes or {})
    if payee_only and e.trigger != "disburse":
        changes = {}
    if not reviewer and changes.get("private"):
        inputs = {k: v for k, v in (changes.get("inputs") or {}).items() if k not in changes["private"]}
        changes["inputs"] = inputs
    return {"seq": e.seq, "at": e.at.isoformat() + "Z", "actor": e.actor_label,
            "on_behalf_of": e.delegate_of.username if e.delegate_of else None, "trigger": e.trigger,
            "from_": e.from_state, "to": e.to_state, "comment": "" if payee_only else e.comment,
            "changes": changes, "hash": e.hash}


def subject_audit(subject) -> dict:
    """The audit trail of a subject that is not a case, oldest first, with the chain's state."""
    from ..core.models import entries_of, verify_chain
    ok, _bad = verify_chain(subject)
    return {"intact": ok, "items": [audit_item(e, True) for e in db.session.scalars(entries_of(subject))]}
