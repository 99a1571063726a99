"""Every route, for the owner, a colleague in the same unit, someone in another unit, and nobody."""
from __future__ import annotations

import re

import pytest

from ..conftest import Browser
from ..factories import aid_to

# Routes anyone may read without signing in.
PUBLIC = {"accounts.login", "static", "openapi.spec", "api.openapi_page", "api_tokens.create_token", "ops.healthz",
          "roster.activate_page", "roster.activate_account"}
PUBLIC_PREFIXES = ("/board", "/verify")
# Who is who towards worker1's aid case: worker1 (owner, 一车间小组), leader1 (same group, no reviewer role for
# other people's cases except as group leader of that group), worker3 (another branch).
PEOPLE = {"owner": "worker1", "other_unit": "worker3"}


def _url(rule, case) -> str | None:
    values = {}
    for arg in rule.arguments:
        if arg == "kind":
            values[arg] = "aid"
        elif arg in ("case_id", "id"):
            values[arg] = case.id
        elif arg == "trigger":
            values[arg] = "withdraw"
        elif arg == "filename":
            values[arg] = "casework.css"
        else:
            return None  # ids of other things: covered by their own capability's tests
    return re.sub(r"<(?:[^:<>]+:)?([^<>]+)>", lambda m: str(values[m.group(1)]), rule.rule)


def _web_get_rules(app):
    return [r for r in app.url_map.iter_rules() if "GET" in r.methods and not r.rule.startswith("/api/")]


def test_state_changing_routes_are_post_and_need_csrf(app, demo):
    case = aid_to(demo, "submitted")
    client = app.test_client()
    checked = 0
    for rule in app.url_map.iter_rules():
        if rule.rule.startswith("/api/"):
            continue  # bearer tokens, no cookies: CSRF does not apply
        changing = rule.methods & {"POST", "PUT", "PATCH", "DELETE"}
        if not changing:
            continue
        assert changing == {"POST"}, rule.rule
        assert "GET" not in rule.methods or rule.endpoint in {
            "accounts.login", "accounts.account", "accounts.tokens", "admin.user_edit", "admin.units", "admin.departments",
            "admin.department_edit", "admin.unit_settings", "admin.calendar_days", "web.case_new",
            "web.case_edit"} or rule.rule.startswith(PUBLIC_PREFIXES), rule.rule  # GET shows the form
        url = _url(rule, case)
        if url is None:
            continue
        r = client.post(url, data={})
        assert r.status_code == 400, (rule.rule, r.status_code)
        checked += 1
    assert checked >= 10


def test_anonymous_is_sent_to_sign_in(app, demo):
    case = aid_to(demo, "submitted")
    client = app.test_client()
    for rule in _web_get_rules(app):
        url = _url(rule, case)
        if url is None or rule.endpoint in PUBLIC or rule.rule.startswith(PUBLIC_PREFIXES):
            continue
        r = client.get(url)
        assert r.status_code == 302 and "/login" in r.headers["Location"], (url, r.status_code)


def test_api_needs_a_token(app, demo):
    client = app.test_client()
    for rule in app.url_map.iter_rules():
        view = app.view_functions[rule.endpoint]
        if not rule.rule.startswith("/api/") or rule.endpoint in PUBLIC or getattr(view, "_casework_public", False):
            continue
        url = re.sub(r"<(?:[^:<>]+:)?([^<>]+)>", "1", rule.rule)
        for method in rule.methods - {"HEAD", "OPTIONS"}:
            r = client.open(url, method=method)
            assert r.status_code == 401, (method, url, r.status_code)


@pytest.mark.parametrize("who,expected", [("owner", 200), ("other_unit", 404)])
def test_case_pages_by_person(app, demo, who, expected):
    case = aid_to(demo, "submitted")
    person = Browser(app.test_client())
    person.login(PEOPLE[who])
    for rule in _web_get_rules(app):
        if "case_id" not in rule.arguments:
            continue
        url = _url(rule, case)
        r = person.get(url)
        if rule.endpoint == "web.case_edit":
            assert r.status_code in (403, 404) if who == "other_unit" else r.status_code == 403, url
            continue  # a submitted case is no longer editable
        assert r.status_code == expected or (expected == 200 and r.status_code == 302), (url, r.status_code)


@pytest.mark.parametrize("who,expected", [("owner", 200), ("other_unit", 404)])
def test_case_api_by_person(api, demo, who, expected):
    case = aid_to(demo, "submitted")
    person = api.as_(PEOPLE[who])
    for path in (f"/api/v1/cases/aid/{case.id}", f"/api/v1/cases/aid/{case.id}/audit"):
        assert person.get(path).status_code == expected, path
    r = person.post(f"/api/v1/cases/aid/{case.id}/transitions/withdraw", json={})
    assert r.status_code == (200 if who == "owner" else 404)


def test_session_is_new_after_sign_in_and_gone_after_sign_out(app, demo):
    web = Browser(app.test_client())
    web.get("/login")
    before = web.client.get_cookie("session")
    web.login("worker1")
    after = web.client.get_cookie("session")
    assert after is not None and (before is None or before.value != after.value)
    cookie = after.value
    token = web.csrf("/")
    web.client.post("/logout", data={"csrf_token": token})
    # A copy of the cookie kept from before the sign-out no longer signs anyone in.
    fresh = Browser(app.test_client())
    fresh.client.set_cookie("session", cookie)
    assert fresh.get("/").status_code == 302
    assert web.get("/").status_code == 302


XSS = '<script>alert("x")</script><img src=x onerror=alert(1)>'


def test_markup_in_every_field_is_shown_escaped(app, demo, api):
    worker = api.as_("worker1")
    ids = [
        worker.post("/api/v1/cases/aid", json={"category": "hardship", "amount_requested": "100.00",
                                               "circumstances": XSS, "details": {"cause": XSS}}).get_json()["id"],
        worker.post("/api/v1/cases/proposal", json={"title": XSS, "problem": XSS, "suggestion": XSS,
                                                    "expected_benefit": XSS}).get_json()["id"],
    ]
    web = Browser(app.test_client())
    web.login("worker1")
    pages = [f"/cases/aid/{ids[0]}", f"/cases/proposal/{ids[1]}", "/", "/cases", "/work",
             f"/cases/aid/{ids[0]}/edit", f"/cases/proposal/{ids[1]}/edit"]
    for path in pages:
        body = web.get(path).get_data(as_text=True)
        assert "<script>alert" not in body and "<img src=x" not in body, path
    assert "&lt;script&gt;" in web.get(f"/cases/aid/{ids[0]}").get_data(as_text=True)
