from __future__ import annotations

from sqlalchemy import JSON, Boolean, ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..core.models import Case, CongressSession


class Motion(Case):
    """职代会/教代会提案."""
    __tablename__ = "motions"
    id: Mapped[int] = mapped_column(ForeignKey("cases.id"), primary_key=True)
    session_id: Mapped[int] = mapped_column(ForeignKey("congress_sessions.id"), index=True)
    reasons: Mapped[str] = mapped_column(Text)
    proposal_text: Mapped[str] = mapped_column(Text)
    merged_into_id: Mapped[int | None] = mapped_column(ForeignKey("motions.id"))
    co_department_ids: Mapped[list] = mapped_column(JSON, default=list)
    reopened: Mapped[bool] = mapped_column(Boolean, default=False)
    satisfaction: Mapped[str | None] = mapped_column(String(30))
    reply: Mapped[str] = mapped_column(Text, default="")
    session: Mapped[CongressSession] = relationship()
    __mapper_args__ = {"polymorphic_identity": "motion", "inherit_condition": id == Case.id,
                       "polymorphic_load": "selectin"}
