"""The retention page: what the next sweep would anonymise (PIPL art. 47), and the requests under a legal hold."""
from __future__ import annotations

from flask import render_template, request
from flask_babel import gettext as _

from ..clock import today
from .access import admin_required
from .views import bp


@bp.route("/retention")
@admin_required
def retention():
    from datetime import date

    from ..privacy import retention as rules
    raw = (request.args.get("at") or "").strip()
    error, day = None, today()
    if raw:
        try:
            day = date.fromisoformat(raw)
        except ValueError:
            error = _("Enter dates as YYYY-MM-DD.")
    planned = rules.plan(day)
    return render_template("admin/retention.html", planned=planned, held=rules.held(), day=day, error=error,
                           months=rules.reads_months(), cutoff=rules.reads_cutoff_day(day)), 422 if error else 200
