"""saved_filters: a person's named queries of /work and /cases; cases indexed by title and by last change

Revision ID: a3c5e7f9b1d4
Revises: 0848987a30f7
Create Date: 2026-12-02 13:40:00
"""
import sqlalchemy as sa
from alembic import op

revision = "a3c5e7f9b1d4"
down_revision = "0848987a30f7"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "saved_filters",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("page", sa.String(length=20), nullable=False),
        sa.Column("name", sa.String(length=40), nullable=False),
        sa.Column("query", sa.String(length=1000), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], name="fk_saved_filters_user_id_users",
                                ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name="pk_saved_filters"),
        sa.UniqueConstraint("user_id", "page", "name", name="uq_saved_filters_user_id_page_name"),
    )
    with op.batch_alter_table("saved_filters", schema=None) as batch_op:
        batch_op.create_index("ix_saved_filters_user_id", ["user_id"], unique=False)
    op.create_index("ix_cases_title", "cases", ["title"], unique=False)
    op.create_index("ix_cases_updated_at", "cases", ["updated_at"], unique=False)


def downgrade():
    op.drop_index("ix_cases_updated_at", table_name="cases")
    op.drop_index("ix_cases_title", table_name="cases")
    with op.batch_alter_table("saved_filters", schema=None) as batch_op:
        batch_op.drop_index("ix_saved_filters_user_id")
    op.drop_table("saved_filters")
