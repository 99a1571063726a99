"""Administration: the pages for people, units, departments, delegations, settings, the calendar, robots and
retention."""
from __future__ import annotations


def register(app):
    from .robots import bp as robots
    from . import retention  # noqa: F401  (its page joins the blueprint)
    from .views import bp
    app.register_blueprint(bp)
    app.register_blueprint(robots)
