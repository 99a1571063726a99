"""The workflow effects that belong to disclosure."""
from __future__ import annotations

from sqlalchemy import select

from ..clock import utcnow
from ..core.engine import Step, effect, guard
from ..extensions import db
from . import operations
from .models import Disclosure, DisclosureItem


@effect("join_disclosure")
def _join(step: Step):
    operations.join(step.case)


@effect("answer_objection")
def _answer(step: Step):
    for row in operations.open_objections(step.case):
        row.answer, row.status, row.answered_at = step.text("answer"), "answered", utcnow()
    if step.case.state == "posting":  # dismissed within the period: the posting's deadline again
        step.case.deadline = operations.posting_ends_on(step.case)


@effect("publish_correction")
def _correct(step: Step):
    new = operations.correct(step.case, step.text("answer"))
    if new is not None:
        step.record("correction", None, f"v{new.version}")


@guard("disclosure_posted")
def _disclosure_posted(step: Step):
    from flask_babel import gettext as _
    posted = db.session.scalar(select(DisclosureItem.id).join(Disclosure).where(
        DisclosureItem.case_id == step.case.id, Disclosure.status.in_(("posted", "ended"))))
    return None if posted else _("The reward has not been publicly posted yet.")
