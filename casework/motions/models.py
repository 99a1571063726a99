"""The congress motion (a case kind: session, reasons, merge, co-handling departments, reply, rating)."""
from __future__ import annotations

from sqlalchemy import JSON, Boolean, ForeignKey, String, Text, delete, event, insert, inspect
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..core.models import Case, CaseCoDepartment, CongressSession


class Motion(Case):
    """职代会/教代会提案."""
    __tablename__ = "motions"
    id: Mapped[int] = mapped_column(ForeignKey("cases.id"), primary_key=True)
    session_id: Mapped[int] = mapped_column(ForeignKey("congress_sessions.id"), index=True)
    reasons: Mapped[str] = mapped_column(Text)
    proposal_text: Mapped[str] = mapped_column(Text)
    merged_into_id: Mapped[int | None] = mapped_column(ForeignKey("motions.id"))
    # The co-handling departments in the order named; case_co_departments mirrors them for SQL.
    co_department_ids: Mapped[list] = mapped_column(JSON, default=list)
    reopened: Mapped[bool] = mapped_column(Boolean, default=False)
    satisfaction: Mapped[str | None] = mapped_column(String(30))
    reply: Mapped[str] = mapped_column(Text, default="")
    session: Mapped[CongressSession] = relationship()
    __mapper_args__ = {"polymorphic_identity": "motion", "inherit_condition": id == Case.id,
                       "polymorphic_load": "selectin"}


def _co_departments(motion: Motion) -> list[int]:
    return sorted({int(d) for d in motion.co_department_ids or () if isinstance(d, int) or str(d).isdigit()})


@event.listens_for(Motion, "after_insert")
def _index_new_co_departments(mapper, connection, motion: Motion):
    rows = [{"case_id": motion.id, "department_id": d} for d in _co_departments(motion)]
    if rows:
        connection.execute(insert(CaseCoDepartment), rows)


@event.listens_for(Motion, "after_update")
def _index_changed_co_departments(mapper, connection, motion: Motion):
    # Same flush, same transaction: the index never disagrees with the list a reader sees.
    if not inspect(motion).attrs.co_department_ids.history.has_changes():
        return
    connection.execute(delete(CaseCoDepartment).where(CaseCoDepartment.case_id == motion.id))
    _index_new_co_departments(mapper, connection, motion)


def rebuild_co_department_index() -> int:
    """Fills case_co_departments for motions that have co-handling departments but no index rows (a backup
    taken before the index existed); returns how many rows were added."""
    from sqlalchemy import select
    from ..extensions import db
    indexed = select(CaseCoDepartment.case_id)
    rows = [{"case_id": m.id, "department_id": d}
            for m in db.session.scalars(select(Motion).where(Motion.id.not_in(indexed)))
            for d in _co_departments(m)]
    if rows:
        db.session.execute(insert(CaseCoDepartment), rows)
    return len(rows)
