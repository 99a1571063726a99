"""Every route, for the owner, a colleague in the same unit, someone in another unit, and nobody."""
from __future__ import annotations

import re

import pytest

from ..conftest import Browser
from ..factories import aid_to, department_handler

# Routes anyone may read without signing in.
PUBLIC = {"accounts.login", "static", "openapi.spec", "api.openapi_page", "api_tokens.create_token", "ops.healthz",
          "roster.activate_page", "roster.activate_account", "roster.forgot", "roster.reset_password",
          "guide.workflows_help"}  # the workflows are the union's published rules
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
            "accounts.login", "accounts.account", "accounts.tokens", "privacy.my_data", "privacy.corrections_page", "admin.user_edit", "admin.units", "admin.departments",
            "admin.department_edit", "admin.unit_settings", "admin.calendar_days", "web.case_new",
            "web.case_edit", "robots.index", "robots.edit", "roster.forgot", "roster.reset_password",
            "roster.reset_code"} or rule.rule.startswith(PUBLIC_PREFIXES), rule.rule  # GET shows the form
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


# -- departments that handle a case: the lead one and the co-handling ones -----------------------

def _filed_motion(db, demo, co=("HR",)):
    from sqlalchemy import select

    from casework.core.models import CongressSession

    from ..factories import fire, new_case
    session = db.session.scalar(select(CongressSession))
    case = new_case("motion", demo["rep1"], session=session.id)
    fire(case, "open_for_cosigning", demo["rep1"])
    fire(case, "cosign", demo["rep2"])
    fire(case, "cosign", demo["rep3"])
    fire(case, "submit", demo["rep1"])
    fire(case, "file", demo["motions1"], department="TECH", co_departments=list(co))
    return case


@pytest.mark.parametrize("who,expected", [("handler1", 200), ("co_handler", 200), ("other_handler", 404)])
def test_motion_pages_and_api_by_department(app, db, demo, api, who, expected):
    """The lead department's handler, a co-handling department's, and one whose department has no part."""
    department_handler(demo["handler1"].unit, "co_handler", "HR")
    department_handler(demo["handler1"].unit, "other_handler", "LOG")
    case = _filed_motion(db, demo)
    person = Browser(app.test_client())
    person.login(who)
    checked = 0
    for rule in _web_get_rules(app):
        if "case_id" not in rule.arguments:
            continue
        url = _url(rule, case).replace("/aid/", "/motion/")
        r = person.get(url)
        if rule.endpoint == "web.case_edit":
            assert r.status_code in (403, 404), url  # a filed motion is nobody's to edit
            continue
        assert r.status_code == expected or (expected == 200 and r.status_code == 302), (url, r.status_code)
        checked += 1
    assert checked >= 1
    assert person.get(f"/motions/{case.id}/brief").status_code == (302 if expected == 200 else 404)
    token = api.as_(who)
    for path in (f"/api/v1/cases/motion/{case.id}", f"/api/v1/cases/motion/{case.id}/audit",
                 f"/api/v1/cases/motion/{case.id}/notices"):
        assert token.get(path).status_code == expected, path
    listed = [m["id"] for m in token.get("/api/v1/cases/motion").get_json()["items"]]
    assert listed == ([case.id] if expected == 200 else [])


def test_the_list_filter_and_the_case_rule_agree(db, demo):
    """`visible_filter` (lists, queues, exports) selects exactly the cases `can_view` (pages, records)
    allows."""
    from sqlalchemy import select

    from casework.accounts.models import User
    from casework.core.models import Case
    from casework.core.permissions import can_view, visible_filter

    from ..factories import new_case
    department_handler(demo["handler1"].unit, "co_handler", "HR")
    department_handler(demo["handler1"].unit, "other_handler", "LOG")
    _filed_motion(db, demo)
    _filed_motion(db, demo, co=("LOG", "HR"))
    _filed_motion(db, demo, co=())
    aid_to(demo, "verifying")
    new_case("proposal", demo["worker2"], coproposers=["worker3"])
    cases = db.session.scalars(select(Case).order_by(Case.id)).all()
    for user in db.session.scalars(select(User).order_by(User.id)):
        listed = set(db.session.scalars(select(Case.id).where(visible_filter(user))))
        assert listed == {c.id for c in cases if can_view(user, c)}, user.username
