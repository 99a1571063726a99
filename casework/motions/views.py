"""Motion pages: my motions, the session report, co-handling departments' view."""
from __future__ import annotations

from flask import Blueprint, abort, redirect, render_template, url_for
from flask_login import current_user, login_required
from sqlalchemy import select

from ..accounts.models import Department
from ..core.models import CongressSession
from ..extensions import db
from . import operations as ops
from .models import Motion

bp = Blueprint("motions", __name__)


@bp.route("/motions/mine")
@login_required
def mine():
    motions = ops.mine(current_user)
    targets = {m.merged_into_id: db.session.get(Motion, m.merged_into_id) for m in motions if m.merged_into_id}
    return render_template("motions/mine.html", motions=motions, targets=targets)


@bp.route("/sessions/<int:session_id>/report")
@login_required
def report(session_id: int):
    session = db.session.get(CongressSession, session_id)
    if session is None:
        abort(404)
    if not ops.sees_session(current_user, session):
        abort(403)
    return render_template("motions/report.html", report=ops.session_report(session))


@bp.route("/motions/co-handling")
@login_required
def co_handling():
    return render_template("motions/co_handling.html", motions=ops.co_handling(current_user))


@bp.route("/motions/<int:motion_id>/brief")
@login_required
def brief(motion_id: int):
    """Where co-handling departments used to read a motion: the case page is theirs now too."""
    motion = db.session.get(Motion, motion_id)
    if motion is None or not ops.may_read(current_user, motion):
        abort(404)
    return redirect(url_for("web.case_view", kind="motion", case_id=motion.id))


def panel(case: Motion, user) -> dict:
    """What the case page shows of a motion beyond the generic details."""
    depts = {d.id: d for d in db.session.scalars(select(Department))}
    return {"co_departments": [depts[i] for i in case.co_department_ids or () if i in depts],
            "merged_into": db.session.get(Motion, case.merged_into_id) if case.merged_into_id else None,
            "merged_here": db.session.scalars(select(Motion).where(Motion.merged_into_id == case.id)).all(),
            "replies": ops.replies([case])[case.id], "co_handler": ops.co_handles(user, case)}


def register(app):
    app.register_blueprint(bp)
    app.add_template_global(panel, "motion_panel")
