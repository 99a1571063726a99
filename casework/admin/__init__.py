"""Administration: the pages for people, units, departments, delegations, settings, the calendar and
retention."""
from __future__ import annotations


def register(app):
    from . import retention  # noqa: F401  (its page joins the blueprint)
    from .views import bp
    app.register_blueprint(bp)
