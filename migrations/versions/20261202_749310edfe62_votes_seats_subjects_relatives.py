"""votes by seat with decisive inputs; votes and audit chains of subjects that are not cases (the register's
households, the board's postings); declared relatives; household members linked to accounts

The register's and the board's own vote tables are folded into `votes` (their rows kept) and dropped.

Revision ID: 749310edfe62
Revises: b7d2e9f4a1c3
Create Date: 2026-12-02 01:04:17
"""
import hashlib
import json

import sqlalchemy as sa
from alembic import op

revision = '749310edfe62'
down_revision = 'b7d2e9f4a1c3'
branch_labels = None
depends_on = None

# The fields the workflows mark decisive (workflows/*.py) when this revision was written.
DECISIVE = ("amount", "reconsider", "department", "deadline", "bonus")


def _position(trigger, decisive):
    blob = json.dumps(decisive, sort_keys=True, ensure_ascii=False, separators=(",", ":"), default=str)
    return f"{trigger}:{hashlib.sha256(blob.encode()).hexdigest()}"


def upgrade():
    op.create_table('relatives',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('relative_id', sa.Integer(), nullable=False),
    sa.Column('relation', sa.String(length=20), nullable=False),
    sa.Column('recorded_by_id', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.CheckConstraint("relation IN ('spouse', 'parent', 'child', 'sibling', 'grandparent', 'grandchild', 'in_law', 'other')", name=op.f('ck_relatives_relation')),
    sa.CheckConstraint('user_id <> relative_id', name=op.f('ck_relatives_not_self')),
    sa.ForeignKeyConstraint(['recorded_by_id'], ['users.id'], name=op.f('fk_relatives_recorded_by_id_users')),
    sa.ForeignKeyConstraint(['relative_id'], ['users.id'], name=op.f('fk_relatives_relative_id_users')),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_relatives_user_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_relatives')),
    sa.UniqueConstraint('user_id', 'relative_id', name=op.f('uq_relatives_user_id_relative_id'))
    )
    with op.batch_alter_table('relatives', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_relatives_relative_id'), ['relative_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_relatives_user_id'), ['user_id'], unique=False)

    with op.batch_alter_table('audit_entries', schema=None) as batch_op:
        batch_op.add_column(sa.Column('subject_kind', sa.String(length=20), nullable=True))
        batch_op.add_column(sa.Column('subject_id', sa.Integer(), nullable=True))
        batch_op.alter_column('case_id',
               existing_type=sa.INTEGER(),
               nullable=True)
        batch_op.create_unique_constraint(batch_op.f('uq_audit_entries_subject_kind_subject_id_seq'), ['subject_kind', 'subject_id', 'seq'])

    with op.batch_alter_table('disclosures', schema=None) as batch_op:
        batch_op.add_column(sa.Column('lock_version', sa.Integer(), nullable=False, server_default='1'))
        batch_op.add_column(sa.Column('updated_at', sa.DateTime(), nullable=True))
        batch_op.add_column(sa.Column('state_seq', sa.Integer(), nullable=False, server_default='0'))
        batch_op.add_column(sa.Column('state_entered_at', sa.DateTime(), nullable=True))
        batch_op.add_column(sa.Column('audit_seq', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('audit_hash', sa.String(length=64), nullable=True))

    with op.batch_alter_table('hardship_household_members', schema=None) as batch_op:
        batch_op.add_column(sa.Column('user_id', sa.Integer(), nullable=True))
        batch_op.create_index(batch_op.f('ix_hardship_household_members_user_id'), ['user_id'], unique=False)
        batch_op.create_foreign_key(batch_op.f('fk_hardship_household_members_user_id_users'), 'users', ['user_id'], ['id'])

    with op.batch_alter_table('hardship_households', schema=None) as batch_op:
        batch_op.add_column(sa.Column('version', sa.Integer(), nullable=False, server_default='1'))
        batch_op.add_column(sa.Column('state_seq', sa.Integer(), nullable=False, server_default='0'))
        batch_op.add_column(sa.Column('state_entered_at', sa.DateTime(), nullable=True))
        batch_op.add_column(sa.Column('audit_seq', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('audit_hash', sa.String(length=64), nullable=True))

    with op.batch_alter_table('audit_entries', schema=None) as batch_op:
        batch_op.create_check_constraint('one_subject', '(case_id IS NULL) <> (subject_kind IS NULL)')

    with op.batch_alter_table('votes', schema=None) as batch_op:
        batch_op.add_column(sa.Column('subject_kind', sa.String(length=20), nullable=True))
        batch_op.add_column(sa.Column('subject_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('seat_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('texts', sa.JSON(), nullable=True))
        batch_op.alter_column('case_id', existing_type=sa.INTEGER(), nullable=True)

    conn = op.get_bind()
    # Positions by decisive inputs only; the rest of each vote's inputs are its voter's words.
    seen = set()
    for vid, case_id, rnd, user_id, delegate_of, trigger, data in conn.execute(sa.text(
            "SELECT id, case_id, round, user_id, delegate_of_id, trigger, data FROM votes ORDER BY id")).all():
        data = json.loads(data) if isinstance(data, str) else (data or {})
        decisive = {k: v for k, v in data.items() if k in DECISIVE}
        texts = {k: v for k, v in data.items() if k not in DECISIVE}
        seat = delegate_of or user_id
        if (case_id, rnd, seat) in seen:  # a seat that voted twice before seats existed: kept, as the voter's
            seat = user_id
        seen.add((case_id, rnd, seat))
        conn.execute(sa.text("UPDATE votes SET seat_id = :seat, position = :pos, data = :data, texts = :texts "
                             "WHERE id = :id"),
                     {"seat": seat, "pos": _position(trigger, decisive), "data": json.dumps(decisive),
                      "texts": json.dumps(texts, ensure_ascii=False), "id": vid})
    # The register's and the board's votes, into the one table.
    conn.execute(sa.text("UPDATE hardship_households SET state_seq = round"))
    conn.execute(sa.text("UPDATE disclosures SET state_seq = 1 WHERE status <> 'awaiting_signoff'"))
    rows = conn.execute(sa.text("SELECT household_id, round, user_id, position, comment, at "
                                "FROM hardship_household_votes ORDER BY id")).all()
    for household_id, rnd, user_id, trigger, comment, at in rows:
        conn.execute(sa.text("INSERT INTO votes (subject_kind, subject_id, round, user_id, seat_id, trigger, "
                             "position, data, texts, comment, at) VALUES ('register', :sid, :round, :user, :user, "
                             ":trigger, :pos, '{}', '{}', :comment, :at)"),
                     {"sid": household_id, "round": rnd, "user": user_id, "trigger": trigger,
                      "pos": _position(trigger, {}), "comment": comment or "", "at": at})
    rows = conn.execute(sa.text("SELECT disclosure_id, user_id, comment, at FROM disclosure_votes ORDER BY id")).all()
    for disclosure_id, user_id, comment, at in rows:
        conn.execute(sa.text("INSERT INTO votes (subject_kind, subject_id, round, user_id, seat_id, trigger, "
                             "position, data, texts, comment, at) VALUES ('board', :sid, 0, :user, :user, "
                             "'sign_off', :pos, '{}', '{}', :comment, :at)"),
                     {"sid": disclosure_id, "user": user_id, "pos": _position("sign_off", {}),
                      "comment": comment or "", "at": at})

    with op.batch_alter_table('votes', schema=None) as batch_op:
        batch_op.alter_column('seat_id', existing_type=sa.Integer(), nullable=False)
        batch_op.alter_column('texts', existing_type=sa.JSON(), nullable=False)
        batch_op.create_index('ix_votes_subject', ['subject_kind', 'subject_id', 'round'], unique=False)
        batch_op.create_unique_constraint(batch_op.f('uq_votes_case_id_round_seat_id'), ['case_id', 'round', 'seat_id'])
        batch_op.create_unique_constraint(batch_op.f('uq_votes_subject_kind_subject_id_round_seat_id'),
                                          ['subject_kind', 'subject_id', 'round', 'seat_id'])
        batch_op.create_foreign_key(batch_op.f('fk_votes_seat_id_users'), 'users', ['seat_id'], ['id'])
        batch_op.create_check_constraint('one_subject', '(case_id IS NULL) <> (subject_kind IS NULL)')

    with op.batch_alter_table('hardship_household_votes', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_hardship_household_votes_household_id'))

    op.drop_table('hardship_household_votes')
    with op.batch_alter_table('disclosure_votes', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_disclosure_votes_disclosure_id'))

    op.drop_table('disclosure_votes')

def downgrade():
    conn = op.get_bind()
    # Votes of other subjects have no place in the old tables' shape: they go with the columns.
    conn.execute(sa.text("DELETE FROM votes WHERE case_id IS NULL"))
    conn.execute(sa.text("DELETE FROM audit_entries WHERE case_id IS NULL"))
    with op.batch_alter_table('votes', schema=None) as batch_op:
        batch_op.drop_constraint('ck_votes_one_subject', type_='check')
        batch_op.drop_constraint(batch_op.f('fk_votes_seat_id_users'), type_='foreignkey')
        batch_op.drop_constraint(batch_op.f('uq_votes_subject_kind_subject_id_round_seat_id'), type_='unique')
        batch_op.drop_constraint(batch_op.f('uq_votes_case_id_round_seat_id'), type_='unique')
        batch_op.drop_index('ix_votes_subject')
        batch_op.alter_column('case_id',
               existing_type=sa.INTEGER(),
               nullable=False)
        batch_op.drop_column('texts')
        batch_op.drop_column('seat_id')
        batch_op.drop_column('subject_id')
        batch_op.drop_column('subject_kind')

    with op.batch_alter_table('hardship_households', schema=None) as batch_op:
        batch_op.drop_column('audit_hash')
        batch_op.drop_column('audit_seq')
        batch_op.drop_column('state_entered_at')
        batch_op.drop_column('state_seq')
        batch_op.drop_column('version')

    with op.batch_alter_table('hardship_household_members', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_hardship_household_members_user_id_users'), type_='foreignkey')
        batch_op.drop_index(batch_op.f('ix_hardship_household_members_user_id'))
        batch_op.drop_column('user_id')

    with op.batch_alter_table('disclosures', schema=None) as batch_op:
        batch_op.drop_column('audit_hash')
        batch_op.drop_column('audit_seq')
        batch_op.drop_column('state_entered_at')
        batch_op.drop_column('state_seq')
        batch_op.drop_column('updated_at')
        batch_op.drop_column('lock_version')

    with op.batch_alter_table('audit_entries', schema=None) as batch_op:
        batch_op.drop_constraint('ck_audit_entries_one_subject', type_='check')
        batch_op.drop_constraint(batch_op.f('uq_audit_entries_subject_kind_subject_id_seq'), type_='unique')
        batch_op.alter_column('case_id',
               existing_type=sa.INTEGER(),
               nullable=False)
        batch_op.drop_column('subject_id')
        batch_op.drop_column('subject_kind')

    op.create_table('disclosure_votes',
    sa.Column('id', sa.INTEGER(), nullable=False),
    sa.Column('disclosure_id', sa.INTEGER(), nullable=False),
    sa.Column('user_id', sa.INTEGER(), nullable=False),
    sa.Column('comment', sa.TEXT(), nullable=False),
    sa.Column('at', sa.DATETIME(), nullable=False),
    sa.ForeignKeyConstraint(['disclosure_id'], ['disclosures.id'], name=op.f('fk_disclosure_votes_disclosure_id_disclosures')),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_disclosure_votes_user_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_disclosure_votes')),
    sa.UniqueConstraint('disclosure_id', 'user_id', name=op.f('uq_disclosure_votes_disclosure_id_user_id'))
    )
    with op.batch_alter_table('disclosure_votes', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_disclosure_votes_disclosure_id'), ['disclosure_id'], unique=False)

    op.create_table('hardship_household_votes',
    sa.Column('id', sa.INTEGER(), nullable=False),
    sa.Column('household_id', sa.INTEGER(), nullable=False),
    sa.Column('round', sa.INTEGER(), nullable=False),
    sa.Column('user_id', sa.INTEGER(), nullable=False),
    sa.Column('position', sa.VARCHAR(length=10), nullable=False),
    sa.Column('comment', sa.TEXT(), nullable=False),
    sa.Column('at', sa.DATETIME(), nullable=False),
    sa.CheckConstraint("position IN ('approve', 'reject')", name=op.f('ck_hardship_household_votes_position')),
    sa.ForeignKeyConstraint(['household_id'], ['hardship_households.id'], name=op.f('fk_hardship_household_votes_household_id_hardship_households')),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_hardship_household_votes_user_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_hardship_household_votes')),
    sa.UniqueConstraint('household_id', 'round', 'user_id', name=op.f('uq_hardship_household_votes_household_id_round_user_id'))
    )
    with op.batch_alter_table('hardship_household_votes', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_hardship_household_votes_household_id'), ['household_id'], unique=False)

    with op.batch_alter_table('relatives', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_relatives_user_id'))
        batch_op.drop_index(batch_op.f('ix_relatives_relative_id'))

    op.drop_table('relatives')
