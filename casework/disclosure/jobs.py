"""The board's timers, run by the scheduler's sweep: Monday batches and the end of posting periods."""
from __future__ import annotations

from ..clock import local
from ..scheduler.sweep import due_task
from . import operations


@due_task("disclosure_batches")
def _weekly_batches(at) -> int:
    return len(operations.weekly_batches(at))


@due_task("disclosure_end")
def _end_periods(at) -> int:
    return len(operations.end_due(local(at).date()))
