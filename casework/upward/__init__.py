"""The yearly upward report (年度上报): a union submits its year's figures and account to the union above it,
whose staff accept it or return it with a reason. Pages (views.py), API (api.py), export (the one writer)."""
from __future__ import annotations

from flask import Flask

from . import api, models, operations  # noqa: F401  (API blueprint; table; the workflow's rules)


def register(app: Flask):
    from .views import bp
    app.register_blueprint(bp)
