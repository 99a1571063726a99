"""proposals and motions: the duplicate-detection word index and duplicate marks

Revision ID: 3f9c2a7d1e64
Revises: 5b0d6afdd4a2
Create Date: 2026-11-25 10:00:00

"""
from alembic import op
import sqlalchemy as sa


revision = '3f9c2a7d1e64'
down_revision = '5b0d6afdd4a2'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('proposal_terms',
    sa.Column('proposal_id', sa.Integer(), nullable=False),
    sa.Column('term', sa.String(length=32), nullable=False),
    sa.Column('tf', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['proposal_id'], ['proposals.id'], name=op.f('fk_proposal_terms_proposal_id_proposals')),
    sa.PrimaryKeyConstraint('proposal_id', 'term', name=op.f('pk_proposal_terms'))
    )
    with op.batch_alter_table('proposal_terms', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_proposal_terms_term'), ['term'], unique=False)

    op.create_table('proposal_duplicates',
    sa.Column('proposal_id', sa.Integer(), nullable=False),
    sa.Column('original_id', sa.Integer(), nullable=False),
    sa.Column('similarity', sa.Float(), nullable=True),
    sa.Column('marked_by_id', sa.Integer(), nullable=False),
    sa.Column('at', sa.DateTime(), nullable=False),
    sa.CheckConstraint('proposal_id <> original_id', name=op.f('ck_proposal_duplicates_not_itself')),
    sa.ForeignKeyConstraint(['marked_by_id'], ['users.id'], name=op.f('fk_proposal_duplicates_marked_by_id_users')),
    sa.ForeignKeyConstraint(['original_id'], ['proposals.id'], name=op.f('fk_proposal_duplicates_original_id_proposals')),
    sa.ForeignKeyConstraint(['proposal_id'], ['proposals.id'], name=op.f('fk_proposal_duplicates_proposal_id_proposals')),
    sa.PrimaryKeyConstraint('proposal_id', name=op.f('pk_proposal_duplicates'))
    )
    with op.batch_alter_table('proposal_duplicates', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_proposal_duplicates_original_id'), ['original_id'], unique=False)


def downgrade():
    with op.batch_alter_table('proposal_duplicates', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_proposal_duplicates_original_id'))
    op.drop_table('proposal_duplicates')
    with op.batch_alter_table('proposal_terms', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_proposal_terms_term'))
    op.drop_table('proposal_terms')
