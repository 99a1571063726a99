"""merge the vote service and subjects, sign-in throttles and human checks, and the privacy tables

Revision ID: 9a0c3e5f7b21
Revises: 3f6a9c1e7b24, 6e2b8c4d1a9f, 749310edfe62
Create Date: 2026-12-02 02:40:00
"""
revision = "9a0c3e5f7b21"
down_revision = ("3f6a9c1e7b24", "6e2b8c4d1a9f", "749310edfe62")
branch_labels = None
depends_on = None


def upgrade():
    pass


def downgrade():
    pass
