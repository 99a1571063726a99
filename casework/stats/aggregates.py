"""The statistics' aggregate (models.StatStay), kept by the engine's after-step hook in the step's own
transaction, and recomputed from the audit history by `casework stats-rebuild` (and the migration).

Both ways take every column from the same expressions over the audit entries (`_columns`), so a maintained
row and a recomputed one are equal by construction of the same SQL, not by two implementations agreeing.
One statement per state-changing step: an INSERT ... SELECT reading the entry that began the stay. Votes that
did not carry and reflexive steps end no stay and write nothing. Rows are per case, whose version-checked
UPDATE orders concurrent steps on it, so workers never race on a row.
"""
from __future__ import annotations

from sqlalchemy import BigInteger, Integer, case as when, cast, delete, extract, func, insert, literal, or_, select
from sqlalchemy.orm import aliased

from ..core.engine import Step, after_step
from ..core.models import AuditEntry, Case
from ..extensions import db
from .models import StatStay

COLUMNS = ("case_id", "unit_id", "kind", "state", "entered_at", "deadline", "left_at", "left_by", "left_to",
           "rating", "seconds")


def _seconds(start, end):
    if db.session.get_bind().dialect.name == "postgresql":
        return cast(func.round(extract("epoch", end - start)), BigInteger)
    return cast(func.round((func.julianday(end) - func.julianday(start)) * 86400), Integer)


def _deadline(entry):
    """The deadline the stay's entering step set (its audit `changes.deadline`), as ISO text or NULL."""
    return entry.changes[("deadline", 1)].as_string()


def _rating(entry):
    """The author's rating as the step recorded it (of a two-part rating its result; before two-part ratings
    the `satisfaction` input), or 'unsatisfied' for rate_unsatisfied."""
    return when((entry.trigger == "rate_unsatisfied", literal("unsatisfied")),
                else_=func.coalesce(entry.changes[("satisfaction", 1)].as_string(),
                                    entry.changes[("inputs", "satisfaction")].as_string()))


def _columns(case_id, unit_id, kind, state, entered_at, deadline, left_at, left_by, left_to, rating):
    return [case_id, unit_id, kind, state, entered_at, deadline, left_at, left_by, left_to, rating,
            _seconds(entered_at, left_at)]


def _opens_stay():
    return or_(AuditEntry.from_state != AuditEntry.to_state, AuditEntry.seq == 1)


@after_step
def record(step: Step, entry: AuditEntry) -> None:
    """The stay this step ended, if it changed a case's state."""
    if entry.case_id is None or entry.from_state == entry.to_state:
        return
    began = aliased(AuditEntry, name="began")
    ended = aliased(AuditEntry, name="ended")
    began_seq = (select(func.max(AuditEntry.seq))
                 .where(AuditEntry.case_id == entry.case_id, AuditEntry.seq < entry.seq, _opens_stay())
                 .scalar_subquery())
    case = step.case
    rows = (select(*_columns(began.case_id, literal(case.unit_id), literal(case.kind), began.to_state, began.at,
                             _deadline(began), ended.at, ended.trigger, ended.to_state, _rating(ended)))
            .select_from(began).join(ended, ended.case_id == began.case_id)
            .where(began.case_id == entry.case_id, began.seq == began_seq, ended.id == entry.id))
    db.session.execute(insert(StatStay).from_select(COLUMNS, rows))


def rebuild() -> dict[str, int]:
    """Recompute every stay from the audit history (the caller commits). Idempotent."""
    removed = db.session.execute(delete(StatStay)).rowcount
    later = dict(partition_by=AuditEntry.case_id, order_by=AuditEntry.seq)
    moves = (select(AuditEntry.case_id, AuditEntry.to_state.label("state"), AuditEntry.at.label("entered_at"),
                    _deadline(AuditEntry).label("deadline"),
                    func.lead(AuditEntry.at).over(**later).label("left_at"),
                    func.lead(AuditEntry.trigger).over(**later).label("left_by"),
                    func.lead(AuditEntry.to_state).over(**later).label("left_to"),
                    func.lead(_rating(AuditEntry)).over(**later).label("rating"))
             .where(AuditEntry.case_id.is_not(None), _opens_stay())
             .subquery())
    rows = (select(*_columns(moves.c.case_id, Case.unit_id, Case.kind, moves.c.state, moves.c.entered_at,
                             moves.c.deadline, moves.c.left_at, moves.c.left_by, moves.c.left_to, moves.c.rating))
            .join(Case, Case.id == moves.c.case_id).where(moves.c.left_at.is_not(None)))
    db.session.execute(insert(StatStay).from_select(COLUMNS, rows))
    made = db.session.scalar(select(func.count()).select_from(StatStay))
    return {"removed": max(removed or 0, 0), "stays": made}


def rows() -> list[tuple]:
    """Every stay, in a fixed order, without the row ids (which differ between kept and recomputed rows)."""
    columns = [getattr(StatStay, c) for c in COLUMNS]
    return [tuple(r) for r in db.session.execute(
        select(*columns).order_by(StatStay.case_id, StatStay.left_at, StatStay.state, StatStay.left_by))]


def differences() -> tuple[int, int, int]:
    """(kept rows, recomputed rows, rows that differ) without changing anything: the recomputation runs in a
    savepoint that is rolled back."""
    kept = rows()
    savepoint = db.session.begin_nested()
    try:
        rebuild()
        fresh = rows()
    finally:
        savepoint.rollback()
    from collections import Counter
    diff = Counter(kept)
    diff.subtract(Counter(fresh))
    return len(kept), len(fresh), sum(abs(n) for n in diff.values())
