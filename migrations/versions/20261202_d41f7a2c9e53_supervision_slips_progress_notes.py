"""supervision (督办): progress notes, slips, bulletin postings, department leaders, two notice kinds

Revision ID: d41f7a2c9e53
Revises: b7d3e5f9a1c2
Create Date: 2026-12-02 04:52:08.221791

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'd41f7a2c9e53'
down_revision = 'b7d3e5f9a1c2'
branch_labels = None
depends_on = None

NOTICE_KINDS = ('aid_approval', 'aid_rejection', 'aid_receipt', 'proposal_reply', 'proposal_certificate',
                'motion_filing', 'motion_not_filed', 'motion_reply', 'board_posting', 'fund_report', 'annual_aid',
                'annual_proposal', 'annual_motion')
WITH_SUPERVISION = NOTICE_KINDS + ('supervision_slip', 'supervision_bulletin')


def _notice_kinds(kinds):
    with op.batch_alter_table('notices', schema=None) as batch_op:
        batch_op.drop_constraint(op.f('ck_notices_kind'), type_='check')
        batch_op.create_check_constraint(op.f('ck_notices_kind'), f"kind IN {kinds}")


def upgrade():
    op.create_table('progress_notes',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('case_id', sa.Integer(), nullable=False),
    sa.Column('department_id', sa.Integer(), nullable=True),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('at', sa.DateTime(), nullable=False),
    sa.Column('text', sa.Text(), nullable=False),
    sa.ForeignKeyConstraint(['case_id'], ['cases.id'], name=op.f('fk_progress_notes_case_id_cases')),
    sa.ForeignKeyConstraint(['department_id'], ['departments.id'], name=op.f('fk_progress_notes_department_id_departments')),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_progress_notes_user_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_progress_notes'))
    )
    with op.batch_alter_table('progress_notes', schema=None) as batch_op:
        batch_op.create_index('ix_progress_notes_case_at', ['case_id', 'at'], unique=False)

    op.create_table('supervision_bulletin_postings',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('unit_id', sa.Integer(), nullable=False),
    sa.Column('period', sa.String(length=7), nullable=False),
    sa.Column('notice_id', sa.Integer(), nullable=False),
    sa.Column('posted_at', sa.DateTime(), nullable=False),
    sa.Column('posted_by_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['notice_id'], ['notices.id'], name=op.f('fk_supervision_bulletin_postings_notice_id_notices')),
    sa.ForeignKeyConstraint(['posted_by_id'], ['users.id'], name=op.f('fk_supervision_bulletin_postings_posted_by_id_users')),
    sa.ForeignKeyConstraint(['unit_id'], ['units.id'], name=op.f('fk_supervision_bulletin_postings_unit_id_units')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_supervision_bulletin_postings')),
    sa.UniqueConstraint('unit_id', 'period', name=op.f('uq_supervision_bulletin_postings_unit_id_period'))
    )
    op.create_table('supervision_slips',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('case_id', sa.Integer(), nullable=False),
    sa.Column('unit_id', sa.Integer(), nullable=False),
    sa.Column('department_id', sa.Integer(), nullable=False),
    sa.Column('colour', sa.String(length=10), nullable=False),
    sa.Column('reason', sa.String(length=20), nullable=False),
    sa.Column('basis', sa.String(length=80), nullable=True),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('number', sa.String(length=40), nullable=False),
    sa.Column('notice_id', sa.Integer(), nullable=True),
    sa.Column('remark', sa.Text(), nullable=False),
    sa.Column('issued_by_id', sa.Integer(), nullable=True),
    sa.Column('issued_at', sa.DateTime(), nullable=False),
    sa.Column('case_deadline', sa.Date(), nullable=True),
    sa.Column('reply_by', sa.Date(), nullable=False),
    sa.Column('answer', sa.Text(), nullable=False),
    sa.Column('answered_at', sa.DateTime(), nullable=True),
    sa.Column('answered_by_id', sa.Integer(), nullable=True),
    sa.Column('answered_on_time', sa.Boolean(), nullable=True),
    sa.Column('closed_at', sa.DateTime(), nullable=True),
    sa.Column('updated_at', sa.DateTime(), nullable=False),
    sa.Column('state_seq', sa.Integer(), nullable=False),
    sa.Column('state_entered_at', sa.DateTime(), nullable=True),
    sa.Column('audit_seq', sa.Integer(), nullable=True),
    sa.Column('audit_hash', sa.String(length=64), nullable=True),
    sa.CheckConstraint("colour IN ('blue', 'yellow', 'red')", name=op.f('ck_supervision_slips_colour')),
    sa.CheckConstraint("reason IN ('overdue', 'unsatisfied', 'no_progress', 'deadline_near', 'staff')", name=op.f('ck_supervision_slips_reason')),
    sa.CheckConstraint("status IN ('issued', 'answered', 'closed')", name=op.f('ck_supervision_slips_status')),
    sa.ForeignKeyConstraint(['answered_by_id'], ['users.id'], name=op.f('fk_supervision_slips_answered_by_id_users')),
    sa.ForeignKeyConstraint(['case_id'], ['cases.id'], name=op.f('fk_supervision_slips_case_id_cases')),
    sa.ForeignKeyConstraint(['department_id'], ['departments.id'], name=op.f('fk_supervision_slips_department_id_departments')),
    sa.ForeignKeyConstraint(['issued_by_id'], ['users.id'], name=op.f('fk_supervision_slips_issued_by_id_users')),
    sa.ForeignKeyConstraint(['notice_id'], ['notices.id'], name=op.f('fk_supervision_slips_notice_id_notices')),
    sa.ForeignKeyConstraint(['unit_id'], ['units.id'], name=op.f('fk_supervision_slips_unit_id_units')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_supervision_slips')),
    sa.UniqueConstraint('case_id', 'basis', name=op.f('uq_supervision_slips_case_id_basis'))
    )
    with op.batch_alter_table('supervision_slips', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_supervision_slips_case_id'), ['case_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_supervision_slips_department_id'), ['department_id'], unique=False)
        batch_op.create_index('ix_supervision_slips_status_dept', ['status', 'department_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_supervision_slips_unit_id'), ['unit_id'], unique=False)

    with op.batch_alter_table('department_members', schema=None) as batch_op:
        batch_op.add_column(sa.Column('leader', sa.Boolean(), server_default=sa.false(), nullable=False))

    _notice_kinds(WITH_SUPERVISION)


def downgrade():
    _notice_kinds(NOTICE_KINDS)
    with op.batch_alter_table('department_members', schema=None) as batch_op:
        batch_op.drop_column('leader')

    with op.batch_alter_table('supervision_slips', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_supervision_slips_unit_id'))
        batch_op.drop_index('ix_supervision_slips_status_dept')
        batch_op.drop_index(batch_op.f('ix_supervision_slips_department_id'))
        batch_op.drop_index(batch_op.f('ix_supervision_slips_case_id'))

    op.drop_table('supervision_slips')
    op.drop_table('supervision_bulletin_postings')
    with op.batch_alter_table('progress_notes', schema=None) as batch_op:
        batch_op.drop_index('ix_progress_notes_case_at')

    op.drop_table('progress_notes')
