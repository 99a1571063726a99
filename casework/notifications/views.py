"""The inbox: /notifications (page), GET /api/v1/notifications (API), and `unread_count` for every page."""
from __future__ import annotations

from apiflask import Schema
from apiflask.fields import Boolean, Integer, List, Nested, String
from flask import Blueprint, Flask, abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required
from sqlalchemy import select, update
from wtforms import SelectField

from ..api.base import json_body, make_blueprint, user as api_user
from ..clock import utcnow
from ..core.errors import BadRequest, NotFound
from ..core import paging
from ..core.inputs import Reader
from ..extensions import db
from ..forms import BaseForm, opts
from .models import MODES, Notification, mode_of, set_mode, unread_count

bp = Blueprint("notifications", __name__)
api = make_blueprint("notifications_api", __name__, tag="notifications")

MODE_LABELS = {"immediate": _l("An e-mail for each notification"), "digest": _l("One e-mail a day (digest)")}


class PreferenceForm(BaseForm):
    mode = SelectField(_l("E-mail"), choices=opts((m, MODE_LABELS[m]) for m in MODES))


def _page(user, after: str | None, size: int, unread_only: bool = False):
    """Newest first, keyset-paged by id; returns (rows, next cursor)."""
    stmt = select(Notification).where(Notification.user_id == user.id)
    if unread_only:
        stmt = stmt.where(Notification.read_at.is_(None))
    rows, last = paging.newest_first(stmt, Notification.id, paging.decode(after), size)
    return rows, paging.encode(last)


def _mark_read(user, ids=None) -> int:
    stmt = update(Notification).where(Notification.user_id == user.id, Notification.read_at.is_(None))
    if ids is not None:
        stmt = stmt.where(Notification.id.in_(ids))
    done = db.session.execute(stmt.values(read_at=utcnow()).execution_options(synchronize_session=False))
    db.session.commit()
    return done.rowcount


# -- pages -----------------------------------------------------------------------------------

@bp.route("/notifications")
@login_required
def inbox():
    rows, nxt = _page(current_user, request.args.get("after"), 50, request.args.get("unread") == "1")
    form = PreferenceForm(data={"mode": mode_of(current_user)})
    return render_template("notifications/inbox.html", notes=rows, next=nxt, form=form,
                           unread_only=request.args.get("unread") == "1")


@bp.route("/notifications/<int:note_id>/read", methods=["POST"])
@login_required
def read(note_id: int):
    note = db.session.get(Notification, note_id)
    if note is None or note.user_id != current_user.id:
        abort(404)
    _mark_read(current_user, [note_id])
    if request.form.get("open") and note.case is not None:
        return redirect(url_for("web.case_view", kind=note.case.kind, case_id=note.case_id))
    return redirect(url_for("notifications.inbox"))


@bp.route("/notifications/read-all", methods=["POST"])
@login_required
def read_all():
    n = _mark_read(current_user)
    flash(_("%(n)s notifications marked as read.", n=n), "success")
    return redirect(url_for("notifications.inbox"))


@bp.route("/notifications/preferences", methods=["POST"])
@login_required
def preferences():
    form = PreferenceForm()
    if form.validate_on_submit():
        set_mode(current_user, form.mode.data)
        db.session.commit()
        flash(_("Saved."), "success")
    else:
        flash(_("Choose one of the offered options."), "error")
    return redirect(url_for("notifications.inbox"))


# -- API -------------------------------------------------------------------------------------

class NotificationOut(Schema):
    id = Integer(required=True)
    at = String(required=True, metadata={"description": "ISO 8601, UTC"})
    subject = String(required=True)
    body = String(required=True)
    case = Integer(allow_none=True, metadata={"description": "the case's id, or null"})
    case_kind = String(allow_none=True)
    case_number = String(allow_none=True)
    read = Boolean(required=True)


class NotificationItem(NotificationOut):
    """The same fields, as a list item (a schema is registered once per role in the OpenAPI document)."""


class NotificationPage(Schema):
    items = List(Nested(NotificationItem), required=True)
    next = String(allow_none=True, metadata={"description": "cursor for the next page (`after`)"})
    unread = Integer(required=True, metadata={"description": "how many of the caller's are unread"})


class PreferenceIO(Schema):
    mode = String(required=True, metadata={"enum": list(MODES)})


def _item(n: Notification) -> dict:
    return {"id": n.id, "at": n.at.isoformat() + "Z", "subject": n.subject, "body": n.body or "",
            "case": n.case_id, "case_kind": n.case.kind if n.case else None,
            "case_number": n.case.number if n.case else None, "read": n.read_at is not None}


@api.get("/notifications")
@api.output(NotificationPage)
@api.doc(summary="The caller's inbox, newest first; `?unread=true` for unread only, `after` to page on")
def api_inbox():
    return _inbox_body()


def _inbox_body() -> dict:
    flag = (request.args.get("unread") or "").lower()
    if flag not in ("", "true", "false", "1", "0"):
        raise BadRequest(_("`unread` must be true or false."), fields={"unread": "boolean"})
    rows, nxt = _page(api_user(), request.args.get("after"), current_app.config["CASEWORK_PAGE_SIZE"],
                      flag in ("true", "1"))
    return {"items": [_item(n) for n in rows], "next": nxt, "unread": unread_count(api_user())}


@api.post("/notifications/<int:note_id>/read")
@api.output(NotificationOut)
@api.doc(summary="Mark one notification read", responses={404: "no such notification of the caller's"})
def api_read(note_id: int):
    note = db.session.get(Notification, note_id)
    if note is None or note.user_id != api_user().id:
        raise NotFound(_("No such notification."))
    _mark_read(api_user(), [note_id])
    db.session.refresh(note)
    return _item(note)


@api.post("/notifications/read-all")
@api.output(NotificationPage)
@api.doc(summary="Mark all the caller's notifications read; answers with the first page")
def api_read_all():
    _mark_read(api_user())
    return _inbox_body()


@api.get("/notifications/preferences")
@api.output(PreferenceIO)
@api.doc(summary="How the caller gets e-mail: `immediate` or a daily `digest`")
def api_get_preferences():
    return {"mode": mode_of(api_user())}


@api.post("/notifications/preferences")
@api.input(PreferenceIO, validation=False)
@api.output(PreferenceIO)
@api.doc(summary="Choose `immediate` e-mail or one `digest` a day", responses={422: "unknown mode"})
def api_set_preferences(json_data=None):
    r = Reader(json_body())
    mode = r.choice("mode", MODES)
    r.done()
    set_mode(api_user(), mode)
    db.session.commit()
    return {"mode": mode}


def register(app: Flask):
    app.register_blueprint(bp)

    @app.context_processor
    def _unread():
        if not current_user or not current_user.is_authenticated:
            return {"unread_count": 0}
        return {"unread_count": unread_count(current_user)}
