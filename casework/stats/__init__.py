"""Statistics per unit and period: SQL aggregates, a dashboard with SVG charts, the JSON API, and each unit's
annual reports as PDF notices (reports.py)."""
from __future__ import annotations

from . import aggregates, api, cli, reports  # noqa: F401  (the engine's hook, stats-rebuild; API blueprints)


def register(app):
    from .views import bp
    app.register_blueprint(bp)
