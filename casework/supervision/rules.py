"""The effects the supervision rules name: a case's progress note, a slip's answer and closing."""
from __future__ import annotations

from ..core.engine import Step, effect
from . import operations


@effect("record_progress")
def _record_progress(step: Step):
    operations.record_progress(step)


@effect("record_slip_answer")
def _record_slip_answer(step: Step):
    operations.record_answer(step)


@effect("close_slip")
def _close_slip(step: Step):
    operations.record_close(step)
