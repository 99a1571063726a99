"""upward_reports: a union's yearly report (年度上报) to the union above it, reviewed through the engine

Revision ID: b7d9e1f3a5c8
Revises: a3c5e7f9b1d4
Create Date: 2026-12-02 16:40:00
"""
import sqlalchemy as sa
from alembic import op

revision = "b7d9e1f3a5c8"
down_revision = "a3c5e7f9b1d4"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "upward_reports",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("unit_id", sa.Integer(), nullable=False),
        sa.Column("upper_unit_id", sa.Integer(), nullable=False),
        sa.Column("year", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("summary", sa.Text(), nullable=False),
        sa.Column("figures", sa.JSON(), nullable=True),
        sa.Column("drafted_by_id", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("submitted_by_id", sa.Integer(), nullable=True),
        sa.Column("submitted_at", sa.DateTime(), nullable=True),
        sa.Column("submissions", sa.Integer(), nullable=False),
        sa.Column("reviewed_by_id", sa.Integer(), nullable=True),
        sa.Column("reviewed_at", sa.DateTime(), nullable=True),
        sa.Column("return_reason", sa.Text(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.Column("state_seq", sa.Integer(), nullable=False),
        sa.Column("state_entered_at", sa.DateTime(), nullable=True),
        sa.Column("audit_seq", sa.Integer(), nullable=True),
        sa.Column("audit_hash", sa.String(length=64), nullable=True),
        sa.CheckConstraint("status IN ('draft', 'submitted', 'returned', 'accepted')",
                           name=op.f("ck_upward_reports_status")),
        sa.CheckConstraint("unit_id <> upper_unit_id", name=op.f("ck_upward_reports_upper_unit")),
        sa.CheckConstraint("status NOT IN ('submitted', 'accepted') OR figures IS NOT NULL",
                           name=op.f("ck_upward_reports_figures_frozen")),
        sa.CheckConstraint("status <> 'returned' OR return_reason <> ''", name=op.f("ck_upward_reports_return_reason")),
        sa.ForeignKeyConstraint(["unit_id"], ["units.id"], name="fk_upward_reports_unit_id_units"),
        sa.ForeignKeyConstraint(["upper_unit_id"], ["units.id"], name="fk_upward_reports_upper_unit_id_units"),
        sa.ForeignKeyConstraint(["drafted_by_id"], ["users.id"], name="fk_upward_reports_drafted_by_id_users"),
        sa.ForeignKeyConstraint(["submitted_by_id"], ["users.id"], name="fk_upward_reports_submitted_by_id_users"),
        sa.ForeignKeyConstraint(["reviewed_by_id"], ["users.id"], name="fk_upward_reports_reviewed_by_id_users"),
        sa.PrimaryKeyConstraint("id", name="pk_upward_reports"),
        sa.UniqueConstraint("unit_id", "year", name="uq_upward_reports_unit_id_year"),
    )
    with op.batch_alter_table("upward_reports", schema=None) as batch_op:
        batch_op.create_index("ix_upward_reports_unit_id", ["unit_id"], unique=False)
        batch_op.create_index("ix_upward_reports_upper_unit_id", ["upper_unit_id"], unique=False)


def downgrade():
    with op.batch_alter_table("upward_reports", schema=None) as batch_op:
        batch_op.drop_index("ix_upward_reports_upper_unit_id")
        batch_op.drop_index("ix_upward_reports_unit_id")
    op.drop_table("upward_reports")
