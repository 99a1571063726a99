"""Working days on China's statutory schedule."""
from __future__ import annotations

from datetime import date, timedelta

from sqlalchemy import delete, event

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


def _naive_between(start, end, entered):
    """The definition, a day at a time: working days after `start` up to and including `end`."""
    def workday(d):
        return entered[d] if d in entered else calendar._built_in(d)
    lo, hi = sorted((start, end))
    n = sum(workday(lo + timedelta(days=i)) for i in range(1, (hi - lo).days + 1))
    return n if end >= start else -n


def test_counting_in_memory_agrees_with_a_day_by_day_walk(db):
    import random
    rnd = random.Random(16)
    entered = {date(2027, 1, 2): True, date(2027, 2, 8): False, date(2026, 12, 26): True}
    for day, workday in entered.items():
        db.session.add(CalendarDay(day=day, workday=workday))
    db.session.commit()
    for _ in range(300):
        start = date(2025, 6, 1) + timedelta(days=rnd.randrange(900))
        end = start + timedelta(days=rnd.randrange(-400, 400))
        assert calendar.working_days_between(start, end) == _naive_between(start, end, entered), (start, end)
        days = rnd.randrange(-30, 30)
        target = calendar.add_working_days(start, days)
        assert days == 0 and target == start or calendar.is_workday(target)
        if days >= 0:
            assert _naive_between(start, target, entered) == days
        else:  # counting back: the working days from the target up to the day before the start
            assert _naive_between(start - timedelta(days=1), target - timedelta(days=1), entered) == days


def test_the_calendar_is_read_once_per_year_whatever_the_number_of_deadlines(db):
    seen = []

    def record(conn, cursor, statement, params, context, executemany):
        seen.append(statement)
    event.listen(db.engine, "before_cursor_execute", record)
    try:
        for i in range(200):
            calendar.working_days_between(date(2026, 11, 25), date(2026, 11, 25) + timedelta(days=i))
            calendar.add_working_days(date(2026, 11, 25), i % 40)
    finally:
        event.remove(db.engine, "before_cursor_execute", record)
    assert len([s for s in seen if "calendar_days" in s]) == 2  # 2026 and 2027


def test_an_entry_counts_at_once_in_this_session_and_after_a_commit_elsewhere(db):
    day = date(2027, 2, 6)  # a Saturday
    assert not calendar.is_workday(day)  # the year is now cached on the session
    db.session.add(CalendarDay(day=day, workday=True, note="春节调休上班"))
    db.session.flush()
    assert calendar.is_workday(day)  # written in this session: the cache is dropped
    db.session.commit()
    assert calendar.is_workday(day)
    db.session.commit()
    # Another process deletes the entry: the next transaction sees it.
    with db.engine.begin() as conn:
        conn.execute(delete(CalendarDay).where(CalendarDay.day == day))
    assert not calendar.is_workday(day)


def test_an_admin_edit_moves_the_queue_highlight(app, demo, web):
    from casework.clock import today
    from casework.extensions import db
    from tests.conftest import Browser
    from tests.factories import aid_to
    case = aid_to(demo, "submitted")
    # Wednesday 25 Nov 2026 (the tests' clock): a deadline on Monday 30 Nov is 3 working days away.
    case.deadline = date(2026, 11, 30)
    db.session.commit()
    assert today() == date(2026, 11, 25)
    web.login("staff1")

    def row_class():
        page = web.get("/work").get_data(as_text=True)
        return page.split(case.number)[0].rsplit("<tr", 1)[1]
    assert "near" not in row_class()
    admin = Browser(app.test_client())
    admin.login("admin")
    admin.post("/admin/calendar", {"day": "2026-11-27", "workday": "0", "note": "临时放假"})
    assert 'class="near"' in row_class()  # now 2 working days
