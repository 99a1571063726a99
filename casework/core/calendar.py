"""Working days on China's statutory schedule, make-up workdays included.

chinese-calendar knows the years the State Council has published; past them we fall back to the
statutory holidays from `holidays` (which lacks make-up workdays) plus days an admin enters.
"""
from __future__ import annotations

from datetime import date, timedelta
from functools import lru_cache

import chinese_calendar
import holidays as holidays_lib
from sqlalchemy import Boolean, Date, String, select
from sqlalchemy.orm import Mapped, mapped_column

from ..extensions import db


class CalendarDay(db.Model):
    """An admin's entry from the published schedule: a holiday or a make-up workday."""
    __tablename__ = "calendar_days"
    day: Mapped[date] = mapped_column(Date, primary_key=True)
    workday: Mapped[bool] = mapped_column(Boolean)
    note: Mapped[str] = mapped_column(String(100), default="")


@lru_cache(maxsize=16)
def _fallback(year: int):
    return holidays_lib.China(years=year)


def known_year(year: int) -> bool:
    try:
        chinese_calendar.is_workday(date(year, 6, 1))
        return True
    except NotImplementedError:
        return False


def _overrides(start: date, end: date) -> dict[date, bool]:
    rows = db.session.execute(select(CalendarDay.day, CalendarDay.workday)
                              .where(CalendarDay.day.between(start, end))).all()
    return {d: w for d, w in rows}


def _is_workday(day: date, overrides: dict[date, bool]) -> bool:
    if day in overrides:
        return overrides[day]
    try:
        return chinese_calendar.is_workday(day)
    except NotImplementedError:
        return day.weekday() < 5 and day not in _fallback(day.year)


def is_workday(day: date) -> bool:
    return _is_workday(day, _overrides(day, day))


def add_working_days(start: date, days: int) -> date:
    """The date `days` working days after `start` (negative counts back); 0 is `start` itself."""
    step = 1 if days >= 0 else -1
    span = abs(days) * 3 + 40  # holidays never stretch a count by more than this
    lo, hi = sorted((start, start + timedelta(days=step * span)))
    overrides = _overrides(lo, hi)
    current, left = start, abs(days)
    while left:
        current += timedelta(days=step)
        if _is_workday(current, overrides):
            left -= 1
    return current


def working_days_between(start: date, end: date) -> int:
    """Working days after `start` up to and including `end` (negative when end < start)."""
    if end == start:
        return 0
    lo, hi = sorted((start, end))
    overrides = _overrides(lo, hi)
    count, current = 0, lo
    while current < hi:
        current += timedelta(days=1)
        if _is_workday(current, overrides):
            count += 1
    return count if end > start else -count
