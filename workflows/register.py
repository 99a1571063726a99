"""The hardship register's review (困难职工档案): WORKFLOWS.md, "Votes, seats and 回避".

Union staff propose a household after a visit; the unit's committee registers or rejects it by a quorum vote;
staff re-check it yearly and may remove it with a reason; a rejected or removed household may be proposed again.
"""
from __future__ import annotations

from enum import Enum

from .base import Transition, Workflow


class State(str, Enum):
    proposed = "proposed"
    registered = "registered"
    rejected = "rejected"
    removed = "removed"


TRANSITIONS = [
    Transition("approve", ("proposed",), "registered", ("committee",), vote=True,
               effects=("register_household",)),
    Transition("reject", ("proposed",), "rejected", ("committee",), vote=True, comment_required=True,
               effects=("decline_household",)),
    Transition("recheck", ("registered",), "registered", ("union_staff",)),
    Transition("remove", ("registered",), "removed", ("union_staff",), comment_required=True),
    Transition("propose", ("rejected", "removed"), "proposed", ("union_staff",)),
]

WORKFLOW = Workflow("register", State, "proposed", TRANSITIONS, final=())
