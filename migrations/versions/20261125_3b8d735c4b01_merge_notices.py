"""merge notices

Revision ID: 3b8d735c4b01
Revises: 3c9e5d1f7a2b, 9d4e1b7c2a60
Create Date: 2026-11-25 08:49:18.913909

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '3b8d735c4b01'
down_revision = ('3c9e5d1f7a2b', '9d4e1b7c2a60')
branch_labels = None
depends_on = None


def upgrade():
    pass


def downgrade():
    pass
