"""roster and hardship register: resident ID numbers (encrypted), roster imports, activation codes;
hardship households, members, committee votes, yearly re-checks, review reminders

Revision ID: 7a7caa618a5f
Revises: 5b0d6afdd4a2
Create Date: 2026-11-25 12:00:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '7a7caa618a5f'
down_revision = '5b0d6afdd4a2'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('hardship_households',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('unit_id', sa.Integer(), nullable=False),
    sa.Column('grade', sa.String(length=20), nullable=False),
    sa.Column('causes', sa.JSON(), nullable=False),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('circumstances', sa.Text(), nullable=False),
    sa.Column('visited_on', sa.Date(), nullable=False),
    sa.Column('visitor_ids', sa.JSON(), nullable=False),
    sa.Column('findings', sa.Text(), nullable=False),
    sa.Column('proposed_by_id', sa.Integer(), nullable=False),
    sa.Column('proposed_at', sa.DateTime(), nullable=False),
    sa.Column('round', sa.Integer(), nullable=False),
    sa.Column('decided_at', sa.DateTime(), nullable=True),
    sa.Column('registered_on', sa.Date(), nullable=True),
    sa.Column('next_review_on', sa.Date(), nullable=True),
    sa.Column('removed_reason', sa.Text(), nullable=False),
    sa.Column('updated_at', sa.DateTime(), nullable=False),
    sa.CheckConstraint("grade IN ('general', 'special')", name=op.f('ck_hardship_households_grade')),
    sa.CheckConstraint("status <> 'registered' OR registered_on IS NOT NULL", name=op.f('ck_hardship_households_registered_on')),
    sa.CheckConstraint("status IN ('proposed', 'registered', 'rejected', 'removed')", name=op.f('ck_hardship_households_status')),
    sa.ForeignKeyConstraint(['proposed_by_id'], ['users.id'], name=op.f('fk_hardship_households_proposed_by_id_users')),
    sa.ForeignKeyConstraint(['unit_id'], ['units.id'], name=op.f('fk_hardship_households_unit_id_units')),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_hardship_households_user_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_hardship_households')),
    sa.UniqueConstraint('user_id', name=op.f('uq_hardship_households_user_id'))
    )
    op.create_index(op.f('ix_hardship_households_next_review_on'), 'hardship_households', ['next_review_on'], unique=False)
    op.create_index(op.f('ix_hardship_households_unit_id'), 'hardship_households', ['unit_id'], unique=False)
    op.create_table('roster_imports',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('filename', sa.String(length=200), nullable=False),
    sa.Column('sha256', sa.String(length=64), nullable=False),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('status', sa.String(length=10), nullable=False),
    sa.Column('create_units', sa.Boolean(), nullable=False),
    sa.Column('deactivate_missing', sa.Boolean(), nullable=False),
    sa.Column('content', sa.LargeBinary(), nullable=True),
    sa.Column('refused_rows', sa.LargeBinary(), nullable=True),
    sa.Column('total', sa.Integer(), nullable=False),
    sa.Column('done', sa.Integer(), nullable=False),
    sa.Column('report', sa.JSON(), nullable=False),
    sa.Column('error', sa.Text(), nullable=False),
    sa.Column('heartbeat_at', sa.DateTime(), nullable=True),
    sa.Column('finished_at', sa.DateTime(), nullable=True),
    sa.CheckConstraint("status IN ('checked', 'running', 'done', 'failed')", name=op.f('ck_roster_imports_status')),
    sa.ForeignKeyConstraint(['created_by_id'], ['users.id'], name=op.f('fk_roster_imports_created_by_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_roster_imports'))
    )
    op.create_table('user_identity',
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('id_number_encrypted', sa.Text(), nullable=False),
    sa.Column('id_masked', sa.String(length=18), nullable=False),
    sa.Column('id_digest', sa.String(length=64), nullable=False),
    sa.Column('updated_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_user_identity_user_id_users')),
    sa.PrimaryKeyConstraint('user_id', name=op.f('pk_user_identity')),
    sa.UniqueConstraint('id_digest', name=op.f('uq_user_identity_id_digest'))
    )
    op.create_table('hardship_household_members',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('household_id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=60), nullable=False),
    sa.Column('relation', sa.String(length=20), nullable=False),
    sa.Column('monthly_income', sa.BigInteger(), nullable=False),
    sa.Column('note', sa.String(length=200), nullable=False),
    sa.CheckConstraint("relation IN ('self', 'spouse', 'child', 'parent', 'other')", name=op.f('ck_hardship_household_members_relation')),
    sa.CheckConstraint('monthly_income >= 0', name=op.f('ck_hardship_household_members_monthly_income')),
    sa.ForeignKeyConstraint(['household_id'], ['hardship_households.id'], name=op.f('fk_hardship_household_members_household_id_hardship_households')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_hardship_household_members'))
    )
    op.create_index(op.f('ix_hardship_household_members_household_id'), 'hardship_household_members', ['household_id'], unique=False)
    op.create_table('hardship_household_reviews',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('household_id', sa.Integer(), nullable=False),
    sa.Column('due_on', sa.Date(), nullable=False),
    sa.Column('reviewed_on', sa.Date(), nullable=False),
    sa.Column('outcome', sa.String(length=20), nullable=False),
    sa.Column('old_grade', sa.String(length=20), nullable=False),
    sa.Column('new_grade', sa.String(length=20), nullable=True),
    sa.Column('reason', sa.Text(), nullable=False),
    sa.Column('reviewed_by_id', sa.Integer(), nullable=False),
    sa.Column('at', sa.DateTime(), nullable=False),
    sa.CheckConstraint("outcome IN ('kept', 'grade_changed', 'removed')", name=op.f('ck_hardship_household_reviews_outcome')),
    sa.ForeignKeyConstraint(['household_id'], ['hardship_households.id'], name=op.f('fk_hardship_household_reviews_household_id_hardship_households')),
    sa.ForeignKeyConstraint(['reviewed_by_id'], ['users.id'], name=op.f('fk_hardship_household_reviews_reviewed_by_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_hardship_household_reviews')),
    sa.UniqueConstraint('household_id', 'due_on', name=op.f('uq_hardship_household_reviews_household_id_due_on'))
    )
    op.create_index(op.f('ix_hardship_household_reviews_household_id'), 'hardship_household_reviews', ['household_id'], unique=False)
    op.create_table('hardship_household_votes',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('household_id', sa.Integer(), nullable=False),
    sa.Column('round', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('position', sa.String(length=10), nullable=False),
    sa.Column('comment', sa.Text(), nullable=False),
    sa.Column('at', sa.DateTime(), nullable=False),
    sa.CheckConstraint("position IN ('approve', 'reject')", name=op.f('ck_hardship_household_votes_position')),
    sa.ForeignKeyConstraint(['household_id'], ['hardship_households.id'], name=op.f('fk_hardship_household_votes_household_id_hardship_households')),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_hardship_household_votes_user_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_hardship_household_votes')),
    sa.UniqueConstraint('household_id', 'round', 'user_id', name=op.f('uq_hardship_household_votes_household_id_round_user_id'))
    )
    op.create_index(op.f('ix_hardship_household_votes_household_id'), 'hardship_household_votes', ['household_id'], unique=False)
    op.create_table('hardship_review_reminders',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('household_id', sa.Integer(), nullable=False),
    sa.Column('year', sa.Integer(), nullable=False),
    sa.Column('due_on', sa.Date(), nullable=False),
    sa.Column('at', sa.DateTime(), nullable=False),
    sa.Column('recipients', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['household_id'], ['hardship_households.id'], name=op.f('fk_hardship_review_reminders_household_id_hardship_households')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_hardship_review_reminders')),
    sa.UniqueConstraint('household_id', 'year', name=op.f('uq_hardship_review_reminders_household_id_year'))
    )
    op.create_table('roster_activations',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('import_id', sa.Integer(), nullable=True),
    sa.Column('code_hash', sa.String(length=64), nullable=False),
    sa.Column('code_encrypted', sa.Text(), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('expires_at', sa.DateTime(), nullable=False),
    sa.Column('used_at', sa.DateTime(), nullable=True),
    sa.Column('voided_at', sa.DateTime(), nullable=True),
    sa.ForeignKeyConstraint(['import_id'], ['roster_imports.id'], name=op.f('fk_roster_activations_import_id_roster_imports')),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_roster_activations_user_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_roster_activations')),
    sa.UniqueConstraint('code_hash', name=op.f('uq_roster_activations_code_hash'))
    )
    op.create_index(op.f('ix_roster_activations_import_id'), 'roster_activations', ['import_id'], unique=False)
    op.create_index(op.f('ix_roster_activations_user_id'), 'roster_activations', ['user_id'], unique=False)


def downgrade():
    op.drop_index(op.f('ix_roster_activations_user_id'), table_name='roster_activations')
    op.drop_index(op.f('ix_roster_activations_import_id'), table_name='roster_activations')
    op.drop_table('roster_activations')
    op.drop_table('hardship_review_reminders')
    op.drop_index(op.f('ix_hardship_household_votes_household_id'), table_name='hardship_household_votes')
    op.drop_table('hardship_household_votes')
    op.drop_index(op.f('ix_hardship_household_reviews_household_id'), table_name='hardship_household_reviews')
    op.drop_table('hardship_household_reviews')
    op.drop_index(op.f('ix_hardship_household_members_household_id'), table_name='hardship_household_members')
    op.drop_table('hardship_household_members')
    op.drop_table('user_identity')
    op.drop_table('roster_imports')
    op.drop_index(op.f('ix_hardship_households_unit_id'), table_name='hardship_households')
    op.drop_index(op.f('ix_hardship_households_next_review_on'), table_name='hardship_households')
    op.drop_table('hardship_households')
