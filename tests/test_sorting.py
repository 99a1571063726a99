"""Sortable lists: /cases, /work and their API endpoints sort by each column both ways, and the one keyset
pager walks every page of each order without losing or repeating a case."""
from __future__ import annotations

import html
import re
from datetime import timedelta

import pytest

from casework.clock import today
from casework.core.queries import SORTS, STATE_RANK, work_page
from casework.extensions import db as _db

from .factories import attach, fire, new_case

TITLES = ["乙车间照明", "甲班组排班", "丙库房通风", "甲班组排班", "Z 线体改造", "丁工具柜"]
ROW = re.compile(r'<td[^>]*><a href="/cases/\w+/(\d+)">')
NEXT = re.compile(r'href="([^"]*after=[^"]*)"')
VALUES = {"number": lambda c: c.number, "title": lambda c: c.title,
          "state": lambda c: STATE_RANK[c.state], "deadline": lambda c: c.deadline,
          "created": lambda c: c.created_at, "updated": lambda c: c.updated_at}
ORDERS = [(key, direction) for key in SORTS for direction in ("asc", "desc")]


def expected(cases, key: str, direction: str) -> list[int]:
    """Ids in the order the pager must give: by the value, then by id, the same way; no value last."""
    value, desc = VALUES[key], direction == "desc"
    known = sorted((c for c in cases if value(c) is not None), key=lambda c: (value(c), c.id), reverse=desc)
    unknown = sorted((c for c in cases if value(c) is None), key=lambda c: c.id, reverse=desc)
    return [c.id for c in known + unknown]


@pytest.fixture()
def proposals(demo):
    """Proposals with repeated titles, some submitted, some with a deadline (two on the same day)."""
    out = []
    for i, title in enumerate(TITLES):
        case = new_case("proposal", demo["worker1"], title=title)
        if i % 2 == 0:
            fire(case, "submit", demo["worker1"])
        out.append(case)
    for case, days in zip(out, (3, None, 1, 3, None, 2)):
        case.deadline = today() + timedelta(days=days) if days is not None else None
    _db.session.commit()
    return out


@pytest.fixture()
def requests(demo):
    """Aid requests waiting for staff1 (to start verification), with and without deadlines."""
    out = []
    for days in (4, None, 2, 4, None, 1, 6):
        case = new_case("aid", demo["worker1"])
        attach(case, "income_proof", demo["worker1"])
        fire(case, "submit", demo["worker1"])
        case.deadline = today() + timedelta(days=days) if days is not None else None
        out.append(case)
    _db.session.commit()
    return out


def visible_proposals(api_staff):
    r = api_staff.get("/api/v1/cases/proposal")
    assert r.status_code == 200
    return r.get_json()["items"]


def api_pages(api_user, url: str, **params) -> list[int]:
    ids, cursor = [], None
    while True:
        r = api_user.get(url, query_string={**params, **({"after": cursor} if cursor else {})})
        assert r.status_code == 200, r.get_json()
        ids += [item["id"] for item in r.get_json()["items"]]
        cursor = r.get_json()["next"]
        if not cursor:
            return ids


def web_pages(browser, url: str) -> list[int]:
    ids = []
    while url:
        r = browser.get(url)
        assert r.status_code == 200, url
        page = r.get_data(as_text=True)
        ids += [int(i) for i in ROW.findall(page)]
        more = NEXT.findall(page.split("<tbody>", 1)[-1].split("</table>", 1)[-1].split("export", 1)[0])
        url = html.unescape(more[0]) if more else None
    return ids


@pytest.mark.parametrize("key,direction", ORDERS)
def test_the_cases_api_sorts_by_each_column_both_ways_across_pages(app, monkeypatch, api, demo,
        proposals, key, direction):
    staff = api.as_("staff1")
    monkeypatch.setitem(app.config, "CASEWORK_PAGE_SIZE", 5)
    seen = api_pages(staff, "/api/v1/cases/proposal")
    _db.session.expire_all()
    cases = [_db.session.get(type(proposals[0]), i) for i in seen]
    monkeypatch.setitem(app.config, "CASEWORK_PAGE_SIZE", 2)  # several pages, ties across a page's edge
    want = expected(cases, key, direction)
    assert api_pages(staff, "/api/v1/cases/proposal", sort=key, dir=direction) == want


@pytest.mark.parametrize("key,direction", ORDERS)
def test_the_cases_page_sorts_by_each_column_both_ways_across_pages(app, monkeypatch, web, demo,
        proposals, key, direction):
    web.login("staff1")
    monkeypatch.setitem(app.config, "CASEWORK_PAGE_SIZE", 500)
    everything = web_pages(web, "/cases?kind=proposal")
    cases = [_db.session.get(type(proposals[0]), i) for i in everything]
    monkeypatch.setitem(app.config, "CASEWORK_PAGE_SIZE", 2)
    want = expected(cases, key, direction)
    assert web_pages(web, f"/cases?kind=proposal&sort={key}&dir={direction}") == want


@pytest.mark.parametrize("key,direction", ORDERS)
def test_the_queue_sorts_by_each_column_both_ways_across_pages(app, monkeypatch, web, demo,
        requests, key, direction):
    from casework.core.queries import WORK_ORDER, case_order
    order = case_order(key, direction, WORK_ORDER)
    everything = [c for c, _t in work_page(demo["staff1"], size=500)[0]]
    assert {c.id for c in requests} <= {c.id for c in everything}
    want = expected(everything, key, direction)
    got, cursor = [], None
    while True:  # three at a time, through the pager's own cursor
        page, cursor = work_page(demo["staff1"], size=3, after=cursor, order=order)
        got += [c.id for c, _t in page]
        if not cursor:
            break
    assert got == want
    web.login("staff1")
    monkeypatch.setitem(app.config, "CASEWORK_PAGE_SIZE", 3)
    assert web_pages(web, f"/work?sort={key}&dir={direction}") == want


def test_the_default_orders_are_kept(app, monkeypatch, web, api, demo, requests):
    """/work: the oldest deadline first, none last; /cases: newest first, its cursor still the id."""
    web.login("staff1")
    queue = web_pages(web, "/work")
    assert queue == expected([c for c, _t in work_page(demo["staff1"], size=500)[0]], "deadline", "asc")
    cases = web_pages(web, "/cases")
    assert cases == sorted(cases, reverse=True)
    monkeypatch.setitem(app.config, "CASEWORK_PAGE_SIZE", 2)
    r = web.get("/cases")
    assert f"after={cases[1]}" in r.get_data(as_text=True)


def test_the_header_shows_the_order_and_links_the_other_way(web, demo, requests):
    web.login("staff1")
    page = web.get("/work?sort=deadline&dir=desc&kind=aid").get_data(as_text=True)
    header = re.search(r'<th scope="col" aria-sort="descending"><a class="sort" href="([^"]+)">([^<]+)'
                       r' <span aria-hidden="true">↓</span>', page)
    assert header and header.group(2) == "办理期限"
    link = html.unescape(header.group(1))
    assert "sort=deadline" in link and "dir=asc" in link and "kind=aid" in link
    assert page.count('aria-sort="none"') == 3  # number, state, created on
    assert '<select name="sort">' in page and '<option value="desc" selected>' in page  # the 排序 form


@pytest.mark.parametrize("query", ["sort=amount", "sort=deadline&dir=sideways", "sort=%E6%9C%9F%E9%99%90"])
def test_an_unknown_order_falls_back_to_the_usual_one_with_a_message(web, demo, requests, query):
    web.login("staff1")
    for path in ("/work", "/cases"):
        r = web.get(f"{path}?{query}")
        assert r.status_code == 200
        assert "未知的排序方式" in r.get_data(as_text=True)
    usual = web_pages(web, "/work")
    assert web_pages(web, "/work?sort=amount") == usual


def test_a_hand_edited_cursor_starts_from_the_top(web, demo, requests):
    web.login("staff1")
    first = web_pages(web, "/work?sort=number")
    for cursor in ("junk", "2026|x", "|99999999999999"):
        r = web.get(f"/work?sort=number&after={cursor}")
        assert r.status_code == 200
        assert [int(i) for i in ROW.findall(r.get_data(as_text=True))] == first


def test_the_api_refuses_an_unknown_order_or_cursor_in_chinese(api, demo, requests):
    staff = api.as_("staff1")
    r = staff.get("/api/v1/cases/aid", query_string={"sort": "amount"})
    assert r.status_code == 400
    body = r.get_json()["error"]
    assert body["message"] == "请求参数有误，请按提示更正。"
    assert body["fields"]["sort"] == "请从以下选项中选择：number, title, state, deadline, created, updated。"
    r = staff.get("/api/v1/queue", query_string={"sort": "deadline", "dir": "up"})
    assert r.status_code == 400 and "dir" in r.get_json()["error"]["fields"]
    assert staff.get("/api/v1/cases/aid", query_string={"sort": "deadline", "after": "!!"}).status_code == 400
    from casework.core import paging
    wrong_kind = paging.encode_cursor("17")  # an id cursor where a "value|id" one belongs
    r = staff.get("/api/v1/cases/aid", query_string={"sort": "title", "after": wrong_kind})
    assert r.status_code == 400


def test_the_queue_api_sorts(api, demo, requests):
    staff = api.as_("staff1")
    r = staff.get("/api/v1/queue", query_string={"sort": "number", "dir": "desc"})
    numbers = [item["case"]["number"] for item in r.get_json()["items"]]
    assert numbers == sorted(numbers, reverse=True) and len(numbers) >= len(requests)


def test_the_exports_follow_the_lists_order(web, demo, requests):
    from .test_exports import xlsx_rows
    web.login("staff1")
    for page, export in (("/work?sort=number&dir=desc", "/export/work.xlsx?sort=number&dir=desc"),
                         ("/cases?sort=deadline&dir=desc", "/export/cases.xlsx?sort=deadline&dir=desc")):
        text = web.get(page).get_data(as_text=True)
        on_page = re.findall(r'<td[^>]*><a href="/cases/\w+/\d+">([APM]\d{4}-\d{5})</a>', text)
        assert export.replace(".xlsx", ".csv") in html.unescape(text)  # the page's export links carry the order
        assert [r[0] for r in xlsx_rows(web.get(export))[1:]] == on_page


def test_the_openapi_document_names_the_order_parameters(client, demo):
    spec = client.get("/api/v1/openapi.json").get_json()["paths"]
    for path in ("/api/v1/cases/{kind}", "/api/v1/queue"):
        names = {p["name"] for p in spec[path]["get"]["parameters"] if p["in"] == "query"}
        assert {"sort", "dir"} <= names, path
    assert set(spec["/api/v1/me/saved-filters"]) == {"get", "post"}
    assert "delete" in spec["/api/v1/me/saved-filters/{filter_id}"]
