"""merge scheduler and disclosure

Revision ID: 021d2df3a979
Revises: 5649a8c7c4ff, ee2a25fefbe1
Create Date: 2026-11-25 08:02:50.671603

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '021d2df3a979'
down_revision = ('5649a8c7c4ff', 'ee2a25fefbe1')
branch_labels = None
depends_on = None


def upgrade():
    pass


def downgrade():
    pass
