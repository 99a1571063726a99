"""scheduler and notifications: effects done once, lease, jobs, failures, e-mail outbox, preferences

Revision ID: 5649a8c7c4ff
Revises: 5b0d6afdd4a2
Create Date: 2026-11-25 12:00:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '5649a8c7c4ff'
down_revision = '5b0d6afdd4a2'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('scheduler_jobs',
    sa.Column('id', sa.String(length=60), nullable=False),
    sa.Column('description', sa.String(length=200), nullable=False),
    sa.Column('trigger', sa.String(length=200), nullable=False),
    sa.Column('last_started_at', sa.DateTime(), nullable=True),
    sa.Column('last_finished_at', sa.DateTime(), nullable=True),
    sa.Column('last_ok', sa.Boolean(), nullable=True),
    sa.Column('last_error', sa.Text(), nullable=False),
    sa.Column('last_summary', sa.JSON(), nullable=False),
    sa.Column('next_run_at', sa.DateTime(), nullable=True),
    sa.Column('runs', sa.Integer(), nullable=False),
    sa.Column('failed_runs', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_scheduler_jobs'))
    )
    op.create_table('scheduler_lease',
    sa.Column('name', sa.String(length=40), nullable=False),
    sa.Column('holder', sa.String(length=120), nullable=True),
    sa.Column('host', sa.String(length=100), nullable=True),
    sa.Column('pid', sa.Integer(), nullable=True),
    sa.Column('acquired_at', sa.DateTime(), nullable=True),
    sa.Column('renewed_at', sa.DateTime(), nullable=True),
    sa.Column('expires', sa.Float(), nullable=False),
    sa.PrimaryKeyConstraint('name', name=op.f('pk_scheduler_lease'))
    )
    op.create_table('notification_prefs',
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('mode', sa.String(length=20), nullable=False),
    sa.Column('since', sa.DateTime(), nullable=False),
    sa.CheckConstraint("mode IN ('immediate', 'digest')", name=op.f('ck_notification_prefs_mode')),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_notification_prefs_user_id_users')),
    sa.PrimaryKeyConstraint('user_id', name=op.f('pk_notification_prefs'))
    )
    op.create_table('scheduled_effects',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('case_id', sa.Integer(), nullable=False),
    sa.Column('state_seq', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=40), nullable=False),
    sa.Column('state', sa.String(length=30), nullable=False),
    sa.Column('at', sa.DateTime(), nullable=False),
    sa.Column('recipients', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['case_id'], ['cases.id'], name=op.f('fk_scheduled_effects_case_id_cases')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_scheduled_effects')),
    sa.UniqueConstraint('case_id', 'state_seq', 'kind', name=op.f('uq_scheduled_effects_case_id_state_seq_kind'))
    )
    op.create_table('scheduler_failures',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('key', sa.String(length=120), nullable=False),
    sa.Column('case_id', sa.Integer(), nullable=True),
    sa.Column('what', sa.String(length=60), nullable=False),
    sa.Column('error', sa.Text(), nullable=False),
    sa.Column('count', sa.Integer(), nullable=False),
    sa.Column('first_at', sa.DateTime(), nullable=False),
    sa.Column('last_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['case_id'], ['cases.id'], name=op.f('fk_scheduler_failures_case_id_cases')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_scheduler_failures')),
    sa.UniqueConstraint('key', name=op.f('uq_scheduler_failures_key'))
    )
    op.create_table('mail_outbox',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('notification_id', sa.Integer(), nullable=True),
    sa.Column('digest_key', sa.String(length=40), nullable=True),
    sa.Column('covers_until', sa.DateTime(), nullable=True),
    sa.Column('to_addr', sa.String(length=200), nullable=False),
    sa.Column('subject', sa.String(length=200), nullable=False),
    sa.Column('body', sa.Text(), nullable=False),
    sa.Column('status', sa.String(length=10), nullable=False),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('next_attempt_at', sa.DateTime(), nullable=False),
    sa.Column('claimed_by', sa.String(length=120), nullable=True),
    sa.Column('claimed_until', sa.DateTime(), nullable=True),
    sa.Column('last_error', sa.Text(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('sent_at', sa.DateTime(), nullable=True),
    sa.CheckConstraint("status IN ('pending', 'sending', 'sent', 'failed')", name=op.f('ck_mail_outbox_status')),
    sa.ForeignKeyConstraint(['notification_id'], ['notifications.id'], name=op.f('fk_mail_outbox_notification_id_notifications')),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_mail_outbox_user_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_mail_outbox')),
    sa.UniqueConstraint('digest_key', name=op.f('uq_mail_outbox_digest_key')),
    sa.UniqueConstraint('notification_id', name=op.f('uq_mail_outbox_notification_id'))
    )
    with op.batch_alter_table('mail_outbox', schema=None) as batch_op:
        batch_op.create_index('ix_mail_outbox_status_next', ['status', 'next_attempt_at'], unique=False)


def downgrade():
    with op.batch_alter_table('mail_outbox', schema=None) as batch_op:
        batch_op.drop_index('ix_mail_outbox_status_next')
    op.drop_table('mail_outbox')
    op.drop_table('scheduler_failures')
    op.drop_table('scheduled_effects')
    op.drop_table('notification_prefs')
    op.drop_table('scheduler_lease')
    op.drop_table('scheduler_jobs')
