"""Working days on China's statutory schedule, make-up workdays included.

chinese-calendar knows the years the State Council has published; past them we fall back to the
statutory holidays from `holidays` (which lacks make-up workdays) plus days an admin enters.

A year is built once (the published schedule once per process, the admin's entries once per transaction) and
all counting is then done in memory: a page of deadlines reads the calendar once, not once per row.
"""
from __future__ import annotations

from datetime import date, timedelta
from functools import lru_cache

import chinese_calendar
import holidays as holidays_lib
from sqlalchemy import Boolean, Date, String, event, select
from sqlalchemy.orm import Mapped, Session, mapped_column, object_session

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


def _built_in(day: date) -> bool:
    try:
        return chinese_calendar.is_workday(day)
    except NotImplementedError:
        return day.weekday() < 5 and day not in _fallback(day.year)


@lru_cache(maxsize=64)
def _built_in_year(year: int) -> tuple[bool, ...]:
    """The published (or fallback) schedule of a year, day by day from 1 January; it never changes."""
    first = date(year, 1, 1)
    return tuple(_built_in(first + timedelta(days=i)) for i in range((date(year + 1, 1, 1) - first).days))


class _Year:
    """One year's working days with the admin's entries applied: a flag per day of the year and running
    counts, so that counting between two days is two look-ups."""
    __slots__ = ("start", "flags", "through")

    def __init__(self, year: int, overrides: dict[date, bool]):
        self.start = date(year, 1, 1).toordinal()
        flags = list(_built_in_year(year))
        for day, workday in overrides.items():
            flags[day.toordinal() - self.start] = workday
        self.flags = flags
        self.through, n = [], 0  # through[i]: working days from 1 January up to and including day i
        for f in flags:
            n += f
            self.through.append(n)


# The admin's entries are read once per year per transaction and kept on the session: a commit or rollback
# drops them (the next transaction sees what other requests and processes saved since), and so does a flush
# that writes a CalendarDay in this session.
_KEY = "casework_calendar_years"


def _years() -> dict[int, _Year]:
    return db.session.info.setdefault(_KEY, {})


def _year(year: int) -> _Year:
    years = _years()
    cached = years.get(year)
    if cached is None:
        rows = db.session.execute(select(CalendarDay.day, CalendarDay.workday).where(
            CalendarDay.day.between(date(year, 1, 1), date(year, 12, 31)))).all()
        cached = years[year] = _Year(year, {d: w for d, w in rows})
    return cached


def _drop(session, *_args) -> None:
    session.info.pop(_KEY, None)


def _written(_mapper, _connection, target) -> None:
    session = object_session(target)
    if session is not None:
        _drop(session)


event.listen(Session, "after_commit", _drop)
event.listen(Session, "after_soft_rollback", _drop)
for _name in ("after_insert", "after_update", "after_delete"):
    event.listen(CalendarDay, _name, _written)


def is_workday(day: date) -> bool:
    year = _year(day.year)
    return year.flags[day.toordinal() - year.start]


def _count_through(day: date, base_year: int) -> int:
    """Working days from 1 January of `base_year` up to and including `day` (day.year >= base_year)."""
    total = sum(_year(y).through[-1] for y in range(base_year, day.year))
    year = _year(day.year)
    return total + year.through[day.toordinal() - year.start]


def add_working_days(start: date, days: int) -> date:
    """The date `days` working days after `start` (negative counts back); 0 is `start` itself."""
    step = timedelta(days=1 if days >= 0 else -1)
    current, left = start, abs(days)
    while left:
        current += step
        if is_workday(current):
            left -= 1
    return current


def working_days_between(start: date, end: date) -> int:
    """Working days after `start` up to and including `end` (negative when end < start)."""
    if end == start:
        return 0
    lo, hi = sorted((start, end))
    count = _count_through(hi, lo.year) - _count_through(lo, lo.year)
    return count if end > start else -count
