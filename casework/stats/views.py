"""The statistics dashboard: charts with the numbers as tables below them, and the unit's annual reports."""
from __future__ import annotations

from flask import Blueprint, render_template, request
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required
from wtforms import HiddenField, SelectField, StringField

from ..clock import today
from ..core.errors import Invalid
from ..extensions import db
from ..forms import BaseForm, opts
from .. import labels
from . import charts as svg
from . import reports
from .queries import Scope, compute
from .tables import charts, scope_for, tables, visible_units

bp = Blueprint("stats", __name__)


class AnnualReportForm(BaseForm):
    # The unit and period on show, so the dashboard comes back as it was when a field is wrong.
    unit = HiddenField()
    from_ = HiddenField(name="from")
    to = HiddenField()
    # Carried only: reports.read checks the kind and the year.
    kind = SelectField(_l("Report on"), choices=opts((k, labels.KIND_LABELS[k]) for k in reports.NOTICE_KINDS),
                       validate_choice=False)
    year = StringField(_l("Year"), render_kw={"inputmode": "numeric", "required": True})


@bp.route("/stats")
@login_required
def dashboard():
    scope = scope_for(current_user, request.args)
    year = scope.start.year if scope.start.year <= today().year else today().year
    form = AnnualReportForm(None, unit=scope.unit.id, from_=scope.start.isoformat(), to=scope.end.isoformat(),
                            year=year)
    return _page(scope, form)


@bp.route("/stats/annual-report", methods=["POST"])
@login_required
def annual_report():
    """Issue the unit's annual report (or take the current one when its figures are unchanged) and send it."""
    from ..notices.views import send
    form = AnnualReportForm(request.form)
    try:
        kind, year_scope = reports.read(current_user, request.form)
    except Invalid as exc:  # a wrong kind or year: the dashboard again, with the message on the field
        form.absorb(exc)
        return _page(scope_for(current_user, request.form), form), 422
    notice, _issued = reports.annual_report(kind, year_scope.unit, year_scope.start.year, current_user)
    db.session.commit()
    return send(notice)


def _page(scope: Scope, form: AnnualReportForm):
    stats = compute(scope, by_unit=True)
    units = visible_units(current_user)
    shown, pairs = tables(stats), charts(stats)
    unit = {"deadlines": "%"}
    return render_template(
        "stats/dashboard.html", scope=scope, stats=stats, tables=shown,
        charts={k: svg.bar_chart(v, unit=unit.get(k, ""), label=str(shown[k]["title"])) for k, v in pairs.items()},
        # Each chart's numbers again as a table: what a screen reader reads and a phone shows in full.
        chart_tables={k: {"headers": CHART_HEADERS[k], "rows": [(n, svg.shown(v, unit.get(k, ""))) for n, v in p]}
                      for k, p in pairs.items() if p},
        units=units, report_form=form)


# The columns of each chart's data table: what a bar names, and what its length counts.
CHART_HEADERS = {"cases": (_l("Type"), _l("Count")), "aid": (_l("Month"), _l("Amount (yuan)")),
                 "handling": (_l("Step"), _l("Average (hours)")), "deadlines": (_l("Step"), _l("Rate")),
                 "visits": (_l("Month"), _l("Visits made"))}
