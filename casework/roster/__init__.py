"""The member roster (会员花名册): import from XLSX/CSV with a dry run, one-time activation codes printed per
unit, resident ID numbers kept encrypted. `operations.import_roster` is the one import for the CLI, the admin
pages and the API."""
from __future__ import annotations

from flask import Flask

from . import models  # noqa: F401  (tables)


def register(app: Flask):
    from . import api, cli  # noqa: F401  (the API blueprint and the `import-roster` command)
    from . import recovery  # noqa: F401  (its pages join the roster blueprint)
    from .views import admin_bp, bp
    app.register_blueprint(bp)
    app.register_blueprint(admin_bp)
    if "api" in app.blueprints and "roster_api" not in app.blueprints:
        # Mounted after the API collected its blueprints: mount ours the way it would have.
        from ..extensions import csrf
        csrf.exempt(api.bp)
        app.register_blueprint(api.bp)
