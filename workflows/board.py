"""A disclosure's life on the public board (公示): WORKFLOWS.md, "Disclosure" and "Votes, seats and 回避".

A batch waits for the committee's sign-off (a quorum vote); signed off, it is posted for its period, then
ended by the scheduler; a correction supersedes a posted or ended version.
"""
from __future__ import annotations

from enum import Enum

from .base import Transition, Workflow


class State(str, Enum):
    awaiting_signoff = "awaiting_signoff"
    scheduled = "scheduled"
    posted = "posted"
    ended = "ended"
    superseded = "superseded"


TRANSITIONS = [
    Transition("sign_off", ("awaiting_signoff", "scheduled"), "posted", ("committee",), vote=True,
               effects=("post_disclosure", "issue_board_pdf")),
    Transition("end", ("posted",), "ended", ("scheduler",), automatic=True),
    Transition("supersede", ("posted", "ended"), "superseded", ("scheduler",), automatic=True),
]

WORKFLOW = Workflow("board", State, "awaiting_signoff", TRANSITIONS, final=("ended", "superseded"))
