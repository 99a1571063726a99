"""cases: index (kind, state, deadline) so the sweep's due steps are a range scan

Revision ID: 9d4e1b7c2a60
Revises: 18a48e52e70c
Create Date: 2026-11-25 08:50:00
"""
from alembic import op

revision = "9d4e1b7c2a60"
down_revision = "18a48e52e70c"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("cases") as batch:
        batch.drop_index("ix_cases_kind_state")
        batch.create_index("ix_cases_kind_state_deadline", ["kind", "state", "deadline"])


def downgrade():
    with op.batch_alter_table("cases") as batch:
        batch.drop_index("ix_cases_kind_state_deadline")
        batch.create_index("ix_cases_kind_state", ["kind", "state"])
