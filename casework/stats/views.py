"""The statistics dashboard: charts with the numbers as tables below them."""
from __future__ import annotations

from flask import Blueprint, render_template, request
from flask_login import current_user, login_required
from sqlalchemy import select

from ..accounts.models import Unit
from ..extensions import db
from . import charts as svg
from .queries import compute
from .tables import charts, scope_for, tables

bp = Blueprint("stats", __name__)


@bp.route("/stats")
@login_required
def dashboard():
    scope = scope_for(current_user, request.args)
    stats = compute(scope)
    units = db.session.scalars(select(Unit).where(Unit.path.startswith(scope.unit.path)).order_by(Unit.path)).all()
    return render_template("stats/dashboard.html", scope=scope, stats=stats, tables=tables(stats),
                           charts={k: svg.bar_chart(v, unit="%" if k == "deadlines" else "")
                                   for k, v in charts(stats).items()}, units=units)
