"""The supervision board's period: `from`/`to` days (API.md) beside `period`, read by the one input reader, with
a 400 and a Chinese message on a wrong day, on the API and on the page."""
from __future__ import annotations

import pytest

from casework.extensions import db as _db
from casework.supervision import operations as ops

from .test_supervision import motion  # noqa: F401  (the fixture: a motion signed for by 生产技术部)


@pytest.fixture()
def slips(demo, motion):  # noqa: F811
    """A red and a blue slip issued on Wednesday 25 November 2026 (the suite's day); the red one answered."""
    red = ops.issue(motion, demo["staff1"], colour="red")
    ops.issue(motion, demo["staff1"], colour="blue")
    _db.session.commit()
    ops.answer(red, demo["handler1"], "本周内完成")
    _db.session.commit()


def _tech(board: dict) -> dict:
    return next(r for r in board["departments"] if r["department"] == "生产技术部")


@pytest.mark.parametrize("query, first, last, counted", [
    ("from=2026-11-25&to=2026-11-25", "2026-11-25", "2026-11-25", True),
    ("from=2026-11-01&to=2026-11-30", "2026-11-01", "2026-11-30", True),
    ("from=2026-11-26&to=2026-12-31", "2026-11-26", "2026-12-31", False),
    ("from=2026-11-20", "2026-11-20", "2026-11-25", True),            # alone: up to today
    ("from=2026-12-01", "2026-12-01", "2026-12-01", False),           # alone and later than today: that day
    ("to=2026-11-24", "2026-11-01", "2026-11-24", False),             # alone: from the first of its month
    ("to=2026-11-25", "2026-11-01", "2026-11-25", True),
    ("period=2026-10&from=2026-11-25", "2026-11-25", "2026-11-25", True),  # the days win over the period
    ("period=2026-11", "2026-11-01", "2026-11-30", True),             # the period still works
    ("period=2026", "2026-01-01", "2026-12-31", True),
    ("", "2026-11-01", "2026-11-30", True),                           # default: this month
    ("from=&to=", "2026-11-01", "2026-11-30", True),                  # empty days are none given
])
def test_the_board_counts_the_slips_issued_between_the_days(demo, slips, api, query, first, last, counted):
    r = api.as_("committee1").get(f"/api/v1/supervision?{query}")
    assert r.status_code == 200, r.get_json()
    board = r.get_json()
    assert (board["from"], board["to"]) == (first, last)
    tech = _tech(board)
    expected = {"blue": 1, "yellow": 0, "red": 1} if counted else {"blue": 0, "yellow": 0, "red": 0}
    assert tech["slips"] == expected
    assert tech["open"] == tech["open_items"] == 1  # cases under supervision now, whatever the period
    assert (tech["due"], tech["on_time_rate"]) == ((1, 1.0) if counted else (0, None))


def test_a_span_is_labelled_by_its_days(demo, slips, api):
    board = api.as_("staff1").get("/api/v1/supervision?from=2026-11-02&to=2026-11-27").get_json()
    assert board["period"] == "2026-11-02/2026-11-27"
    assert board["period_label"] == "2026年11月2日至2026年11月27日"


@pytest.mark.parametrize("query, field, words", [
    ("from=2026-13-01", "from", "YYYY-MM-DD"),
    ("from=25/11/2026", "from", "YYYY-MM-DD"),
    ("to=yesterday", "to", "YYYY-MM-DD"),
    ("from=%00", "from", "YYYY-MM-DD"),
    ("from=2026-11-30&to=2026-11-01", "to", "早于"),
    ("from=1999-12-31", "from", "2000-01-01"),
    ("to=9999-12-31", "to", "2100-12-31"),  # a day the period's end could not follow
    ("from=0001-01-01&to=2026-11-01", "from", "2000-01-01"),
])
def test_a_wrong_day_is_a_400_in_chinese(demo, slips, api, query, field, words):
    r = api.as_("committee1").get(f"/api/v1/supervision?{query}")
    assert r.status_code == 400
    error = r.get_json()["error"]
    assert error["code"] == "malformed" and list(error["fields"]) == [field]
    assert words in error["fields"][field]
    assert any("\u4e00" <= ch <= "\u9fff" for ch in error["message"] + error["fields"][field])


def test_both_days_wrong_are_named_together_and_in_english_on_request(demo, slips, api):
    r = api.as_("committee1").get("/api/v1/supervision?from=x&to=y", headers={"Accept-Language": "en"})
    assert r.status_code == 400
    error = r.get_json()["error"]
    assert set(error["fields"]) == {"from", "to"}
    assert error["fields"]["from"] == "Enter a date as YYYY-MM-DD."


def test_a_wrong_period_is_still_refused(demo, slips, api):
    r = api.as_("committee1").get("/api/v1/supervision?period=11/2026")
    assert r.status_code == 422 and "period" in r.get_json()["error"]["fields"]


def test_the_page_filters_by_days_and_marks_a_wrong_one(demo, slips, web):
    web.login("staff1")
    page = web.get("/supervision?from=2026-11-02&to=2026-11-27").get_data(as_text=True)
    assert "2026年11月2日至2026年11月27日" in page
    assert 'name="from" value="2026-11-02"' in page and 'name="to" value="2026-11-27"' in page
    assert 'name="period" value=""' in page
    r = web.get("/supervision?from=2026-11-30&to=2026-11-01")
    assert r.status_code == 200
    page = r.get_data(as_text=True)
    assert "结束日期早于开始日期" in page and 'class="error"' in page
    assert "2026年11月" in page  # this month instead
    page = web.get("/supervision?period=2026-11").get_data(as_text=True)
    assert 'name="period" value="2026-11"' in page and 'name="from" value=""' in page
