"""Supervision (督办): progress notes by handling departments, 督办 slips in three colours (issued by union
staff or by the sweep), the supervision board and the monthly bulletin. Rules: workflows/supervision.py."""
from __future__ import annotations

from flask import Flask

from . import api, models, rules  # noqa: F401  (API blueprint; tables; the effects the workflows name)

__all__ = ["register"]


def register(app: Flask):
    from flask_login import current_user

    from ..core import engine
    from ..scheduler.sweep import due_task
    from . import operations as ops
    from .views import bp
    due_task("supervision_slips")(ops.sweep)
    app.register_blueprint(bp)

    def case_panel(case):
        """What the case page shows: progress notes to whoever sees the case; slips to its department and
        to staff; the slip form to staff."""
        user = current_user
        if case is None or not case.id or case.kind not in ops.rules.SUPERVISED:
            return None
        slips = [s for s in ops.for_case(case) if ops.may_see(user, s)]
        return {"notes": ops.notes_of(case), "slips": slips,
                "answerable": {s.id for s in slips if "answer" in engine.available(s, user)},
                "may_issue": ops.supervised(case) and ops.may_issue(user, case),
                "colours": ops.rules.COLOURS}

    app.add_template_global(case_panel, "supervision_panel")
    app.add_template_global(lambda: ops.open_for_user(current_user) if current_user.is_authenticated else [],
                            "my_open_slips")
    app.add_template_global(lambda: current_user.is_authenticated and bool(ops.board_units(current_user)),
                            "show_supervision_link")
    app.add_template_global(ops.public_postings, "posted_bulletins")
    from ..labels import SLIP_COLOUR_LABELS, SLIP_REASON_LABELS
    app.add_template_global(lambda colour: str(SLIP_COLOUR_LABELS.get(colour, colour)), "slip_colour")
    app.add_template_global(lambda reason: str(SLIP_REASON_LABELS.get(reason, reason)), "slip_reason")

