"""annual statistics reports as notices: three more notice kinds

Revision ID: 8e41c6a0d5b3
Revises: 3b8d735c4b01
Create Date: 2026-11-25 12:00:00

"""
from alembic import op

# revision identifiers, used by Alembic.
revision = '8e41c6a0d5b3'
down_revision = '3b8d735c4b01'
branch_labels = None
depends_on = None

BEFORE = ('aid_approval', 'aid_rejection', 'aid_receipt', 'proposal_reply', 'proposal_certificate', 'motion_filing',
          'motion_not_filed', 'motion_reply', 'board_posting', 'fund_report')
AFTER = BEFORE + ('annual_aid', 'annual_proposal', 'annual_motion')


def _kinds(kinds):
    with op.batch_alter_table('notices', schema=None) as batch_op:
        batch_op.drop_constraint(op.f('ck_notices_kind'), type_='check')
        batch_op.create_check_constraint(op.f('ck_notices_kind'), f"kind IN {kinds}")


def upgrade():
    _kinds(AFTER)


def downgrade():
    _kinds(BEFORE)
