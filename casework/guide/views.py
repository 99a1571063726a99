"""/help/workflows: the three case workflows drawn and listed, for everyone (they are the union's published
rules, WORKFLOWS.md), signed in or not."""
from __future__ import annotations

from flask import Blueprint, render_template

import workflows

from ..labels import STATE_LABELS, trigger_label
from .next_step import role_label

bp = Blueprint("guide", __name__)


def steps(kind: str) -> list[dict]:
    """One row per step people take, in table order: from which states, to which, who."""
    wf = workflows.get(kind)
    rows: list[dict] = []
    for t in wf.transitions:
        rows.append({"trigger": t.trigger, "label": trigger_label(t.trigger),
                     "source": [str(STATE_LABELS.get(s, s)) for s in t.source],
                     "dest": str(STATE_LABELS.get(t.dest, t.dest)),
                     "roles": [role_label(r) for r in t.roles], "vote": t.vote,
                     "automatic": t.automatic, "irreversible": t.irreversible})
    return rows


@bp.route("/help/workflows")
def workflows_help():
    kinds = list(workflows.WORKFLOWS)
    deadlines = {k: [(str(STATE_LABELS.get(s, s)), days) for s, (_key, days) in workflows.get(k).deadlines.items()]
                 for k in kinds}
    return render_template("guide/workflows.html", kinds=kinds, steps={k: steps(k) for k in kinds},
                           deadlines=deadlines)
