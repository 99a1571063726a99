"""The web UI: pages, error pages, template helpers."""
from __future__ import annotations

from flask import Flask, abort, jsonify, render_template, request
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_login import current_user
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException

from ..clock import local
from ..core import kinds
from ..core.errors import CaseworkError, code_for
from ..core.inputs import MAX_INT
from ..extensions import db
from ..money import format_money
from .. import labels
import workflows

# The states a filter of cases offers, per kind (the board's, the register's and the slips' are no case's).
CASE_STATES = {kind: workflows.get(kind).state_names for kind in labels.KIND_LABELS}

def _error_text(status: int) -> str:
    return {
        400: _("The request could not be understood."), 401: _("Please sign in."),
        403: _("You are not allowed to see this page."), 404: _("This page does not exist."),
        405: _("This page cannot be used that way."), 409: _("The case was changed meanwhile."),
        413: _("The upload is too large."), 422: _("Some input could not be accepted."),
        429: _("Too many requests. Please wait a moment."), 500: _("Something went wrong on our side."),
    }.get(status, _("Something went wrong on our side."))


def register(app: Flask):
    from . import security
    from .views import bp
    app.register_blueprint(bp)
    security.register(app)

    @app.context_processor
    def _helpers():
        locale = get_locale()
        return {"labels": labels, "case_states": CASE_STATES, "current_locale": "en" if locale and locale.language == "en" else "zh_CN",
                "is_admin": _is_admin(), "is_reviewer": _is_reviewer()}

    @app.before_request
    def _ids_in_range():
        # An id no row can have is simply not found (PostgreSQL would refuse to compare it: a 500).
        if not request.path.startswith("/api/") and any(
                isinstance(v, int) and v > MAX_INT for v in (request.view_args or {}).values()):
            abort(404)

    @app.before_request
    def _no_nul_characters():
        # PostgreSQL stores no NUL in text; a form or address carrying one is refused before any query.
        if request.path.startswith("/api/"):
            return  # the API's body reader says so in the contract's shape
        values = [*request.args.values(), *(v for v in (request.view_args or {}).values() if isinstance(v, str))]
        if request.method == "POST" and request.mimetype in ("application/x-www-form-urlencoded",
                                                             "multipart/form-data"):
            values += list(request.form.values())
        if any("\x00" in v for v in values):
            abort(400)

    app.add_template_filter(lambda fen: format_money(fen) or "—", "money")
    app.add_template_filter(lambda dt: local(dt).strftime("%Y-%m-%d %H:%M") if dt else "—", "localtime")
    app.add_template_filter(lambda dt: local(dt).date(), "localdate")
    app.add_template_filter(lambda s, kind="": labels.state_label(kind, s), "state_label")
    app.add_template_filter(labels.trigger_label, "trigger_label")
    app.add_template_filter(lambda name: str(labels.FIELD_LABELS.get(name, name)), "field_label")
    app.add_template_filter(lambda case: kinds.caption(case, current_user), "caption")

    @app.errorhandler(CSRFError)
    def _csrf(exc):
        return _error(400, _("The form had expired or was sent from elsewhere. Please reload and try again."))

    @app.errorhandler(CaseworkError)
    def _casework(exc: CaseworkError):
        db.session.rollback()
        return _error(exc.status, str(exc.message), exc)

    @app.errorhandler(HTTPException)
    def _http(exc: HTTPException):
        return _error(exc.code or 500, None)

    @app.errorhandler(Exception)
    def _unexpected(exc: Exception):
        if isinstance(exc, HTTPException):
            return _http(exc)
        db.session.rollback()
        app.logger.exception("unhandled error on %s %s", request.method, request.path)
        return _error(500, None)


def _is_reviewer() -> bool:
    from ..core.permissions import grants
    return current_user.is_authenticated and any(
        g.role in ("union_staff", "committee", "admin") for g in grants(current_user))


def _is_admin() -> bool:
    from ..core.permissions import has_role
    return current_user.is_authenticated and has_role(current_user, "admin")


def error_page(status: int):
    return _error(status, None)


def _error(status: int, message: str | None, exc: CaseworkError | None = None):
    if request.path.startswith("/api/"):
        body = exc.to_dict() if exc else {"error": {"code": code_for(status),
                                                    "message": message or _error_text(status)}}
        if message and not exc:
            body["error"]["message"] = message
        return jsonify(body), status
    return render_template("error.html", status=status, title=_error_text(status), message=message), status
