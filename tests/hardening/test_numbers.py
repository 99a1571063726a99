"""Numbers no id can be (beyond the integer columns, beyond 64 bits, Unicode digits) in any page's path or
query: a 404 or the page itself, never a 500, on SQLite and PostgreSQL alike."""
from __future__ import annotations

import re

import pytest

from ..conftest import Browser
from ..factories import aid_to

HUGE = ("2147483648", str(10**20))
QUERY_KEYS = ("unit", "after", "before", "year", "import", "disclosure", "fund", "item", "page")


def _pages(app):
    for rule in app.url_map.iter_rules():
        if "GET" not in rule.methods or rule.rule.startswith(("/api/", "/static")):
            continue
        yield rule


@pytest.mark.parametrize("username", ["admin", "staff1"])
def test_huge_ids_in_paths_are_not_found(app, demo, username):
    person = Browser(app.test_client())
    person.login(username)
    checked = 0
    for rule in _pages(app):
        ints = [a for a in rule.arguments if "int:" in rule.rule.split(a)[0][-5:]]
        if not ints:
            continue
        for number in HUGE:
            url = re.sub(r"<int:([^<>]+)>", number, rule.rule)
            url = re.sub(r"<(?:[^:<>]+:)?([^<>]+)>", lambda m: "aid" if m.group(1) == "kind" else "x", url)
            r = person.get(url)
            assert r.status_code in (403, 404), (url, r.status_code)  # 403: a page this person may not open
            checked += 1
    assert checked >= 20


@pytest.mark.parametrize("username", ["admin", "staff1", "fund1"])
def test_huge_or_odd_numbers_in_queries_never_break_a_page(app, demo, username):
    aid_to(demo, "submitted")
    person = Browser(app.test_client())
    person.login(username)
    checked = 0
    for rule in _pages(app):
        if rule.arguments:
            continue
        for value in (*HUGE, "²", "-1", "0"):
            query = "&".join(f"{k}={value}" for k in QUERY_KEYS)
            r = person.get(f"{rule.rule}?{query}")
            assert r.status_code < 500, (rule.rule, value, r.status_code)
            checked += 1
    assert checked >= 50


def test_digit_strings_longer_than_python_converts_are_refused_cleanly(app, demo, api):
    """int() refuses strings of thousands of digits: such input is a 4xx like any other bad number."""
    long_digits = "9" * 5000
    staff = api.as_("staff1")
    for body in ({"kind": "aid", "year": long_digits}, {"kind": "aid", "unit": long_digits, "year": 2026}):
        r = staff.post("/api/v1/reports/annual", json=body)
        assert 400 <= r.status_code < 500, (body, r.status_code)
    case = aid_to(demo, "submitted")
    r = staff.post(f"/api/v1/cases/aid/{case.id}/transitions/verify", json={"proposed_amount": long_digits})
    assert 400 <= r.status_code < 500
    person = Browser(app.test_client())
    person.login("staff1")
    r = person.post("/stats/annual-report", {"kind": "aid", "year": long_digits}, form_page="/stats")
    assert 400 <= r.status_code < 500


def test_queue_links_carry_only_its_filters(app, demo):
    aid_to(demo, "submitted")
    person = Browser(app.test_client())
    person.login("staff1")
    r = person.get("/work?fmt=x&endpoint=x&_method=POST&kind=aid")
    assert r.status_code == 200
    text = r.get_data(as_text=True)
    assert "/export/work.csv?kind=aid" in text and "endpoint=" not in text


def test_nul_characters_are_refused_before_any_query(demo, api, web):
    """PostgreSQL stores no NUL in text: a NUL anywhere in a body, a form or an address is a 400, never a 500."""
    staff = api.as_("staff1")
    r = staff.post("/api/v1/cases/aid", json={"category": "hardship", "amount_requested": "10.00",
                                              "applicant": "wor\u0000ker1"})
    assert r.status_code == 400 and r.get_json()["error"]["code"] == "malformed"
    r = staff.post("/api/v1/delegations", json={"to": "a\u0000b", "role": "union_staff", "starts_on": "2026-12-01",
                                                "ends_on": "2026-12-31"})
    assert r.status_code == 400
    web.login("worker1")
    assert web.get("/cases?state=dra\u0000ft").status_code == 400
    assert web.post("/account/data", {"text": "改\u0000正"}).status_code == 400
