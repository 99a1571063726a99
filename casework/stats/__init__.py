"""Statistics per unit and period: SQL aggregates, a dashboard with SVG charts, and the JSON API."""
from __future__ import annotations

from . import api  # noqa: F401  (API blueprint, mounted by casework.api)


def register(app):
    from .views import bp
    app.register_blueprint(bp)
