"""Pages of the upward report: the union's list and form, the upper union's inbox with accept and return, a
report with its frozen figures, its audit trail, and the exports (one report; all reports of a year)."""
from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from ..clock import today
from ..core import engine
from ..core.errors import Invalid
from ..core.models import entries_of, verify_chain
from ..exports.writer import respond
from ..extensions import db
from ..forms import committed
from . import operations as ops

bp = Blueprint("upward", __name__, url_prefix="/upward-reports")
FORMATS = ("csv", "xlsx")


def _year_arg():
    raw = request.args.get("year")
    if raw in (None, ""):
        return None
    try:
        return ops.read_year(raw)
    except Invalid:
        return None


@bp.route("")
@login_required
def index():
    year = _year_arg()
    units = ops.draftable_units(current_user)
    mine, received = ops.outbox(current_user, year), ops.inbox(current_user, year)
    reviewer = ops.reviews_any(current_user)
    if not (units or mine or reviewer):
        abort(403)
    return render_template("upward/list.html", mine=mine, received=received, units=units, year=year,
                           this_year=today().year, form={}, errors={}, reviewer=reviewer)


@bp.route("", methods=["POST"])
@login_required
def create():
    errors = {}

    def refused(exc):
        errors.update(exc.fields or {"unit": str(exc.message)})
    done, report = committed(lambda: ops.draft(current_user, request.form), refused)
    if done:
        flash(_("The draft is saved."), "success")
        return redirect(url_for("upward.view", report_id=report.id))
    return render_template("upward/list.html", mine=ops.outbox(current_user), received=ops.inbox(current_user),
                           units=ops.draftable_units(current_user), year=None, this_year=today().year,
                           form=request.form, errors=errors, reviewer=ops.reviews_any(current_user)), 422


@bp.route("/<int:report_id>")
@login_required
def view(report_id: int):
    report = ops.load(report_id, current_user)
    steps = engine.available(report, current_user)
    return render_template("upward/view.html", r=report, steps=steps,
                           may_correct=report.status in ("draft", "returned") and ops.may_draft(current_user,
                                                                                               report.unit),
                           live=ops.figures_of(report) if report.figures is None else None,
                           figures_intact=ops.figures_intact(report), columns=ops.FIGURES)


@bp.route("/<int:report_id>/summary", methods=["POST"])
@login_required
def correct(report_id: int):
    report = ops.load(report_id, current_user)
    version = request.form.get("version", type=int)
    done, _r = committed(lambda: ops.correct(report, current_user, request.form, version))
    if done:
        flash(_("The draft is saved."), "success")
    return redirect(url_for("upward.view", report_id=report_id))


@bp.route("/<int:report_id>/steps/<trigger>", methods=["POST"])
@login_required
def step(report_id: int, trigger: str):
    report = ops.load(report_id, current_user)
    version = request.form.get("version", type=int)
    done, _outcome = committed(lambda: engine.fire(report, trigger, current_user, request.form.to_dict(),
                                                   version=version))
    if done:
        flash(_("Done."), "success")
    return redirect(url_for("upward.view", report_id=report_id))


@bp.route("/<int:report_id>/audit")
@login_required
def audit(report_id: int):
    report = ops.load(report_id, current_user)
    entries = db.session.scalars(entries_of(report)).all()
    return render_template("audit_trail.html",
                           title=_("Audit trail of the upward report of %(unit)s for %(year)s",
                                   unit=report.unit.name, year=report.year),
                           entries=entries, intact=verify_chain(report)[0],
                           back=url_for("upward.view", report_id=report.id))


@bp.route("/<int:report_id>/export.<fmt>")
@login_required
def export_one(report_id: int, fmt: str):
    if fmt not in FORMATS:
        abort(404)
    report = ops.load(report_id, current_user)
    return respond(fmt, f"上报_{report.unit.code}_{report.year}", "上报", ops.export_headers(),
                   [ops.export_row(report)])


@bp.route("/year/<int:year>/export.<fmt>")
@login_required
def export_year(year: int, fmt: str):
    if fmt not in FORMATS:
        abort(404)
    year = ops.read_year(str(year))
    if not ops.reviews_any(current_user):
        abort(403)
    rows = [ops.export_row(r) for r in ops.year_reports(current_user, year)]
    return respond(fmt, f"上报_{year}", f"上报{year}", ops.export_headers(), rows)
