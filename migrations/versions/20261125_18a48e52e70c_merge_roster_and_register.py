"""merge roster and register

Revision ID: 18a48e52e70c
Revises: 7a7caa618a5f, c740df398eaf
Create Date: 2026-11-25 08:41:22.781963

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '18a48e52e70c'
down_revision = ('7a7caa618a5f', 'c740df398eaf')
branch_labels = None
depends_on = None


def upgrade():
    pass


def downgrade():
    pass
