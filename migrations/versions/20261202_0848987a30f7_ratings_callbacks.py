"""ratings: the two-part ratings ledger and the call-backs (回访) after a 不满意

Revision ID: 0848987a30f7
Revises: 824028159883
Create Date: 2026-12-02 04:51:22.703476

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0848987a30f7'
down_revision = "824028159883"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('callbacks',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('case_id', sa.Integer(), nullable=False),
    sa.Column('unit_id', sa.Integer(), nullable=False),
    sa.Column('department_id', sa.Integer(), nullable=True),
    sa.Column('round', sa.Integer(), nullable=False),
    sa.Column('state', sa.String(length=20), nullable=False),
    sa.Column('opened_at', sa.DateTime(), nullable=False),
    sa.Column('due_on', sa.Date(), nullable=False),
    sa.Column('called_by_id', sa.Integer(), nullable=True),
    sa.Column('called_on', sa.Date(), nullable=True),
    sa.Column('how', sa.String(length=20), nullable=True),
    sa.Column('notes', sa.Text(), nullable=False),
    sa.Column('outcome', sa.String(length=20), nullable=True),
    sa.Column('fix_by', sa.Date(), nullable=True),
    sa.Column('fix_started', sa.Boolean(), nullable=False),
    sa.Column('explanation', sa.Text(), nullable=False),
    sa.Column('decision', sa.Text(), nullable=False),
    sa.Column('decided_at', sa.DateTime(), nullable=True),
    sa.Column('reminded', sa.String(length=20), nullable=True),
    sa.Column('updated_at', sa.DateTime(), nullable=False),
    sa.Column('state_seq', sa.Integer(), nullable=False),
    sa.Column('state_entered_at', sa.DateTime(), nullable=True),
    sa.Column('audit_seq', sa.Integer(), nullable=True),
    sa.Column('audit_hash', sa.String(length=64), nullable=True),
    sa.CheckConstraint("how IS NULL OR how IN ('phone', 'visit', 'meeting')", name=op.f('ck_callbacks_how')),
    sa.CheckConstraint("outcome IS NULL OR outcome IN ('fix', 'explain', 'appeal')", name=op.f('ck_callbacks_outcome')),
    sa.CheckConstraint("state IN ('due', 'fixing', 'fixed', 'explained', 'appealed', 'upheld', 'dismissed')", name=op.f('ck_callbacks_state')),
    sa.ForeignKeyConstraint(['called_by_id'], ['users.id'], name=op.f('fk_callbacks_called_by_id_users')),
    sa.ForeignKeyConstraint(['case_id'], ['cases.id'], name=op.f('fk_callbacks_case_id_cases')),
    sa.ForeignKeyConstraint(['department_id'], ['departments.id'], name=op.f('fk_callbacks_department_id_departments')),
    sa.ForeignKeyConstraint(['unit_id'], ['units.id'], name=op.f('fk_callbacks_unit_id_units')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_callbacks'))
    )
    with op.batch_alter_table('callbacks', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_callbacks_case_id'), ['case_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_callbacks_department_id'), ['department_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_callbacks_due_on'), ['due_on'], unique=False)
        batch_op.create_index('ix_callbacks_state_due', ['state', 'due_on'], unique=False)
        batch_op.create_index(batch_op.f('ix_callbacks_unit_id'), ['unit_id'], unique=False)

    op.create_table('ratings',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('case_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=20), nullable=False),
    sa.Column('unit_id', sa.Integer(), nullable=False),
    sa.Column('department_id', sa.Integer(), nullable=True),
    sa.Column('rater_id', sa.Integer(), nullable=False),
    sa.Column('role', sa.String(length=20), nullable=False),
    sa.Column('round', sa.Integer(), nullable=False),
    sa.Column('attitude', sa.String(length=30), nullable=True),
    sa.Column('result', sa.String(length=30), nullable=False),
    sa.Column('comment', sa.Text(), nullable=False),
    sa.Column('at', sa.DateTime(), nullable=False),
    sa.Column('callback_id', sa.Integer(), nullable=True),
    sa.Column('set_aside', sa.Boolean(), nullable=False),
    sa.Column('set_aside_at', sa.DateTime(), nullable=True),
    sa.CheckConstraint("attitude IS NULL OR attitude IN ('satisfied', 'basically_satisfied', 'unsatisfied')", name=op.f('ck_ratings_attitude')),
    sa.CheckConstraint("result IN ('satisfied', 'basically_satisfied', 'unsatisfied')", name=op.f('ck_ratings_result')),
    sa.CheckConstraint("role IN ('author', 'cosigner')", name=op.f('ck_ratings_role')),
    sa.ForeignKeyConstraint(['callback_id'], ['callbacks.id'], name=op.f('fk_ratings_callback_id_callbacks')),
    sa.ForeignKeyConstraint(['case_id'], ['cases.id'], name=op.f('fk_ratings_case_id_cases')),
    sa.ForeignKeyConstraint(['department_id'], ['departments.id'], name=op.f('fk_ratings_department_id_departments')),
    sa.ForeignKeyConstraint(['rater_id'], ['users.id'], name=op.f('fk_ratings_rater_id_users')),
    sa.ForeignKeyConstraint(['unit_id'], ['units.id'], name=op.f('fk_ratings_unit_id_units')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_ratings')),
    sa.UniqueConstraint('case_id', 'round', 'rater_id', name=op.f('uq_ratings_case_id_round_rater_id'))
    )
    with op.batch_alter_table('ratings', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_ratings_callback_id'), ['callback_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_ratings_case_id'), ['case_id'], unique=False)
        batch_op.create_index('ix_ratings_department_at', ['department_id', 'at'], unique=False)
        batch_op.create_index('ix_ratings_unit_at', ['unit_id', 'at'], unique=False)



def downgrade():
    with op.batch_alter_table('ratings', schema=None) as batch_op:
        batch_op.drop_index('ix_ratings_unit_at')
        batch_op.drop_index('ix_ratings_department_at')
        batch_op.drop_index(batch_op.f('ix_ratings_case_id'))
        batch_op.drop_index(batch_op.f('ix_ratings_callback_id'))

    op.drop_table('ratings')
    with op.batch_alter_table('callbacks', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_callbacks_unit_id'))
        batch_op.drop_index('ix_callbacks_state_due')
        batch_op.drop_index(batch_op.f('ix_callbacks_due_on'))
        batch_op.drop_index(batch_op.f('ix_callbacks_department_id'))
        batch_op.drop_index(batch_op.f('ix_callbacks_case_id'))

    op.drop_table('callbacks')
