"""aid: multi-level approval by amount (the parent union a request was referred to, and the amount)

Revision ID: c4e8a2d6f0b3
Revises: b7d3e5f9a1c2
Create Date: 2026-12-02 05:10:00
"""
import sqlalchemy as sa
from alembic import op

revision = "c4e8a2d6f0b3"
down_revision = "b7d3e5f9a1c2"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("aid_requests") as batch:
        batch.add_column(sa.Column("referred_unit_id", sa.Integer(), nullable=True))
        batch.add_column(sa.Column("referred_amount", sa.BigInteger(), nullable=True))
        batch.create_foreign_key(op.f("fk_aid_requests_referred_unit_id_units"), "units",
                                 ["referred_unit_id"], ["id"])


def downgrade():
    with op.batch_alter_table("aid_requests") as batch:
        batch.drop_constraint(op.f("fk_aid_requests_referred_unit_id_units"), type_="foreignkey")
        batch.drop_column("referred_amount")
        batch.drop_column("referred_unit_id")
