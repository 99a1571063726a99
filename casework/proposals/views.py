"""Proposal pages: submit with co-proposers, my proposals, possible duplicates, the annual view."""
from __future__ import annotations

import re

from flask import Blueprint, abort, flash, jsonify, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required
from markupsafe import Markup, escape
from wtforms import StringField

import workflows

from ..accounts.models import Unit
from ..clock import today
from ..core import engine, kinds
from ..core.errors import CaseworkError
from ..core.permissions import sees_reviewer_notes
from ..extensions import db
from ..forms import transition_form
from ..labels import FIELD_LABELS
from ..web.case_forms import ProposalForm
from ..core.inputs import record_id
from . import operations as ops
from .models import Proposal, ProposalDuplicate

bp = Blueprint("proposals", __name__)
NUMBER = re.compile(r"\bP\d{4}-\d{5}\b")


class SubmitForm(ProposalForm):
    coproposers = StringField(FIELD_LABELS["coproposers"], render_kw={"maxlength": 600},
                              description=_l("User names of colleagues who propose it with you, "
                                             "separated by commas"))


@bp.get("/proposals/new")
@login_required
def new():
    return render_template("proposals/new.html", form=SubmitForm())


@bp.post("/proposals/similar")
@login_required
def similar():
    """What the page's script shows while the author writes (the same answer as the API's)."""
    form = request.form
    return jsonify(items=ops.similar_for_author(current_user, form.get("title"), form.get("problem"),
                                                form.get("suggestion")))


@bp.post("/proposals/new")
@login_required
def create():
    form = SubmitForm()
    if request.form.get("do") == "check":
        # Without the script: the same list, shown above the unchanged form, nothing saved.
        matches = ops.similar_for_author(current_user, form.title.data, form.problem.data, form.suggestion.data)
        return render_template("proposals/new.html", form=form, matches=matches, checked=True)
    if form.validate_on_submit():
        now = request.form.get("do") == "submit"

        def create_and_submit():
            case = kinds.create("proposal", form.data_for_engine(), current_user)
            if now:
                engine.fire(case, "submit", current_user)
            return case
        if case := form.commit(create_and_submit):
            flash(_("Proposal %(number)s submitted.", number=case.number) if now else
                  _("Draft %(number)s saved. Add attachments, then submit it.", number=case.number), "success")
            return redirect(url_for("web.case_view", kind="proposal", case_id=case.id))
    return render_template("proposals/new.html", form=form), 422


@bp.route("/proposals/mine")
@login_required
def mine():
    return render_template("proposals/mine.html", proposals=ops.mine(current_user))


def _load(case_id: int) -> Proposal:
    try:
        return kinds.load("proposal", case_id, current_user)
    except CaseworkError:
        abort(404)


@bp.route("/proposals/<int:proposal_id>/duplicates")
@login_required
def duplicates(proposal_id: int):
    case = _load(proposal_id)
    if not ops.sees_duplicates(current_user, case):
        abort(403)
    return render_template("proposals/duplicates.html", case=case, matches=ops.duplicates(case, current_user),
                           can_mark="decline" in engine.available(case, current_user))


@bp.post("/proposals/<int:proposal_id>/duplicate")
@login_required
def mark_duplicate(proposal_id: int):
    case_id = proposal_id
    case = _load(case_id)
    version = request.form.get("version", type=int)
    try:
        ops.mark_duplicate(case, request.form.get("original", ""), current_user, version=version,
                           note=request.form.get("note", "")[:5000])
        db.session.commit()
    except CaseworkError as exc:
        db.session.rollback()
        flash(str(exc.message), "error")
        return redirect(url_for("proposals.duplicates", proposal_id=case_id)), 303
    flash(_("%(number)s was answered as a duplicate.", number=case.number), "success")
    return redirect(url_for("web.case_view", kind="proposal", case_id=case_id))


def ScoreForm(version=None):  # noqa: N802  (a form class, built from the step's declared fields)
    form = transition_form(next(t for t in workflows.get("proposal").transitions if t.trigger == "score"))
    if version is not None:
        form.version.data = version
    return form


@bp.get("/proposals/<int:proposal_id>/score")
@login_required
def score(proposal_id: int):
    """An evaluator's score with its comment (the score's comment is an input of the step, not a remark)."""
    case = _load(proposal_id)
    form = ScoreForm(version=case.version)
    return render_template("proposals/score.html", case=case, form=form,
                           can_score="score" in engine.available(case, current_user))


@bp.post("/proposals/<int:proposal_id>/score")
@login_required
def record_score(proposal_id: int):
    case_id = proposal_id
    case = _load(case_id)
    form = ScoreForm()
    if form.validate_on_submit():
        try:
            engine.fire(case, "score", current_user, {"score": form.score.data, "comment": form.comment.data},
                        version=int(form.version.data) if (form.version.data or "").isdigit() else None)
            db.session.commit()
        except CaseworkError as exc:
            db.session.rollback()
            case = _load(case_id)
            form.absorb(exc)
        else:
            flash(_("Your score is recorded."), "success")
            return redirect(url_for("web.case_view", kind="proposal", case_id=case_id))
    return render_template("proposals/score.html", case=case, form=form,
                           can_score="score" in engine.available(case, current_user)), 422


@bp.route("/proposals/annual")
@login_required
def annual():
    units = ops.annual_units(current_user)
    if not units:
        abort(403)
    unit = db.session.get(Unit, request.args.get("unit", type=record_id) or units[0].id)
    if unit is None or unit not in units:
        abort(404)
    year = request.args.get("year", type=int) or today().year
    if not 2000 <= year <= 2100:
        abort(404)
    return render_template("proposals/annual.html", figures=ops.annual(unit, year), units=units, unit=unit,
                           year=year, years=range(today().year, today().year - 6, -1))


def panel(case: Proposal, user) -> dict:
    """What the case page shows of a proposal beyond the generic details."""
    dup = db.session.get(ProposalDuplicate, case.id)
    staff = ops.sees_duplicates(user, case)
    return {"coproposers": case.coproposers, "duplicate_of": dup.original if dup else None,
            "matches": ops.duplicates(case, user, limit=3) if staff and case.state == "submitted" else [],
            "staff": staff, "can_mark": staff and "decline" in engine.available(case, user),
            "reviewer": sees_reviewer_notes(user, case),
            "can_score": "score" in engine.available(case, user)}


def link_numbers(text: str) -> Markup:
    """Plain text with proposal numbers (P2026-00012) linked to their pages; everything else escaped."""
    out, last = [], 0
    for m in NUMBER.finditer(text or ""):
        case_id = ops.number_link(m.group(0))
        out.append(escape(text[last:m.start()]))
        out.append(Markup('<a href="%s">%s</a>') % (url_for("web.case_view", kind="proposal", case_id=case_id),
                                                     m.group(0)) if case_id else escape(m.group(0)))
        last = m.end()
    out.append(escape((text or "")[last:]))
    return Markup("").join(out)


def register(app):
    app.register_blueprint(bp)
    app.add_template_global(panel, "proposal_panel")
    app.add_template_filter(link_numbers, "link_proposals")
