"""The hardship household register (困难职工档案): households in difficulty registered after a verification
visit with the committee's approval, re-checked every year, linked to their aid requests.

For the scheduler's sweep: `send_review_reminders(at)` (operations.py) reminds once per household and year.
For the aid submit guard: `rules.check_aid_register(step)`.
"""
from __future__ import annotations

from flask import Flask

from . import api, models, rules  # noqa: F401  (API blueprint; tables; the aid_requires_register_<category> settings)
from .operations import due_reviews, send_review_reminders

__all__ = ["register", "due_reviews", "send_review_reminders"]


def register(app: Flask):
    from flask_login import current_user

    from ..scheduler.sweep import due_task
    due_task("register_reviews")(send_review_reminders)

    from .views import bp
    app.register_blueprint(bp)

    @app.context_processor
    def _register_helpers():
        def hint(user=None):
            user = user or current_user
            return rules.aid_register_hint(user) if user and user.is_authenticated else None
        return {"aid_register_hint": hint}
