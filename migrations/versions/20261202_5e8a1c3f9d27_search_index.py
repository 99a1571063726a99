"""search: one row of jieba words per case, with SQLite FTS5 / PostgreSQL GIN full-text over it

Revision ID: 5e8a1c3f9d27
Revises: e1f3a5c7b9d2
Create Date: 2026-12-02 06:00:00
"""
import sqlalchemy as sa
from alembic import op

revision = "5e8a1c3f9d27"
down_revision = "e1f3a5c7b9d2"
branch_labels = None
depends_on = None

# What each kind's search_fields read at this revision (aid: nothing, its text is private).
TEXTS = {"proposals": ("title", "problem", "suggestion", "expected_benefit"),
         "motions": ("title", "reasons", "proposal_text")}


def upgrade():
    op.create_table(
        "search_texts",
        sa.Column("case_id", sa.Integer(), nullable=False),
        sa.Column("tokens", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(["case_id"], ["cases.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("case_id"),
    )
    if op.get_bind().dialect.name == "sqlite":
        # An external-content FTS5 table over search_texts, kept in step by triggers.
        op.execute("CREATE VIRTUAL TABLE search_fts USING fts5(tokens, content='search_texts', "
                   "content_rowid='case_id')")
        op.execute("CREATE TRIGGER search_texts_ai AFTER INSERT ON search_texts BEGIN "
                   "INSERT INTO search_fts(rowid, tokens) VALUES (new.case_id, new.tokens); END")
        op.execute("CREATE TRIGGER search_texts_ad AFTER DELETE ON search_texts BEGIN "
                   "INSERT INTO search_fts(search_fts, rowid, tokens) VALUES ('delete', old.case_id, old.tokens); END")
        op.execute("CREATE TRIGGER search_texts_au AFTER UPDATE ON search_texts BEGIN "
                   "INSERT INTO search_fts(search_fts, rowid, tokens) VALUES ('delete', old.case_id, old.tokens); "
                   "INSERT INTO search_fts(rowid, tokens) VALUES (new.case_id, new.tokens); END")
    else:
        op.execute("CREATE INDEX ix_search_texts_tsv ON search_texts USING gin (to_tsvector('simple', tokens))")
    _fill()


def _fill():
    from casework.search.index import tokens
    conn = op.get_bind()
    rows = []
    for table, fields in TEXTS.items():
        cols = ", ".join(("c.title" if f == "title" else f"t.{f}") for f in fields)
        for row in conn.execute(sa.text(f"SELECT c.id, {cols} FROM cases c JOIN {table} t ON t.id = c.id")):
            words = tokens("\n".join(str(v or "") for v in row[1:]))
            if words:
                rows.append({"case_id": row[0], "tokens": " ".join(words)})
    if rows:
        conn.execute(sa.text("INSERT INTO search_texts (case_id, tokens) VALUES (:case_id, :tokens)"), rows)


def downgrade():
    if op.get_bind().dialect.name == "sqlite":
        for trigger in ("search_texts_ai", "search_texts_ad", "search_texts_au"):
            op.execute(f"DROP TRIGGER IF EXISTS {trigger}")
        op.execute("DROP TABLE IF EXISTS search_fts")
    else:
        op.execute("DROP INDEX IF EXISTS ix_search_texts_tsv")
    op.drop_table("search_texts")
