"""Pages of the call-backs (回访): the list for union staff and the committee, one call-back with its ratings,
the form that records it and the committee's vote on an appeal; and the ratings panel of a case page."""
from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

import workflows

from ..clock import today
from ..core import engine, votes
from ..core.errors import CaseworkError
from ..core.models import entries_of, verify_chain
from ..extensions import db
from ..forms import transition_form
from . import operations
from .models import CALLBACK_STATES, Callback

bp = Blueprint("ratings", __name__, url_prefix="/callbacks")
WF = workflows.get("callback")


def _callback(callback_id: int) -> Callback:
    cb = db.session.get(Callback, callback_id)
    if cb is None or not operations.can_view(current_user, cb):
        abort(404)
    return cb


@bp.route("")
@login_required
def index():
    state = request.args.get("state") or "due"
    if state != "all" and state not in CALLBACK_STATES:
        state = "due"
    return render_template("ratings/list.html", items=operations.visible(current_user, state), state=state,
                           states=CALLBACK_STATES, today=today())


def _forms(cb: Callback, failed: str | None = None, form=None):
    out = []
    for trigger in engine.available(cb, current_user):
        t = WF.candidates(trigger, cb.state)[0]
        if trigger != failed or form is None:
            fresh = transition_form(t, prefix=trigger)
            fresh.version.data = cb.version
        out.append((trigger, t, form if trigger == failed and form is not None else fresh))
    return out


def _render(cb: Callback, forms, status: int = 200):
    round_votes = votes.round_votes(cb)
    return render_template("ratings/view.html", cb=cb, forms=forms, votes=round_votes, tally=votes.tally(cb),
                           quorum=votes.quorum(cb) if round_votes else None), status


@bp.route("/<int:callback_id>")
@login_required
def view(callback_id: int):
    cb = _callback(callback_id)
    return _render(cb, _forms(cb))


@bp.route("/<int:callback_id>/<trigger>", methods=["POST"])
@login_required
def fire(callback_id: int, trigger: str):
    cb = _callback(callback_id)
    candidates = WF.candidates(trigger, cb.state) if trigger in WF.triggers else []
    if not candidates:
        flash(_("This call-back has moved on meanwhile; the action is no longer possible."), "error")
        return redirect(url_for("ratings.view", callback_id=cb.id)), 303
    form = transition_form(candidates[0], prefix=trigger)
    if form.validate_on_submit() and form.confirmed():
        version = int(form.version.data) if (form.version.data or "").isdigit() else None
        try:
            outcome = engine.fire(cb, trigger, current_user, form.data_for_engine(), version=version,
                                  comment=form.comment.data or "")
            db.session.commit()
        except CaseworkError as exc:
            db.session.rollback()
            cb = _callback(callback_id)
            form.absorb(exc)
            return _render(cb, _forms(cb, trigger, form), status=exc.status)
        if outcome.votes is not None and not outcome.moved:
            flash(_("Your vote is recorded: %(votes)s of %(quorum)s needed.", votes=outcome.votes,
                    quorum=outcome.quorum), "success")
        else:
            flash(_("Done."), "success")
        return redirect(url_for("ratings.view", callback_id=cb.id))
    return _render(cb, _forms(cb, trigger, form), status=422)


@bp.route("/<int:callback_id>/audit")
@login_required
def audit(callback_id: int):
    cb = _callback(callback_id)
    return render_template("audit_trail.html", title=_("Audit trail of the call-back on %(number)s",
                                                        number=cb.case.number),
                           entries=db.session.scalars(entries_of(cb)).all(), intact=verify_chain(cb)[0],
                           back=url_for("ratings.view", callback_id=cb.id))


def case_ratings(case) -> dict:
    """What a case page shows of its ratings and call-backs (cases/view.html)."""
    if case is None or not case.id or case.kind not in ("motion", "proposal"):
        return {"ratings": [], "callbacks": []}
    return {"ratings": operations.ratings_of(case),
            "callbacks": [(cb, operations.can_view(current_user, cb)) for cb in operations.callbacks_of(case)]}
