"""Public disclosure (厂务公开): postings on the board, objections, reports, corrections."""
from __future__ import annotations

from . import api, jobs, models, rules  # noqa: F401  (API blueprint, timers, tables, workflow effects)


def register(app):
    from .operations import case_objections
    from .views import bp
    app.register_blueprint(bp)
    app.add_template_global(case_objections, "case_objections")
