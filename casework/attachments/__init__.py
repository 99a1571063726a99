"""Attachments: documents and visit photos on a case (shared/design/WORKFLOWS.md, PITFALLS.md "uploads")."""
from __future__ import annotations


def register(app):
    from . import api  # noqa: F401  (its blueprint is mounted later, with the rest of the API)
    from .views import bp, panel
    app.register_blueprint(bp)
    app.add_template_global(panel, "attachment_panel")
