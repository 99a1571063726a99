"""The search index (a case's words, segmented by jieba and joined by spaces) and people's saved filters."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import DateTime, ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from ..clock import utcnow
from ..extensions import db

# SQLite's FTS5 table over search_texts and the tables FTS5 keeps for itself (made by the migration).
FTS_TABLES = frozenset({"search_fts", "search_fts_data", "search_fts_idx", "search_fts_docsize",
                        "search_fts_config"})
# PostgreSQL's expression index, which the models cannot describe.
FTS_INDEXES = frozenset({"ix_search_texts_tsv"})


def include_name(name, type_, _parent_names) -> bool:
    """For alembic's comparisons: the full-text machinery the migration builds outside the models."""
    return not (type_ == "table" and name in FTS_TABLES or type_ == "index" and name in FTS_INDEXES)


class SearchText(db.Model):
    __tablename__ = "search_texts"
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"), primary_key=True)
    tokens: Mapped[str] = mapped_column(Text, default="")


class SavedFilter(db.Model):
    """A list's query string (filters and order) that one person saved under a name, for /work or /cases."""
    __tablename__ = "saved_filters"
    __table_args__ = (UniqueConstraint("user_id", "page", "name"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    page: Mapped[str] = mapped_column(String(20))
    name: Mapped[str] = mapped_column(String(40))
    query: Mapped[str] = mapped_column(String(1000), default="")
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
