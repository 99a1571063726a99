"""engine: the audit chain's head on the case row; co-handling departments as an indexed table;
the grants version token that cached role grants are keyed by

Revision ID: b7d2e9f4a1c3
Revises: 8e41c6a0d5b3
Create Date: 2026-11-25 14:00:00
"""
import json
import secrets

import sqlalchemy as sa
from alembic import op

revision = "b7d2e9f4a1c3"
down_revision = "8e41c6a0d5b3"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("cases") as batch:
        batch.add_column(sa.Column("audit_seq", sa.Integer(), nullable=True))
        batch.add_column(sa.Column("audit_hash", sa.String(length=64), nullable=True))
    # Every existing case's head is its chain's last entry.
    op.execute("UPDATE cases SET "
               "audit_seq = (SELECT a.seq FROM audit_entries a WHERE a.case_id = cases.id "
               "ORDER BY a.seq DESC LIMIT 1), "
               "audit_hash = (SELECT a.hash FROM audit_entries a WHERE a.case_id = cases.id "
               "ORDER BY a.seq DESC LIMIT 1)")

    op.create_table(
        "case_co_departments",
        sa.Column("case_id", sa.Integer(), nullable=False),
        sa.Column("department_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["case_id"], ["cases.id"], name=op.f("fk_case_co_departments_case_id_cases"),
                                ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["department_id"], ["departments.id"],
                                name=op.f("fk_case_co_departments_department_id_departments")),
        sa.PrimaryKeyConstraint("case_id", "department_id", name=op.f("pk_case_co_departments")),
    )
    op.create_index(op.f("ix_case_co_departments_department_id"), "case_co_departments", ["department_id"])
    conn = op.get_bind()
    known = {d for (d,) in conn.execute(sa.text("SELECT id FROM departments"))}
    rows = []
    for motion_id, raw in conn.execute(sa.text("SELECT id, co_department_ids FROM motions")):
        ids = json.loads(raw) if isinstance(raw, str) else (raw or [])
        rows += [{"case_id": motion_id, "department_id": d}
                 for d in sorted({int(d) for d in ids if str(d).isdigit()} & known)]
    if rows:
        conn.execute(sa.text("INSERT INTO case_co_departments (case_id, department_id) "
                             "VALUES (:case_id, :department_id)"), rows)

    op.create_table(
        "grants_version",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("token", sa.String(length=32), nullable=False),
        sa.CheckConstraint("id = 1", name=op.f("ck_grants_version_single_row")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_grants_version")),
    )
    conn.execute(sa.text("INSERT INTO grants_version (id, token) VALUES (1, :token)"),
                 {"token": secrets.token_hex(16)})


def downgrade():
    op.drop_table("grants_version")
    op.drop_index(op.f("ix_case_co_departments_department_id"), table_name="case_co_departments")
    op.drop_table("case_co_departments")
    with op.batch_alter_table("cases") as batch:
        batch.drop_column("audit_hash")
        batch.drop_column("audit_seq")
