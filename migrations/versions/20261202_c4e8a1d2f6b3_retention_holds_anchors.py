"""retention: legal holds and anonymisation of aid requests; anchors of purged reads-log entries

A unit's one `aid_retention_years` becomes the same value for each category (`aid_retention_years_<category>`).

Revision ID: c4e8a1d2f6b3
Revises: b7d3e5f9a1c2
Create Date: 2026-12-02 05:10:00
"""
import sqlalchemy as sa
from alembic import op

revision = "c4e8a1d2f6b3"
down_revision = "b7d3e5f9a1c2"
branch_labels = None
depends_on = None

CATEGORIES = ("hardship", "illness", "education", "holiday_visit")


def upgrade():
    with op.batch_alter_table("aid_requests") as batch:
        batch.add_column(sa.Column("anonymised_at", sa.DateTime(), nullable=True))
        batch.add_column(sa.Column("hold_reason", sa.Text(), nullable=True))
        batch.add_column(sa.Column("hold_at", sa.DateTime(), nullable=True))
        batch.add_column(sa.Column("hold_by_id", sa.Integer(), nullable=True))
        batch.create_foreign_key(op.f("fk_aid_requests_hold_by_id_users"), "users", ["hold_by_id"], ["id"])
    op.create_table(
        "access_anchors",
        sa.Column("chain", sa.String(length=40), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("hash", sa.String(length=64), nullable=False),
        sa.Column("purged", sa.Integer(), nullable=False),
        sa.Column("at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("chain", name=op.f("pk_access_anchors")),
    )
    _split_setting()


def _split_setting():
    settings = sa.table("unit_settings", sa.column("unit_id", sa.Integer), sa.column("key", sa.String),
                        sa.column("value", sa.JSON))
    conn = op.get_bind()
    rows = conn.execute(sa.select(settings.c.unit_id, settings.c.value)
                        .where(settings.c.key == "aid_retention_years")).all()
    for unit_id, value in rows:
        conn.execute(settings.insert(), [{"unit_id": unit_id, "key": f"aid_retention_years_{c}", "value": value}
                                         for c in CATEGORIES])
    conn.execute(settings.delete().where(settings.c.key == "aid_retention_years"))


def downgrade():
    settings = sa.table("unit_settings", sa.column("unit_id", sa.Integer), sa.column("key", sa.String),
                        sa.column("value", sa.JSON))
    conn = op.get_bind()
    # The longest of a unit's category periods becomes its one period again.
    kept: dict = {}
    for unit_id, value in conn.execute(sa.select(settings.c.unit_id, settings.c.value).where(
            settings.c.key.in_([f"aid_retention_years_{c}" for c in CATEGORIES]))):
        kept[unit_id] = max(kept.get(unit_id, value), value)
    conn.execute(settings.delete().where(settings.c.key.in_([f"aid_retention_years_{c}" for c in CATEGORIES])))
    if kept:
        conn.execute(settings.insert(), [{"unit_id": u, "key": "aid_retention_years", "value": v}
                                         for u, v in kept.items()])
    op.drop_table("access_anchors")
    with op.batch_alter_table("aid_requests") as batch:
        batch.drop_constraint(op.f("fk_aid_requests_hold_by_id_users"), type_="foreignkey")
        for column in ("hold_by_id", "hold_at", "hold_reason", "anonymised_at"):
            batch.drop_column(column)
