"""notices: issued PDF notices (immutable, with SHA-256 and verification code) and batch print jobs

Revision ID: 3c9e5d1f7a2b
Revises: 5b0d6afdd4a2
Create Date: 2026-11-25 07:52:09.209583

"""
from alembic import op
import sqlalchemy as sa

# revision identifiers, used by Alembic.
revision = '3c9e5d1f7a2b'
down_revision = '5b0d6afdd4a2'
branch_labels = None
depends_on = None

KINDS = ('aid_approval', 'aid_rejection', 'aid_receipt', 'proposal_reply', 'proposal_certificate', 'motion_filing',
         'motion_not_filed', 'motion_reply', 'board_posting', 'fund_report')


def upgrade():
    op.create_table('notices',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=30), nullable=False),
    sa.Column('unit_id', sa.Integer(), nullable=False),
    sa.Column('year', sa.Integer(), nullable=False),
    sa.Column('seq', sa.Integer(), nullable=False),
    sa.Column('number', sa.String(length=40), nullable=False),
    sa.Column('issued_at', sa.DateTime(), nullable=False),
    sa.Column('case_id', sa.Integer(), nullable=True),
    sa.Column('subject', sa.String(length=60), nullable=True),
    sa.Column('sha256', sa.String(length=64), nullable=False),
    sa.Column('size', sa.Integer(), nullable=False),
    sa.Column('verify_code', sa.String(length=16), nullable=False),
    sa.Column('superseded_by_id', sa.Integer(), nullable=True),
    sa.Column('issued_by_id', sa.Integer(), nullable=True),
    sa.Column('fields', sa.JSON(), nullable=False),
    sa.Column('pdf', sa.LargeBinary(), nullable=False),
    sa.CheckConstraint(f"kind IN {KINDS}", name=op.f('ck_notices_kind')),
    sa.CheckConstraint('superseded_by_id IS NULL OR superseded_by_id <> id', name=op.f('ck_notices_not_self')),
    sa.ForeignKeyConstraint(['case_id'], ['cases.id'], name=op.f('fk_notices_case_id_cases')),
    sa.ForeignKeyConstraint(['issued_by_id'], ['users.id'], name=op.f('fk_notices_issued_by_id_users')),
    sa.ForeignKeyConstraint(['superseded_by_id'], ['notices.id'], name=op.f('fk_notices_superseded_by_id_notices')),
    sa.ForeignKeyConstraint(['unit_id'], ['units.id'], name=op.f('fk_notices_unit_id_units')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_notices')),
    sa.UniqueConstraint('kind', 'unit_id', 'year', 'seq', name=op.f('uq_notices_kind_unit_id_year_seq')),
    sa.UniqueConstraint('subject', name=op.f('uq_notices_subject')),
    sa.UniqueConstraint('verify_code', name=op.f('uq_notices_verify_code'))
    )
    with op.batch_alter_table('notices', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_notices_case_id'), ['case_id'], unique=False)

    op.create_table('notice_batches',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('token', sa.String(length=32), nullable=False),
    sa.Column('title', sa.String(length=200), nullable=False),
    sa.Column('requested_by_id', sa.Integer(), nullable=False),
    sa.Column('notice_ids', sa.JSON(), nullable=False),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('total', sa.Integer(), nullable=False),
    sa.Column('done', sa.Integer(), nullable=False),
    sa.Column('error', sa.Text(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('started_at', sa.DateTime(), nullable=True),
    sa.Column('heartbeat_at', sa.DateTime(), nullable=True),
    sa.Column('finished_at', sa.DateTime(), nullable=True),
    sa.Column('sha256', sa.String(length=64), nullable=True),
    sa.Column('pdf', sa.LargeBinary(), nullable=True),
    sa.CheckConstraint("status IN ('queued', 'running', 'done', 'failed')", name=op.f('ck_notice_batches_status')),
    sa.CheckConstraint('done >= 0 AND done <= total', name=op.f('ck_notice_batches_progress')),
    sa.ForeignKeyConstraint(['requested_by_id'], ['users.id'], name=op.f('fk_notice_batches_requested_by_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_notice_batches')),
    sa.UniqueConstraint('token', name=op.f('uq_notice_batches_token'))
    )


def downgrade():
    op.drop_table('notice_batches')
    with op.batch_alter_table('notices', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_notices_case_id'))
    op.drop_table('notices')
