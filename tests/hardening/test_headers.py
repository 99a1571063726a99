"""Security headers on every GET route, for nobody and for an admin; no inline script or style in any page;
cookie flags."""
from __future__ import annotations

import re

from ..conftest import Browser
from ..factories import aid_to

INLINE = re.compile(r"<script(?![^>]*\bsrc=)[^>]*>|<style[\s>]|\sstyle=|\son[a-z]+\s*=", re.IGNORECASE)


def _urls(app, case):
    for rule in app.url_map.iter_rules():
        if "GET" not in rule.methods:
            continue
        values = {"kind": "aid", "case_id": case.id, "trigger": "withdraw", "filename": "casework.css",
                  "format": "csv"}
        yield re.sub(r"<(?:[^:<>]+:)?([^<>]+)>", lambda m: str(values.get(m.group(1), 1)), rule.rule)


def _check(response, url):
    h = response.headers
    csp = h.get("Content-Security-Policy", "")
    assert "script-src 'self'" in csp and "frame-ancestors 'none'" in csp, (url, csp)
    assert "unsafe-inline" not in csp and "unsafe-eval" not in csp, url
    assert h.get("X-Frame-Options") == "DENY", url
    assert h.get("X-Content-Type-Options") == "nosniff", url
    assert h.get("Referrer-Policy") == "same-origin", url
    if response.mimetype == "text/html":
        inline = INLINE.search(response.get_data(as_text=True))
        assert inline is None, (url, inline and inline.group(0))


def test_every_get_route_sends_the_security_headers(app, demo):
    case = aid_to(demo, "submitted")
    nobody, admin = Browser(app.test_client()), Browser(app.test_client())
    admin.login("admin")
    checked = 0
    for url in _urls(app, case):
        for who in (nobody, admin):
            r = who.get(url)
            _check(r, url)
            assert "Strict-Transport-Security" not in r.headers  # plain HTTP: no HSTS
            r.close()
            checked += 1
    _check(nobody.get("/no-such-page"), "/no-such-page")
    assert checked > 100


def test_cookie_flags_and_hsts_behind_https(app, demo, monkeypatch):
    web = Browser(app.test_client())
    r = web.login("worker1")
    cookie = r.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie and "Secure" not in cookie
    monkeypatch.setitem(app.config, "SESSION_COOKIE_SECURE", True)
    r = Browser(app.test_client()).get("/login", base_url="https://localhost")  # the form puts its token in the session
    assert r.headers["Strict-Transport-Security"].startswith("max-age=31536000")
    set_cookie = r.headers.get("Set-Cookie", "")
    assert "Secure" in set_cookie and "HttpOnly" in set_cookie, set_cookie
