"""Attachment pages: the upload form's target, the download, and the panel on the case page."""
from __future__ import annotations

from flask import Blueprint, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from ..core import kinds
from ..core.errors import CaseworkError, TooLarge
from ..extensions import db
from . import operations as ops

bp = Blueprint("attachments", __name__)


@bp.route("/cases/<kind>/<int:case_id>/attachments", methods=["POST"])
@login_required
def upload(kind: str, case_id: int):
    case = kinds.load(kind, case_id, current_user)
    back = url_for("web.case_view", kind=kind, case_id=case.id)
    try:
        att = ops.save(case, request.files.get("file"), request.form.get("doc_type"), current_user)
        db.session.commit()
    except TooLarge as exc:
        db.session.rollback()
        return _too_large(str(exc.message))
    except CaseworkError as exc:
        db.session.rollback()
        flash(str(exc.message), "error")
        return redirect(back, 303)
    flash(_("Attached: %(name)s.", name=att.original_name), "success")
    return redirect(back + "#attachments", 303)


@bp.route("/attachments/<int:attachment_id>")
@login_required
def download(attachment_id: int):
    att, _case = ops.load(attachment_id, current_user)
    return ops.send(att)


@bp.errorhandler(413)
def _request_too_large(exc):
    # The whole request is over MAX_CONTENT_LENGTH: refused before any of it is read.
    return _too_large(ops.too_large_message(current_app.config["MAX_CONTENT_LENGTH"]))


def _too_large(message: str):
    args = request.view_args or {}
    back = (url_for("web.case_view", kind=args["kind"], case_id=args["case_id"])
            if "kind" in args and "case_id" in args else None)
    return render_template("attachments/too_large.html", message=message, back=back), 413


def panel(case) -> dict | None:
    """What the case page's documents panel shows this viewer; None when there is nothing for them."""
    if not current_user.is_authenticated or ops.payee_only(current_user, case):
        return None
    items = ops.visible(current_user, case)
    choices = ops.upload_types(current_user, case)
    if not items and not choices:
        return None
    limit = ops.file_limit(case)
    open_draft = case.state in ("draft", "returned")
    return {"items": [{"id": a.id, "name": a.original_name, "doc_type": ops.doc_label(a.doc_type),
                       "size": _size(a.size), "private": a.private, "by": a.uploaded_by.name, "at": a.at}
                      for a in items],
            "choices": [(d, ops.doc_label(d)) for d in choices],
            "missing": [ops.doc_label(d) for d in ops.missing_docs(case)] if open_draft else [],
            "max_mb": f"{limit / ops.MB:g}", "accept": ops.ACCEPT}


def _size(n: int) -> str:
    return f"{n / ops.MB:.1f} MB" if n >= ops.MB else f"{max(1, round(n / 1024))} KB"
