"""Two-part ratings (办理态度 / 办理结果) of a reply, shared by motions and proposals: WORKFLOWS.md, Ratings.

The author and each co-signer (co-proposer) rate once per reply, within the rating period; 不满意 on either
part opens a call-back (workflows/callback.py). The old single `satisfaction` input still works: it is the
result part.
"""
from __future__ import annotations

from .base import Field, Transition

RATINGS = ("satisfied", "basically_satisfied", "unsatisfied")
RATERS = ("author", "cosigner")
# A final state (a closed motion, a declined proposal) still takes the ratings of its reply, and a call-back's
# fix hands it back for re-handling; nothing else leaves it.
AFTER_FINAL = frozenset({"rate", "rehandle"})


def rate_fields(old_choices: tuple[str, ...] = ()) -> tuple[Field, ...]:
    fields = (Field("attitude", "choice", required=False, choices=RATINGS),
              Field("result", "choice", required=False, choices=RATINGS))
    if old_choices:
        fields += (Field("satisfaction", "choice", required=False, choices=old_choices, api_only=True),)
    return fields


def rate_transitions(dest_by_state: dict[str, str], old_choices: tuple[str, ...] = ()) -> list[Transition]:
    """`rate` from each state: to `dest_by_state[state]` for the author, in place for a co-signer."""
    common = dict(fields=rate_fields(old_choices), effects=("record_rating",),
                  guards=("rating_complete", "rating_period_open", "not_rated_yet"))
    out = []
    for state, dest in dest_by_state.items():
        # The engine takes inputs and guards from the first candidate: both branches share them.
        if dest != state:
            out.append(Transition("rate", (state,), state, RATERS, conditions=("by_cosigner",), **common))
            out.append(Transition("rate", (state,), dest, RATERS, unless=("by_cosigner",), **common))
        else:
            out.append(Transition("rate", (state,), state, RATERS, **common))
    return out
