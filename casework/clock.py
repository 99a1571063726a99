"""The one source of 'now': naive UTC in the database, the union's time zone for people."""
from __future__ import annotations

from datetime import date, datetime, timezone
from zoneinfo import ZoneInfo

from flask import current_app, has_app_context


def utcnow() -> datetime:
    return datetime.now(timezone.utc).replace(tzinfo=None, microsecond=0)


def zone() -> ZoneInfo:
    name = current_app.config["CASEWORK_TIMEZONE"] if has_app_context() else "Asia/Shanghai"
    return ZoneInfo(name)


def local(dt: datetime) -> datetime:
    return dt.replace(tzinfo=timezone.utc).astimezone(zone())


def today() -> date:
    return local(utcnow()).date()


def to_utc(dt: datetime) -> datetime:
    """An aware or local-naive datetime as naive UTC."""
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=zone())
    return dt.astimezone(timezone.utc).replace(tzinfo=None)
