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


@due_task("disclosure_pdfs")
def _issue_missing_pdfs(at) -> int:
    """Postings signed off before their PDF was issued with the sign-off (older rows) get it here, never on
    a reader's request."""
    from sqlalchemy import select

    from ..extensions import db
    from ..notices.models import Notice
    from ..notices.operations import for_disclosure
    from .models import Disclosure
    issued = set(db.session.scalars(select(Notice.subject).where(Notice.subject.like("disclosure:%"))))
    missing = [d for d in db.session.scalars(select(Disclosure).where(
        Disclosure.status.in_(("posted", "ended", "superseded")), Disclosure.starts_at.is_not(None)))
        if f"disclosure:{d.id}" not in issued]
    for d in missing:
        for_disclosure(d)
    return len(missing)
