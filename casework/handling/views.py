"""The case page's panel of handling by departments: routings with the time spent, receipt, opinions."""
from __future__ import annotations

from . import operations as ops


def panel(case) -> dict | None:
    if case.kind not in ("motion", "proposal"):
        return None
    out = ops.handling(case)
    return out if out["routings"] else None


def register(app):
    app.add_template_global(panel, "handling_panel")
