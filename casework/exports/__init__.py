"""CSV and XLSX exports of queues, lists and statistics, limited to what the user can see."""
from __future__ import annotations


def register(app):
    from .views import bp
    app.register_blueprint(bp)
