"""sign-in throttle per account and address; used human-check tokens

Revision ID: 3f6a9c1e7b24
Revises: b7d2e9f4a1c3
Create Date: 2026-12-02 01:10:00
"""
import sqlalchemy as sa
from alembic import op

revision = "3f6a9c1e7b24"
down_revision = "b7d2e9f4a1c3"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "login_throttles",
        sa.Column("account", sa.String(80), nullable=False),
        sa.Column("address", sa.String(64), nullable=False),
        sa.Column("failed_logins", sa.Integer(), nullable=False, server_default="0"),
        sa.Column("last_failed_at", sa.DateTime(), nullable=True),
        sa.Column("blocked_until", sa.DateTime(), nullable=True),
        sa.Column("succeeded_at", sa.DateTime(), nullable=True),
        sa.PrimaryKeyConstraint("account", "address", name=op.f("pk_login_throttles")),
    )
    op.create_table(
        "human_checks_used",
        sa.Column("id", sa.String(32), nullable=False),
        sa.Column("used_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_human_checks_used")),
    )
    op.create_index(op.f("ix_human_checks_used_used_at"), "human_checks_used", ["used_at"])


def downgrade():
    op.drop_index(op.f("ix_human_checks_used_used_at"), table_name="human_checks_used")
    op.drop_table("human_checks_used")
    op.drop_table("login_throttles")
