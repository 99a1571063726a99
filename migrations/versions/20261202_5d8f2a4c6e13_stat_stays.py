"""statistics: the stays aggregate kept by the engine, filled from the audit history; period indexes

Revision ID: 5d8f2a4c6e13
Revises: b7d3e5f9a1c2
Create Date: 2026-12-02 05:10:00
"""
import sqlalchemy as sa
from alembic import op

revision = "5d8f2a4c6e13"
down_revision = "b7d3e5f9a1c2"
branch_labels = None
depends_on = None

# The same stays casework.stats.aggregates.rebuild computes (`casework stats-rebuild`), in each dialect's SQL.
FILL = """
INSERT INTO stat_stays (case_id, unit_id, kind, state, entered_at, deadline, left_at, left_by, left_to, rating,
                        seconds)
SELECT m.case_id, c.unit_id, c.kind, m.state, m.entered_at, m.deadline, m.left_at, m.left_by, m.left_to, m.rating,
       {seconds}
FROM (SELECT case_id, to_state AS state, at AS entered_at, {deadline} AS deadline,
             lead(at) OVER w AS left_at, lead("trigger") OVER w AS left_by, lead(to_state) OVER w AS left_to,
             lead(CASE WHEN "trigger" = 'rate_unsatisfied' THEN 'unsatisfied' ELSE {rating} END) OVER w AS rating
      FROM audit_entries
      WHERE case_id IS NOT NULL AND (from_state != to_state OR seq = 1)
      WINDOW w AS (PARTITION BY case_id ORDER BY seq)) m
JOIN cases c ON c.id = m.case_id
WHERE m.left_at IS NOT NULL
"""
SQL = {
    "sqlite": dict(seconds="CAST(round((julianday(m.left_at) - julianday(m.entered_at)) * 86400) AS INTEGER)",
                   deadline="JSON_EXTRACT(changes, '$.\"deadline\"[1]')",
                   rating="JSON_EXTRACT(changes, '$.\"inputs\".\"satisfaction\"')"),
    "postgresql": dict(seconds="CAST(round(extract(epoch FROM m.left_at - m.entered_at)) AS BIGINT)",
                       deadline="changes #>> '{deadline, 1}'", rating="changes #>> '{inputs, satisfaction}'"),
}


def upgrade():
    op.create_table(
        "stat_stays",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("case_id", sa.Integer(), nullable=False),
        sa.Column("unit_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("state", sa.String(length=40), nullable=False),
        sa.Column("entered_at", sa.DateTime(), nullable=False),
        sa.Column("deadline", sa.String(length=40), nullable=True),
        sa.Column("left_at", sa.DateTime(), nullable=False),
        sa.Column("left_by", sa.String(length=60), nullable=False),
        sa.Column("left_to", sa.String(length=40), nullable=False),
        sa.Column("rating", sa.String(length=40), nullable=True),
        sa.Column("seconds", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(["case_id"], ["cases.id"], name=op.f("fk_stat_stays_case_id_cases")),
        sa.ForeignKeyConstraint(["unit_id"], ["units.id"], name=op.f("fk_stat_stays_unit_id_units")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_stat_stays")),
    )
    op.create_index("ix_stat_stays_left_at", "stat_stays", ["left_at"])
    op.create_index("ix_stat_stays_case_step", "stat_stays", ["case_id", "left_by", "left_to"])
    # A period's cases by creation date, and its home visits by visit date, without the rest of history.
    op.create_index("ix_cases_created_at", "cases", ["created_at"])
    op.create_index("ix_aid_visits_visited_on", "aid_visits", ["visited_on"])
    dialect = op.get_bind().dialect.name
    if dialect in SQL:
        op.execute(FILL.format(**SQL[dialect]))


def downgrade():
    op.drop_index("ix_aid_visits_visited_on", table_name="aid_visits")
    op.drop_index("ix_cases_created_at", table_name="cases")
    op.drop_index("ix_stat_stays_case_step", table_name="stat_stays")
    op.drop_index("ix_stat_stays_left_at", table_name="stat_stays")
    op.drop_table("stat_stays")
