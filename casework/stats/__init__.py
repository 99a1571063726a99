"""Statistics per unit and period: SQL aggregates, a dashboard with SVG charts, the JSON API, and each unit's
annual reports as PDF notices (reports.py)."""
from __future__ import annotations

from . import aggregates, api, reports  # noqa: F401  (the engine's hook; API blueprints, mounted by casework.api)


def register(app):
    from .views import bp
    app.register_blueprint(bp)
