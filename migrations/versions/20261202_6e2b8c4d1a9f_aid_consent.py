"""aid: separate consent to processing the sensitive parts (text, version, who, how, when, withdrawal)

Revision ID: 6e2b8c4d1a9f
Revises: 4c1d9e7a2b6f
Create Date: 2026-12-02 02:00:00
"""
import sqlalchemy as sa
from alembic import op

revision = "6e2b8c4d1a9f"
down_revision = "4c1d9e7a2b6f"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("aid_requests") as batch:
        batch.add_column(sa.Column("consent_version", sa.String(length=20), nullable=True))
        batch.add_column(sa.Column("consent_text", sa.Text(), nullable=True))
        batch.add_column(sa.Column("consent_given_by", sa.String(length=10), nullable=True))
        batch.add_column(sa.Column("consent_how", sa.String(length=20), nullable=True))
        batch.add_column(sa.Column("consent_by_id", sa.Integer(), nullable=True))
        batch.add_column(sa.Column("consent_at", sa.DateTime(), nullable=True))
        batch.add_column(sa.Column("consent_withdrawn_at", sa.DateTime(), nullable=True))
        batch.create_foreign_key(op.f("fk_aid_requests_consent_by_id_users"), "users", ["consent_by_id"], ["id"])
        batch.create_check_constraint(
            op.f("ck_aid_requests_consent_given_by"),
            "consent_given_by IS NULL OR consent_given_by IN ('self', 'on_behalf')")
        batch.create_check_constraint(op.f("ck_aid_requests_consent_at"),
                                      "(consent_at IS NULL) = (consent_version IS NULL)")


def downgrade():
    with op.batch_alter_table("aid_requests") as batch:
        batch.drop_constraint(op.f("ck_aid_requests_consent_at"), type_="check")
        batch.drop_constraint(op.f("ck_aid_requests_consent_given_by"), type_="check")
        batch.drop_constraint(op.f("fk_aid_requests_consent_by_id_users"), type_="foreignkey")
        for column in ("consent_withdrawn_at", "consent_at", "consent_by_id", "consent_how", "consent_given_by",
                       "consent_text", "consent_version"):
            batch.drop_column(column)
