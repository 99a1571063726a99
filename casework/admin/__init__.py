"""Administration: the pages for people, units, departments, delegations, settings and the calendar."""
from __future__ import annotations


def register(app):
    from .views import bp
    app.register_blueprint(bp)
