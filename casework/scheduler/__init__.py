"""The scheduler: deadlines' reminders and escalation, automatic steps, e-mail delivery, `run-due`.

`run_due(at)` (sweep.py) is the work; `flask --app wsgi casework scheduler` (jobs.py) runs it on a timer in
its own process under a database lease (lease.py); `flask --app wsgi casework run-due` runs it once.
Other modules add their own timers with `@due_task(name)`.
"""
from __future__ import annotations

from flask import Flask

from . import models  # noqa: F401  (tables)
from .sweep import Report, due_task, run_due

__all__ = ["register", "run_due", "due_task", "Report"]


def register(app: Flask):
    from . import cli  # noqa: F401  (adds its commands to the `casework` group)
    from .views import bp
    app.register_blueprint(bp)
