"""the task queue: jobs with their progress and the parts they made; notice batches keep their PDF and
point at their job, whose row now holds the status and progress

Revision ID: b7d9f1a3c5e8
Revises: b7d9e1f3a5c8
Create Date: 2026-12-02 17:00:00
"""
import sqlalchemy as sa
from alembic import op

revision = "b7d9f1a3c5e8"
down_revision = "b7d9e1f3a5c8"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "jobs",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=40), nullable=False),
        sa.Column("args", sa.JSON(), nullable=False),
        sa.Column("state", sa.String(length=20), nullable=False),
        sa.Column("done", sa.Integer(), nullable=False),
        sa.Column("total", sa.Integer(), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("error", sa.Text(), nullable=False),
        sa.Column("result", sa.String(length=200), nullable=True),
        sa.Column("holder", sa.String(length=200), nullable=False),
        sa.Column("created_by_id", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("started_at", sa.DateTime(), nullable=True),
        sa.Column("heartbeat_at", sa.DateTime(), nullable=True),
        sa.Column("finished_at", sa.DateTime(), nullable=True),
        sa.CheckConstraint("state IN ('queued', 'running', 'done', 'failed')", name=op.f("ck_jobs_state")),
        sa.CheckConstraint("done >= 0 AND done <= total", name=op.f("ck_jobs_progress")),
        sa.CheckConstraint("attempts >= 0", name=op.f("ck_jobs_attempts")),
        sa.ForeignKeyConstraint(["created_by_id"], ["users.id"], name=op.f("fk_jobs_created_by_id_users")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_jobs")),
    )
    op.create_index(op.f("ix_jobs_created_by_id"), "jobs", ["created_by_id"], unique=False)
    op.create_table(
        "job_parts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("job_id", sa.Integer(), nullable=False),
        sa.Column("part", sa.String(length=100), nullable=False),
        sa.Column("attempt", sa.Integer(), nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("data", sa.LargeBinary(), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(["job_id"], ["jobs.id"], name=op.f("fk_job_parts_job_id_jobs"),
                                ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_job_parts")),
        sa.UniqueConstraint("job_id", "part", name=op.f("uq_job_parts_job_id_part")),
    )
    # Batches that were still running belong to a coordinator thread that no longer exists.
    op.execute("DELETE FROM notice_batches WHERE pdf IS NULL")
    with op.batch_alter_table("notice_batches") as batch:
        batch.drop_constraint(op.f("ck_notice_batches_status"), type_="check")
        batch.drop_constraint(op.f("ck_notice_batches_progress"), type_="check")
        for column in ("status", "total", "done", "error", "started_at", "heartbeat_at", "finished_at"):
            batch.drop_column(column)
        batch.add_column(sa.Column("job_id", sa.Integer(), nullable=True))
        batch.create_foreign_key(op.f("fk_notice_batches_job_id_jobs"), "jobs", ["job_id"], ["id"])


def downgrade():
    with op.batch_alter_table("notice_batches") as batch:
        batch.drop_constraint(op.f("fk_notice_batches_job_id_jobs"), type_="foreignkey")
        batch.drop_column("job_id")
        batch.add_column(sa.Column("status", sa.String(length=20), nullable=False, server_default="done"))
        batch.add_column(sa.Column("total", sa.Integer(), nullable=False, server_default="0"))
        batch.add_column(sa.Column("done", sa.Integer(), nullable=False, server_default="0"))
        batch.add_column(sa.Column("error", sa.Text(), nullable=False, server_default=""))
        for column in ("started_at", "heartbeat_at", "finished_at"):
            batch.add_column(sa.Column(column, sa.DateTime(), nullable=True))
        batch.create_check_constraint("status", "status IN ('queued', 'running', 'done', 'failed')")
        batch.create_check_constraint("progress", "done >= 0 AND done <= total")
    op.drop_table("job_parts")
    op.drop_index(op.f("ix_jobs_created_by_id"), table_name="jobs")
    op.drop_table("jobs")
