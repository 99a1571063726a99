"""Date-range filters of /work, /cases and their API lists: `from`/`to` are the union's days, both included;
a wrong day is a Chinese message on the field (pages) or a 400 naming it (API); the days combine with the
sort, the pager, the exports and saved filters."""
from __future__ import annotations

import html
import re
from datetime import datetime

import pytest

from casework.clock import to_utc
from casework.core.queries import work_page
from casework.extensions import db as _db

from .factories import attach, fire, new_case
from .test_sorting import ROW, api_pages, web_pages

# Local (Asia/Shanghai) moments of creation: the filter 2026-11-20..2026-11-22 keeps the middle four.
MOMENTS = ["2026-11-19 23:59", "2026-11-20 00:00", "2026-11-21 12:00", "2026-11-22 08:00", "2026-11-22 23:30",
           "2026-11-23 00:00"]
INSIDE = slice(1, 5)
SPAN = {"from": "2026-11-20", "to": "2026-11-22"}
TITLES = ["丁工具柜", "乙车间照明", "甲班组排班", "丙库房通风", "甲班组排班", "Z 线体改造"]


def created(case, moment: str):
    case.created_at = to_utc(datetime.fromisoformat(moment))


@pytest.fixture()
def proposals(demo):
    out = []
    for moment, title in zip(MOMENTS, TITLES):
        case = new_case("proposal", demo["worker1"], title=title)
        created(case, moment)
        out.append(case)
    _db.session.commit()
    return out


@pytest.fixture()
def requests(demo):
    """Aid requests waiting for staff1 (to start verification), one created at each moment."""
    out = []
    for moment in MOMENTS:
        case = new_case("aid", demo["worker1"])
        attach(case, "income_proof", demo["worker1"])
        fire(case, "submit", demo["worker1"])
        created(case, moment)
        out.append(case)
    _db.session.commit()
    return out


def ids(cases) -> set[int]:
    return {c.id for c in cases}


def listed_ids(page: str) -> list[int]:
    return [int(i) for i in ROW.findall(page)]


def test_the_first_and_the_last_day_are_included_in_the_unions_time_zone(web, api, demo, proposals, requests):
    want_proposals, want_requests = ids(proposals[INSIDE]), ids(requests[INSIDE])
    staff = api.as_("staff1")
    assert set(api_pages(staff, "/api/v1/cases/proposal", **SPAN)) == want_proposals
    queue = staff.get("/api/v1/queue", query_string=SPAN).get_json()["items"]
    assert {item["case"]["id"] for item in queue} == want_requests
    web.login("staff1")
    assert set(web_pages(web, "/cases?kind=proposal&from=2026-11-20&to=2026-11-22")) == want_proposals
    assert set(web_pages(web, "/work?from=2026-11-20&to=2026-11-22")) == want_requests
    # One bound alone: from the first day on, or up to the last day.
    assert set(web_pages(web, "/cases?kind=proposal&from=2026-11-22")) == ids(proposals[3:])
    assert set(web_pages(web, "/cases?kind=proposal&to=2026-11-20")) == ids(proposals[:2])
    # The day of the 23:30 case is the union's, not UTC's (15:30 the same day) nor the next.
    late = proposals[4]
    one_day = web_pages(web, "/cases?kind=proposal&from=2026-11-22&to=2026-11-22")
    assert set(one_day) == {proposals[3].id, late.id}


def test_the_queue_reads_the_days_in_one_place(demo, requests):
    from datetime import date
    page, _cursor = work_page(demo["staff1"], size=50, start=date(2026, 11, 20), end=date(2026, 11, 22))
    assert {c.id for c, _t in page} == ids(requests[INSIDE])


@pytest.mark.parametrize("query,field,message", [
    ("from=2026-13-01", "from", "请按 YYYY-MM-DD 格式输入日期。"),
    ("to=22.11.2026", "to", "请按 YYYY-MM-DD 格式输入日期。"),
    ("from=1999-12-31", "from", "请输入 2000-01-01 至 2100-12-31 之间的日期。"),
    ("from=2026-11-22&to=2026-11-20", "to", "结束日期早于开始日期。"),
])
def test_a_wrong_day_is_a_message_on_its_field_and_a_400_naming_it(web, api, demo, proposals, requests,
                                                                  query, field, message):
    web.login("staff1")
    for path in (f"/cases?kind=proposal&{query}", f"/work?{query}"):
        r = web.get(path)
        assert r.status_code == 200, path
        page = r.get_data(as_text=True)
        assert f'<small class="error" id="{field}-error">{message}</small>' in page, path
        assert f'name="{field}"' in page and 'aria-invalid="true"' in page
        assert listed_ids(page), path  # the list is still shown, without the wrong day
    staff = api.as_("staff1")
    for url in ("/api/v1/cases/proposal", "/api/v1/queue"):
        r = staff.get(f"{url}?{query}")
        assert r.status_code == 400, url
        error = r.get_json()["error"]
        assert error["message"] == "请求参数有误，请按提示更正。"
        assert error["fields"] == {field: message}


def test_the_days_combine_with_the_sort_and_the_pager(app, monkeypatch, web, api, demo, proposals, requests):
    monkeypatch.setitem(app.config, "CASEWORK_PAGE_SIZE", 2)  # two pages of the four inside
    by_title = [c.id for c in sorted(proposals[INSIDE], key=lambda c: (c.title, c.id))]
    staff = api.as_("staff1")
    assert api_pages(staff, "/api/v1/cases/proposal", sort="title", **SPAN) == by_title
    web.login("staff1")
    first = web.get("/cases?kind=proposal&from=2026-11-20&to=2026-11-22&sort=title&dir=asc")
    more = re.search(r'href="([^"]*after=[^"]*)"', first.get_data(as_text=True))
    assert more and "from=2026-11-20" in html.unescape(more.group(1)) and "to=2026-11-22" in more.group(1)
    assert web_pages(web, "/cases?kind=proposal&from=2026-11-20&to=2026-11-22&sort=title&dir=asc") == by_title
    by_number = [c.id for c in sorted(requests[INSIDE], key=lambda c: (c.number, c.id), reverse=True)]
    assert web_pages(web, "/work?kind=aid&from=2026-11-20&to=2026-11-22&sort=number&dir=desc") == by_number


def test_the_exports_keep_the_days(web, demo, proposals, requests):
    from .test_exports import xlsx_rows
    web.login("staff1")
    query = "from=2026-11-20&to=2026-11-22&sort=number"
    page = html.unescape(web.get(f"/cases?kind=proposal&{query}").get_data(as_text=True))
    assert "/export/cases.csv?" in page and "from=2026-11-20" in page.split("/export/cases.csv?", 1)[1][:200]
    numbers = sorted(c.number for c in proposals[INSIDE])
    assert [r[0] for r in xlsx_rows(web.get(f"/export/cases.xlsx?kind=proposal&{query}"))[1:]] == numbers
    work = sorted(c.number for c in requests[INSIDE])
    assert [r[0] for r in xlsx_rows(web.get(f"/export/work.xlsx?kind=aid&{query}"))[1:]] == work


def test_a_saved_filter_keeps_the_days_and_opens_the_list_so_filtered(web, demo, proposals):
    from .test_saved_filters import rows, save
    web.login("staff1")
    query = "kind=proposal&from=2026-11-20&to=2026-11-22&sort=title&dir=asc"
    page = web.get(f"/cases?{query}").get_data(as_text=True)
    assert f'name="query" value="{html.escape(query)}"' in page  # 保存筛选 carries the days
    assert save(web, "十一月下旬", query, page="cases").status_code == 302
    (row,) = rows(demo["staff1"].id)
    assert row.query == query
    page = web.get("/cases").get_data(as_text=True)
    link = re.search(r'href="(/cases\?[^"]*)">十一月下旬</a>', page)
    assert link and html.unescape(link.group(1)) == f"/cases?{query}"
    opened = web.get(html.unescape(link.group(1))).get_data(as_text=True)
    assert set(listed_ids(opened)) == ids(proposals[INSIDE])
    assert 'name="from" value="2026-11-20"' in opened and 'name="to" value="2026-11-22"' in opened


def test_the_openapi_document_names_the_days(client, demo):
    spec = client.get("/api/v1/openapi.json").get_json()["paths"]
    for path in ("/api/v1/cases/{kind}", "/api/v1/queue"):
        names = {p["name"] for p in spec[path]["get"]["parameters"] if p["in"] == "query"}
        assert {"from", "to", "sort", "dir"} <= names, path
