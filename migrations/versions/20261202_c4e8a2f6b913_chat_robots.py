"""notifications: WeCom and DingTalk group robots per unit, and their outbox

Revision ID: c4e8a2f6b913
Revises: b7d3e5f9a1c2
Create Date: 2026-12-02 05:20:00
"""
import sqlalchemy as sa
from alembic import op

revision = "c4e8a2f6b913"
down_revision = "b7d3e5f9a1c2"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "chat_robots",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("unit_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("webhook_url", sa.String(length=500), nullable=False),
        sa.Column("secret", sa.String(length=200), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.CheckConstraint("kind IN ('wecom', 'dingtalk')", name=op.f("ck_chat_robots_kind")),
        sa.ForeignKeyConstraint(["unit_id"], ["units.id"], name=op.f("fk_chat_robots_unit_id_units")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_chat_robots")),
    )
    with op.batch_alter_table("chat_robots") as batch:
        batch.create_index(op.f("ix_chat_robots_unit_id"), ["unit_id"], unique=False)
    op.create_table(
        "robot_outbox",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("robot_id", sa.Integer(), nullable=False),
        sa.Column("case_id", sa.Integer(), nullable=True),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("status", sa.String(length=10), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_attempt_at", sa.DateTime(), nullable=False),
        sa.Column("claimed_by", sa.String(length=120), nullable=True),
        sa.Column("claimed_until", sa.DateTime(), nullable=True),
        sa.Column("last_error", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("sent_at", sa.DateTime(), nullable=True),
        sa.CheckConstraint("status IN ('pending', 'sending', 'sent', 'failed')", name=op.f("ck_robot_outbox_status")),
        sa.ForeignKeyConstraint(["case_id"], ["cases.id"], name=op.f("fk_robot_outbox_case_id_cases")),
        sa.ForeignKeyConstraint(["robot_id"], ["chat_robots.id"], name=op.f("fk_robot_outbox_robot_id_chat_robots"),
                                ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_robot_outbox")),
    )
    with op.batch_alter_table("robot_outbox") as batch:
        batch.create_index(op.f("ix_robot_outbox_robot_id"), ["robot_id"], unique=False)
        batch.create_index("ix_robot_outbox_status_next", ["status", "next_attempt_at"], unique=False)
        batch.create_index("ix_robot_outbox_robot_sent", ["robot_id", "sent_at"], unique=False)


def downgrade():
    op.drop_table("robot_outbox")
    op.drop_table("chat_robots")
