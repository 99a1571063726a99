"""Sign-in that cannot be sprayed or used to lock out a colleague, and that says nothing about who exists."""
from __future__ import annotations

import re
import statistics
import time

import pytest
from argon2 import PasswordHasher

import casework.accounts.models as account_models
from casework.accounts import auth
from casework.extensions import db as _db

from ..conftest import CSRF_RE, _fresh_request_globals


def _login(client, who, password, address):
    env = {"REMOTE_ADDR": address}
    _fresh_request_globals()
    page = client.get("/login", environ_base=env).get_data(as_text=True)
    _fresh_request_globals()
    return client.post("/login", environ_base=env, data={"csrf_token": CSRF_RE.search(page).group(1),
                                                         "login": who, "password": password})


def _api_login(client, who, password, address):
    _fresh_request_globals()
    return client.post("/api/v1/tokens", json={"username": who, "password": password},
                       environ_base={"REMOTE_ADDR": address})


def _refusal(page: str) -> str:
    return re.search(r'<[^>]*class="[^"]*error[^"]*"[^>]*>(.*?)<', page, re.S).group(1).strip()


def test_guesses_from_one_address_do_not_lock_out_a_colleague_elsewhere(app, demo):
    attacker, colleague = app.test_client(), app.test_client()
    for _ in range(auth.FREE_PER_ADDRESS + 3):
        assert _login(attacker, "worker1", "wrong-password", "203.0.113.9").status_code == 422
    # the guessing address waits, even with the right password ...
    assert _login(attacker, "worker1", "demo-password", "203.0.113.9").status_code == 422
    # ... the colleague at their own address does not
    r = _login(colleague, "worker1", "demo-password", "198.51.100.7")
    assert r.status_code == 302, r.get_data(as_text=True)


def test_a_spray_from_many_addresses_delays_new_addresses_only(app, demo):
    colleague = app.test_client()
    assert _api_login(colleague, "worker1", "demo-password", "198.51.100.7").status_code == 201
    for n in range(auth.FREE_PER_ACCOUNT + 2):
        assert _api_login(app.test_client(), "worker1", "wrong", f"203.0.113.{n + 1}").status_code == 401
    # a new address now waits even with the right password; the address the colleague used before does not
    assert _api_login(app.test_client(), "worker1", "demo-password", "192.0.2.50").status_code == 401
    assert _api_login(colleague, "worker1", "demo-password", "198.51.100.7").status_code == 201


def test_delays_grow_and_end(app, demo, clock):
    from datetime import timedelta
    client = app.test_client()
    for _ in range(auth.FREE_PER_ADDRESS):
        assert _api_login(client, "worker1", "wrong", "203.0.113.9").status_code == 401
    key = auth.account_key(demo["worker1"], "worker1")
    first = auth.waiting_until(key, "203.0.113.9") - auth.utcnow()
    assert timedelta(seconds=25) < first <= auth.FIRST_DELAY
    clock.shift(first + timedelta(seconds=1))
    assert _api_login(client, "worker1", "wrong", "203.0.113.9").status_code == 401  # one more try, checked
    second = auth.waiting_until(key, "203.0.113.9") - auth.utcnow()
    assert second > first * 1.5
    clock.shift(second + timedelta(seconds=1))
    assert _api_login(client, "worker1", "demo-password", "203.0.113.9").status_code == 201


def test_activation_codes_are_throttled_alike(app, demo):
    from casework.roster.operations import reissue
    user = demo["worker2"]
    code = reissue(user)
    _db.session.commit()
    client = app.test_client()

    def activate(c, address):
        env = {"REMOTE_ADDR": address}
        _fresh_request_globals()
        page = client.get("/activate", environ_base=env).get_data(as_text=True)
        _fresh_request_globals()
        return client.post("/activate/code", environ_base=env, data={
            "csrf_token": CSRF_RE.search(page).group(1), "login": user.employee_no or user.username, "code": c,
            "password": "a-new-password-1", "repeat": "a-new-password-1"})
    for _ in range(auth.FREE_PER_ADDRESS):
        assert activate("WRONG-CODE", "203.0.113.9").status_code == 422
    assert activate(code, "203.0.113.9").status_code == 422  # this address waits
    assert activate(code, "198.51.100.7").status_code == 302  # the member at their own address does not
    # guessing codes never delays the member's sign-in
    assert _login(app.test_client(), "worker2", "a-new-password-1", "203.0.113.9").status_code == 302


def test_one_answer_for_unknown_wrong_and_waiting(app, demo):
    client = app.test_client()
    for _ in range(auth.FREE_PER_ADDRESS):
        _login(client, "worker2", "wrong", "203.0.113.9")
    pages = {"unknown": _login(client, "nobody-here", "x" * 12, "203.0.113.9"),
             "wrong": _login(client, "worker1", "wrong-password", "203.0.113.9"),
             "waiting": _login(client, "worker2", "demo-password", "203.0.113.9")}
    assert {r.status_code for r in pages.values()} == {422}
    messages = {k: _refusal(r.get_data(as_text=True)) for k, r in pages.items()}
    assert len(set(messages.values())) == 1 and "用户名或密码错误" in messages["wrong"], messages
    bodies = {k: _api_login(client, who, pw, "203.0.113.9").get_json() for k, who, pw in (
        ("unknown", "nobody-here", "x"), ("wrong", "worker1", "wrong"), ("waiting", "worker2", "demo-password"))}
    assert len({repr(b) for b in bodies.values()}) == 1 and bodies["wrong"]["error"]["code"] == "bad_credentials"


def test_unknown_existing_and_waiting_take_the_same_time(app, demo, monkeypatch):
    """The real argon2 cost, so that a skipped hash would show; medians of interleaved runs, a generous band."""
    monkeypatch.setattr(account_models, "_hasher", PasswordHasher())
    demo["worker1"].set_password("demo-password")
    demo["worker2"].set_password("demo-password")
    _db.session.commit()
    waiting = auth.account_key(demo["worker2"], "worker2")
    from casework.accounts.models import LoginThrottle
    _db.session.add(LoginThrottle(account=waiting, address=auth.EVERYWHERE, failed_logins=100,
                                  blocked_until=auth.utcnow().replace(year=2099)))
    _db.session.commit()
    client = app.test_client()
    times = {"unknown": [], "wrong": [], "waiting": []}
    cases = (("unknown", "nobody-here"), ("wrong", "worker1"), ("waiting", "worker2"))
    for n in range(15):
        for k, who in cases if n % 2 else reversed(cases):
            started = time.perf_counter()
            r = _api_login(client, who, "wrong-password", f"10.9.{n}.1")
            times[k].append(time.perf_counter() - started)
            assert r.status_code == 401
    medians = {k: statistics.median(v) for k, v in times.items()}
    low, high = min(medians.values()), max(medians.values())
    # a skipped hash would be a few ms against tens: half the fastest median still tells them apart
    assert high - low < max(0.5 * low, 0.02), medians


@pytest.mark.parametrize("path", ["/login", "/api/v1/tokens"])
def test_sign_in_is_limited_per_address(app, demo, path):
    client = app.test_client()
    per_minute = int(__import__("casework.extensions", fromlist=["LIMITS"]).LIMITS["sign-in"].split()[0])
    for n in range(per_minute):
        r = (_login(client, f"nobody{n}", "x", "203.0.113.9") if path == "/login"
             else _api_login(client, f"nobody{n}", "x", "203.0.113.9"))
        assert r.status_code in (401, 422)
    r = (_login(client, "worker1", "demo-password", "203.0.113.9") if path == "/login"
         else _api_login(client, "worker1", "demo-password", "203.0.113.9"))
    assert r.status_code == 429 and int(r.headers["Retry-After"]) > 0
    if path.startswith("/api/"):
        assert r.get_json()["error"]["code"] == "rate_limited" and "请求" in r.get_json()["error"]["message"]
    # another address is not concerned
    assert _api_login(client, "worker1", "demo-password", "198.51.100.7").status_code == 201


def test_behind_a_proxy_the_forwarded_address_counts(app, db, database_url, tmp_path):
    from casework import create_app
    from casework.accounts.models import LoginThrottle
    behind = create_app({"SQLALCHEMY_DATABASE_URI": database_url, "TESTING": True, "CASEWORK_PROXIES": 1,
                         "SECRET_KEY": app.config["SECRET_KEY"], "CASEWORK_UPLOAD_DIR": str(tmp_path)})
    r = behind.test_client().post("/api/v1/tokens", json={"username": "nobody", "password": "x"},
                                  headers={"X-Forwarded-For": "203.0.113.77"})
    assert r.status_code == 401
    with behind.app_context():
        from casework.extensions import db as _behind_db
        assert _behind_db.session.get(LoginThrottle, (auth.account_key(None, "nobody"), "203.0.113.77"))
        _behind_db.session.remove()
        _behind_db.engine.dispose()
