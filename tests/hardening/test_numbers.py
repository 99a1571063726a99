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
