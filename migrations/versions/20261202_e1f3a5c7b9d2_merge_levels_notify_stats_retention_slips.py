"""merge two-level approval, step notifications and robots, the statistics' stays, retention and supervision

Revision ID: e1f3a5c7b9d2
Revises: 5d8f2a4c6e13, c4e8a1d2f6b3, c4e8a2d6f0b3, c4e8a2f6b913, d41f7a2c9e53
Create Date: 2026-12-02 06:50:00
"""
revision = "e1f3a5c7b9d2"
down_revision = ("5d8f2a4c6e13", "c4e8a1d2f6b3", "c4e8a2d6f0b3", "c4e8a2f6b913", "d41f7a2c9e53")
branch_labels = None
depends_on = None


def upgrade():
    pass


def downgrade():
    pass
