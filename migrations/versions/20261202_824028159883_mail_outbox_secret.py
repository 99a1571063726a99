"""mail_outbox.secret: a mail carrying a secret (a password-reset link) has its body blanked once delivered

Revision ID: 824028159883
Revises: f2b4d6a8c0e1
Create Date: 2026-12-02 08:30:00
"""
import sqlalchemy as sa
from alembic import op

revision = "824028159883"
down_revision = "f2b4d6a8c0e1"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("mail_outbox", schema=None) as batch_op:
        batch_op.add_column(sa.Column("secret", sa.Boolean(), server_default=sa.false(), nullable=False))
    # Until now the only mail with neither an inbox notice nor a digest was the reset link: mark it, and
    # blank the links already delivered.
    box = sa.table("mail_outbox", sa.column("notification_id"), sa.column("digest_key"), sa.column("secret"),
                   sa.column("status"), sa.column("body"))
    op.execute(box.update().where(box.c.notification_id.is_(None), box.c.digest_key.is_(None))
               .values(secret=sa.true()))
    op.execute(box.update().where(box.c.secret.is_(sa.true()), box.c.status == "sent").values(body=""))


def downgrade():
    with op.batch_alter_table("mail_outbox", schema=None) as batch_op:
        batch_op.drop_column("secret")
