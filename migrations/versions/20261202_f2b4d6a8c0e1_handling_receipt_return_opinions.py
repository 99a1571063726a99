"""handling by departments: routings (签收, 退办, time spent) and co-handlers' opinions (会办意见)

Revision ID: f2b4d6a8c0e1
Revises: 5e8a1c3f9d27
Create Date: 2026-12-02 05:10:00
"""
import sqlalchemy as sa
from alembic import op

revision = "f2b4d6a8c0e1"
down_revision = "5e8a1c3f9d27"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "case_routings",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("case_id", sa.Integer(), nullable=False),
        sa.Column("department_id", sa.Integer(), nullable=False),
        sa.Column("routed_at", sa.DateTime(), nullable=False),
        sa.Column("receipt_due", sa.Date(), nullable=False),
        sa.Column("handling_days", sa.Integer(), nullable=True),
        sa.Column("acknowledged_at", sa.DateTime(), nullable=True),
        sa.Column("acknowledged_by_id", sa.Integer(), nullable=True),
        sa.Column("returned_at", sa.DateTime(), nullable=True),
        sa.Column("returned_by_id", sa.Integer(), nullable=True),
        sa.Column("return_reason", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(["case_id"], ["cases.id"], name=op.f("fk_case_routings_case_id_cases"),
                                ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["department_id"], ["departments.id"],
                                name=op.f("fk_case_routings_department_id_departments")),
        sa.ForeignKeyConstraint(["acknowledged_by_id"], ["users.id"],
                                name=op.f("fk_case_routings_acknowledged_by_id_users")),
        sa.ForeignKeyConstraint(["returned_by_id"], ["users.id"],
                                name=op.f("fk_case_routings_returned_by_id_users")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_case_routings")),
    )
    op.create_index(op.f("ix_case_routings_case_id"), "case_routings", ["case_id"], unique=False)
    op.create_table(
        "case_opinions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("routing_id", sa.Integer(), nullable=False),
        sa.Column("case_id", sa.Integer(), nullable=False),
        sa.Column("department_id", sa.Integer(), nullable=False),
        sa.Column("due", sa.Date(), nullable=False),
        sa.Column("text", sa.Text(), nullable=True),
        sa.Column("submitted_at", sa.DateTime(), nullable=True),
        sa.Column("submitted_by_id", sa.Integer(), nullable=True),
        sa.Column("missing_at_reply", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(["routing_id"], ["case_routings.id"],
                                name=op.f("fk_case_opinions_routing_id_case_routings"), ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["case_id"], ["cases.id"], name=op.f("fk_case_opinions_case_id_cases"),
                                ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["department_id"], ["departments.id"],
                                name=op.f("fk_case_opinions_department_id_departments")),
        sa.ForeignKeyConstraint(["submitted_by_id"], ["users.id"],
                                name=op.f("fk_case_opinions_submitted_by_id_users")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_case_opinions")),
        sa.UniqueConstraint("routing_id", "department_id", name=op.f("uq_case_opinions_routing_id_department_id")),
    )
    op.create_index(op.f("ix_case_opinions_case_id"), "case_opinions", ["case_id"], unique=False)


def downgrade():
    op.drop_index(op.f("ix_case_opinions_case_id"), table_name="case_opinions")
    op.drop_table("case_opinions")
    op.drop_index(op.f("ix_case_routings_case_id"), table_name="case_routings")
    op.drop_table("case_routings")
