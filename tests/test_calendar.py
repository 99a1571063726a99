"""Working days on China's statutory schedule."""
from __future__ import annotations

from datetime import date

from casework.core import calendar
from casework.core.calendar import CalendarDay


def test_national_day_and_makeup_workday(db):
    # 2025: National Day + Mid-Autumn holiday 1-8 Oct; Sunday 28 Sep and Saturday 11 Oct are workdays.
    assert calendar.is_workday(date(2025, 9, 28))
    assert not calendar.is_workday(date(2025, 10, 3))
    assert calendar.is_workday(date(2025, 10, 11))
    # 5 working days from Friday 26 Sep 2025: 28, 29, 30 Sep, 9, 10 Oct.
    assert calendar.add_working_days(date(2025, 9, 26), 5) == date(2025, 10, 10)
    assert calendar.working_days_between(date(2025, 9, 26), date(2025, 10, 10)) == 5


def test_years_past_the_published_schedule_fall_back(db):
    # 2027 is not in chinese-calendar yet: weekends and statutory holidays still count as days off.
    assert not calendar.is_workday(date(2027, 1, 1))
    assert not calendar.is_workday(date(2027, 1, 2))
    assert calendar.is_workday(date(2027, 1, 4))
    # An admin enters a make-up workday from the published notice.
    db.session.add(CalendarDay(day=date(2027, 1, 2), workday=True, note="调休上班"))
    db.session.commit()
    assert calendar.is_workday(date(2027, 1, 2))
    assert calendar.add_working_days(date(2026, 12, 31), 1) == date(2027, 1, 2)


def test_counting_back(db):
    assert calendar.add_working_days(date(2025, 10, 9), -1) == date(2025, 9, 30)
