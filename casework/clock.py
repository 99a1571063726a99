"""The one source of 'now': naive UTC in the database, the union's time zone for people."""
from __future__ import annotations

from contextlib import contextmanager
from contextvars import ContextVar
from datetime import date, datetime, timedelta, timezone
from typing import Iterator
from zoneinfo import ZoneInfo

from flask import current_app, has_app_context

# How far `travel` has moved this context's clock. Only the demo loader (casework/demo_history.py) travels:
# it replays a year of casework through the engine, each step as of its own past moment.
_shift: ContextVar[timedelta | None] = ContextVar("casework_clock_shift", default=None)


def utcnow() -> datetime:
    now = datetime.now(timezone.utc).replace(tzinfo=None)
    shift = _shift.get()
    if shift is not None:
        now += shift
    return now.replace(microsecond=0)


@contextmanager
def travel(moment: datetime) -> Iterator[None]:
    """Runs the block as of `moment` (naive UTC, or aware); the clock ticks on from there. Nests."""
    if moment.tzinfo is not None:
        moment = moment.astimezone(timezone.utc).replace(tzinfo=None)
    token = _shift.set(moment - datetime.now(timezone.utc).replace(tzinfo=None))
    try:
        yield
    finally:
        _shift.reset(token)


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
