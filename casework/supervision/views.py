"""Pages: the supervision board (/supervision), a slip (answer, close), issuing a slip from a case, the monthly
bulletin (issue, post on the public board) and the public board's posted bulletins."""
from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from sqlalchemy import select

from workflows.supervision import COLOURS

from ..accounts.models import Unit
from ..core import engine, kinds
from ..core.errors import CaseworkError
from ..core.inputs import record_id
from ..core.models import entries_of, verify_chain
from ..extensions import db
from ..notices.models import Notice
from . import operations as ops
from .models import BulletinPosting

bp = Blueprint("supervision", __name__)


def _unit(units):
    wanted = request.values.get("unit", type=record_id)
    unit = next((u for u in units if u.id == wanted), None) if wanted else (units[0] if units else None)
    if unit is None:
        abort(403 if not units else 404)
    return unit


@bp.route("/supervision")
@login_required
def board():
    units = ops.board_units(current_user)
    unit = _unit(units)
    errors = {}
    try:
        period = ops.board_period(request.args)
    except CaseworkError as exc:
        flash(_("The filter was not understood; this month is shown."), "error")
        errors = {k: str(v) for k, v in exc.fields.items()}
        period = ops.parse_period(None)
    figures = ops.figures(unit, period)
    open_slips = db.session.scalars(select(ops.Slip).join(ops.Case, ops.Case.id == ops.Slip.case_id).where(
        ops.Slip.status != "closed", ops.Case.unit_id.in_(select(Unit.id).where(Unit.path.startswith(unit.path))))
        .order_by(ops.Slip.reply_by, ops.Slip.id).limit(200)).all()
    return render_template("supervision/board.html", units=units, unit=unit, period=period, figures=figures,
                           errors=errors,
                           open_slips=open_slips, colours=COLOURS, bulletins=ops.bulletins(unit),
                           may_issue=any(r in ops.roles_at(current_user, unit) for r in ops.STAFF))


@bp.route("/supervision/slips/<int:slip_id>")
@login_required
def slip(slip_id: int):
    s = _slip(slip_id)
    ok, _bad = verify_chain(s)
    return render_template("supervision/slip.html", slip=s, entries=db.session.scalars(entries_of(s)).all(),
                           intact=ok, steps=engine.available(s, current_user))


def _slip(slip_id: int):
    try:
        return ops.load(slip_id, current_user)
    except CaseworkError:
        abort(404)


@bp.route("/supervision/slips/<int:slip_id>/<trigger>", methods=["POST"])
@login_required
def slip_step(slip_id: int, trigger: str):
    s = _slip(slip_id)
    if trigger not in ("answer", "close"):
        abort(404)
    try:
        version = request.form.get("version", type=int)
        if trigger == "answer":
            ops.answer(s, current_user, request.form.get("answer", ""), version=version)
        else:
            ops.close(s, current_user, request.form.get("comment", ""), version=version)
        db.session.commit()
        flash(_("Supervision slip %(number)s answered.", number=s.number) if trigger == "answer" else
              _("Supervision slip %(number)s closed.", number=s.number), "success")
    except CaseworkError as exc:
        db.session.rollback()
        flash(exc.message + "".join(f" {v}" for v in (exc.fields or {}).values()), "error")
    return redirect(url_for("supervision.slip", slip_id=slip_id), 303)


@bp.route("/cases/<kind>/<int:case_id>/slips", methods=["POST"])
@login_required
def issue(kind: str, case_id: int):
    case = kinds.load(kind, case_id, current_user)
    try:
        s = ops.issue(case, current_user, colour=request.form.get("colour", ""),
                      remark=request.form.get("remark", ""))
        db.session.commit()
        flash(_("Supervision slip %(number)s issued.", number=s.number), "success")
    except CaseworkError as exc:
        db.session.rollback()
        flash(exc.message, "error")
    return redirect(url_for("web.case_view", kind=kind, case_id=case_id), 303)


@bp.route("/supervision/bulletins", methods=["POST"])
@login_required
def bulletin_issue():
    unit = _unit(ops.board_units(current_user))
    try:
        if not any(r in ops.roles_at(current_user, unit) for r in ops.STAFF):
            abort(403)
        notice, issued = ops.issue_bulletin(unit, ops.parse_period(request.form.get("period")), current_user)
        db.session.commit()
        flash(_("Bulletin %(number)s issued.", number=notice.number) if issued else
              _("The figures have not changed: %(number)s is the current bulletin.", number=notice.number),
              "success")
    except CaseworkError as exc:
        db.session.rollback()
        flash(exc.message, "error")
    return redirect(url_for("supervision.board", unit=unit.id), 303)


@bp.route("/supervision/bulletins/<int:notice_id>/post", methods=["POST"])
@login_required
def bulletin_post(notice_id: int):
    notice = db.session.get(Notice, notice_id)
    if notice is None or notice.kind != "supervision_bulletin":
        abort(404)
    try:
        ops.post_bulletin(notice, current_user)
        db.session.commit()
        flash(_("Bulletin %(number)s is on the public board.", number=notice.number), "success")
    except CaseworkError as exc:
        db.session.rollback()
        flash(exc.message, "error")
    return redirect(url_for("supervision.board", unit=notice.unit_id), 303)


@bp.route("/board/supervision/<int:posting_id>.pdf")
def public_bulletin(posting_id: int):
    """A posted bulletin, for everyone: it names departments and figures only."""
    from ..notices.views import send
    posting = db.session.get(BulletinPosting, posting_id)
    if posting is None:
        abort(404)
    return send(db.session.get(Notice, posting.notice_id))
