"""Operations: health check, structured logs, backup and restore."""
from __future__ import annotations

from . import backup, health, logs


def register(app):
    health.register(app)
    logs.register(app)
    backup.register(app)
