"""merge proposals and motions

Revision ID: c740df398eaf
Revises: 021d2df3a979, 3f9c2a7d1e64
Create Date: 2026-11-25 08:25:04.862776

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'c740df398eaf'
down_revision = ('021d2df3a979', '3f9c2a7d1e64')
branch_labels = None
depends_on = None


def upgrade():
    pass


def downgrade():
    pass
