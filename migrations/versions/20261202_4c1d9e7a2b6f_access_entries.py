"""privacy: the reads log of aid requests' sensitive parts, hash-chained per case; correction requests

Revision ID: 4c1d9e7a2b6f
Revises: b7d2e9f4a1c3
Create Date: 2026-12-02 01:40:00
"""
import sqlalchemy as sa
from alembic import op

revision = "4c1d9e7a2b6f"
down_revision = "b7d2e9f4a1c3"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "access_entries",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("chain", sa.String(length=40), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("at", sa.DateTime(), nullable=False),
        sa.Column("case_id", sa.Integer(), nullable=True),
        sa.Column("user_id", sa.Integer(), nullable=True),
        sa.Column("actor_label", sa.String(length=80), nullable=False),
        sa.Column("what", sa.String(length=120), nullable=False),
        sa.Column("address", sa.String(length=64), nullable=False),
        sa.Column("allowed", sa.Boolean(), nullable=False),
        sa.Column("prev_hash", sa.String(length=64), nullable=False),
        sa.Column("hash", sa.String(length=64), nullable=False),
        sa.ForeignKeyConstraint(["case_id"], ["cases.id"], name=op.f("fk_access_entries_case_id_cases")),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], name=op.f("fk_access_entries_user_id_users")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_access_entries")),
        sa.UniqueConstraint("chain", "seq", name=op.f("uq_access_entries_chain_seq")),
    )
    op.create_index("ix_access_entries_case_id", "access_entries", ["case_id"])
    op.create_index("ix_access_entries_at", "access_entries", ["at"])
    op.create_table(
        "correction_requests",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("at", sa.DateTime(), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("channel", sa.String(length=10), nullable=False),
        sa.Column("recorded_by_id", sa.Integer(), nullable=True),
        sa.Column("status", sa.String(length=10), nullable=False),
        sa.Column("answer", sa.Text(), nullable=False),
        sa.Column("answered_by_id", sa.Integer(), nullable=True),
        sa.Column("answered_at", sa.DateTime(), nullable=True),
        sa.CheckConstraint("status IN ('open', 'answered')", name=op.f("ck_correction_requests_status")),
        sa.CheckConstraint("channel IN ('online', 'paper')", name=op.f("ck_correction_requests_channel")),
        sa.CheckConstraint("(status = 'answered') = (answered_at IS NOT NULL)",
                           name=op.f("ck_correction_requests_answered")),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], name=op.f("fk_correction_requests_user_id_users")),
        sa.ForeignKeyConstraint(["recorded_by_id"], ["users.id"],
                                name=op.f("fk_correction_requests_recorded_by_id_users")),
        sa.ForeignKeyConstraint(["answered_by_id"], ["users.id"],
                                name=op.f("fk_correction_requests_answered_by_id_users")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_correction_requests")),
    )
    op.create_index(op.f("ix_correction_requests_user_id"), "correction_requests", ["user_id"])


def downgrade():
    op.drop_index(op.f("ix_correction_requests_user_id"), table_name="correction_requests")
    op.drop_table("correction_requests")
    op.drop_index("ix_access_entries_at", table_name="access_entries")
    op.drop_index("ix_access_entries_case_id", table_name="access_entries")
    op.drop_table("access_entries")
