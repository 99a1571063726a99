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


@due_task("disclosure_ack_reminders")
def _remind_unacknowledged(at) -> int:
    """Objections and reports nobody acknowledged by their day: union staff are reminded once each. The
    conditional UPDATE claims the row in the same transaction as the notices, so a second sweep sends nothing."""
    from flask_babel import force_locale
    from sqlalchemy import update

    from ..accounts.models import Unit
    from ..extensions import db
    from ..notifications.models import notify
    from ..scheduler.sweep import holders
    from .models import Objection
    sent = 0
    for row in operations.overdue_acknowledgements(local(at).date()):
        claimed = db.session.execute(update(Objection).where(Objection.id == row.id,
                                                             Objection.ack_reminded_at.is_(None))
                                     .values(ack_reminded_at=at).execution_options(synchronize_session=False))
        if not claimed.rowcount:
            continue
        staff, _unit = holders("union_staff", db.session.get(Unit, row.unit_id))
        kind = "异议" if row.kind == "objection" else "举报"
        with force_locale("zh"):
            for user in staff:
                notify(user, f"【确认提醒】{kind} {operations.grouped(row.tracking_code)} 尚未确认",
                       f"该{kind}于{local(row.at):%Y年%m月%d日}收到，应于{row.ack_due_on:%Y年%m月%d日}前确认收悉，"
                       f"至今未确认。请在“公示管理”页面确认并办理。")
        sent += 1
    return sent
