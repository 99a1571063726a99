"""board: acknowledgement of objections and reports; report rewards paid against the tracking code

Tracking codes grow to 16 symbols (80 bits) but still fit String(20): no widening needed.

Revision ID: b7d3e5f9a1c2
Revises: 9a0c3e5f7b21
Create Date: 2026-12-02 02:40:00
"""
import sqlalchemy as sa
from alembic import op

revision = "b7d3e5f9a1c2"
down_revision = "9a0c3e5f7b21"
branch_labels = None
depends_on = None

OLD_LINK = "kind NOT IN ('reserve', 'release', 'debit', 'payment') OR case_id IS NOT NULL"
NEW_LINK = OLD_LINK + " OR (kind = 'payment' AND objection_id IS NOT NULL)"


def upgrade():
    with op.batch_alter_table("objections") as batch:
        batch.add_column(sa.Column("ack_due_on", sa.Date(), nullable=True))
        batch.add_column(sa.Column("acknowledged_at", sa.DateTime(), nullable=True))
        batch.add_column(sa.Column("ack_reminded_at", sa.DateTime(), nullable=True))
        batch.create_index(op.f("ix_objections_ack_due_on"), ["ack_due_on"], unique=False)
    with op.batch_alter_table("ledger_entries") as batch:
        batch.add_column(sa.Column("objection_id", sa.Integer(), nullable=True))
        batch.create_foreign_key(op.f("fk_ledger_entries_objection_id_objections"), "objections",
                                 ["objection_id"], ["id"])
        batch.create_unique_constraint(op.f("uq_ledger_entries_objection_id"), ["objection_id"])
        batch.drop_constraint(op.f("ck_ledger_entries_case_link"), type_="check")
        batch.create_check_constraint(op.f("ck_ledger_entries_case_link"), NEW_LINK)


def downgrade():
    with op.batch_alter_table("ledger_entries") as batch:
        batch.drop_constraint(op.f("ck_ledger_entries_case_link"), type_="check")
        batch.create_check_constraint(op.f("ck_ledger_entries_case_link"), OLD_LINK)
        batch.drop_constraint(op.f("uq_ledger_entries_objection_id"), type_="unique")
        batch.drop_constraint(op.f("fk_ledger_entries_objection_id_objections"), type_="foreignkey")
        batch.drop_column("objection_id")
    with op.batch_alter_table("objections") as batch:
        batch.drop_index(op.f("ix_objections_ack_due_on"))
        for column in ("ack_reminded_at", "acknowledged_at", "ack_due_on"):
            batch.drop_column(column)
