"""API tokens: made on the account page or with a password, shown once, kept only as a hash, revocable."""
from __future__ import annotations

import hashlib
import re
from datetime import timedelta

import sqlalchemy as sa

from casework.accounts.models import ApiToken
from casework.extensions import db as _db

from .conftest import Api

TOKEN_RE = re.compile(r'id="new-token">([^<]+)<')


def _make(web, label="财务系统", days=30):
    r = web.post("/account/tokens", {"t-label": label, "t-days": str(days), "t-password": "demo-password"})
    assert r.status_code == 200, r.get_data(as_text=True)
    assert r.headers["Cache-Control"] == "no-store"
    match = TOKEN_RE.search(r.get_data(as_text=True))
    assert match, "the new token is shown on the page"
    return match.group(1)


def test_token_made_on_the_page_works_once_shown_and_is_stored_only_as_hash(demo, web, client):
    web.login("worker1")
    secret = _make(web)
    caller = Api(client, secret)
    assert caller.get("/api/v1/me").get_json()["username"] == "worker1"

    row = _db.session.scalar(sa.select(ApiToken).where(ApiToken.user_id == demo["worker1"].id))
    assert row.token_hash == hashlib.sha256(secret.encode()).hexdigest()
    assert row.label == "财务系统"
    # Nowhere in the table, and not on the page a second time.
    dump = [str(v) for r in _db.session.execute(sa.select(ApiToken.__table__)).all() for v in r]
    assert not any(secret in v for v in dump)
    page = web.get("/account/tokens").get_data(as_text=True)
    assert secret not in page and "财务系统" in page and "可用" in page


def test_lifetime_is_chosen_from_the_offered_ones_and_capped(demo, web, app):
    web.login("worker1")
    _make(web, days=7)
    row = _db.session.scalar(sa.select(ApiToken))
    assert row.expires_at - row.created_at == timedelta(days=7)
    top = app.config["CASEWORK_TOKEN_DAYS"]
    r = web.post("/account/tokens", {"t-label": "x", "t-days": str(top + 1), "t-password": "demo-password"})
    assert r.status_code == 422 and "不是有效的选择" in r.get_data(as_text=True)
    r = web.post("/account/tokens", {"t-label": "长" * 101, "t-days": "7", "t-password": "demo-password"})
    assert r.status_code == 422
    r = web.post("/account/tokens", {"t-label": "x", "t-days": "7", "t-password": "not-my-password"})
    assert r.status_code == 422 and "当前密码不正确" in r.get_data(as_text=True) and "new-token" not in \
        r.get_data(as_text=True)
    assert _db.session.scalar(sa.select(sa.func.count()).select_from(ApiToken)) == 1


def test_revoking_on_the_page_stops_the_token_and_only_the_owner_may(demo, web, client):
    web.login("worker1")
    secret = _make(web)
    row = _db.session.scalar(sa.select(ApiToken))
    web.post("/logout", {}, form_page="/")
    web.login("worker2")
    assert web.post(f"/account/tokens/{row.id}/revoke", {}, form_page="/account/tokens").status_code == 404
    assert Api(client, secret).get("/api/v1/me").status_code == 200
    web.post("/logout", {}, form_page="/")
    web.login("worker1")
    r = web.post(f"/account/tokens/{row.id}/revoke", {}, form_page="/account/tokens", follow_redirects=True)
    assert "已吊销" in r.get_data(as_text=True)
    r = Api(client, secret).get("/api/v1/me")
    assert r.status_code == 401 and r.get_json()["error"]["code"] == "bad_token"


def test_revoke_all(demo, web, client, api):
    web.login("worker1")
    secrets_ = [_make(web, label=f"t{i}") for i in range(2)]
    other = api.as_("worker2")
    r = web.post("/account/tokens/revoke-all", {}, form_page="/account/tokens", follow_redirects=True)
    assert "已吊销 2 个令牌" in r.get_data(as_text=True)
    assert all(Api(client, s).get("/api/v1/me").status_code == 401 for s in secrets_)
    assert other.get("/api/v1/me").status_code == 200


def test_api_lists_own_tokens_and_revokes_by_id(demo, api):
    first = api.as_("worker1")
    second = api.as_("worker1")
    api.as_("worker2")
    items = first.get("/api/v1/tokens").get_json()["items"]
    assert len(items) == 2 and sum(t["current"] for t in items) == 1
    assert all(t["active"] and "token" not in t for t in items)
    other_id = next(t["id"] for t in items if not t["current"])
    assert first.delete(f"/api/v1/tokens/{other_id}").status_code == 204
    assert second.get("/api/v1/me").status_code == 401
    listed = {t["id"]: t for t in first.get("/api/v1/tokens").get_json()["items"]}
    assert listed[other_id]["revoked_at"] and not listed[other_id]["active"]
    worker2_token = _db.session.scalar(sa.select(ApiToken.id).join(ApiToken.user).where(
        ApiToken.user.has(username="worker2")))
    r = first.delete(f"/api/v1/tokens/{worker2_token}")
    assert r.status_code == 404 and r.get_json()["error"]["code"] == "not_found"


def test_failed_attempts_hold_up_page_and_api_alike(demo, web, api):
    for _ in range(5):
        assert api.post("/api/v1/tokens", json={"username": "worker1", "password": "wrong"}).status_code == 401
    r = web.login("worker1")  # the same address, the right password: it waits, with the one answer for all
    assert r.status_code == 422 and "用户名或密码错误。多次失败后，请等几分钟再试。" in r.get_data(as_text=True)
    r = api.post("/api/v1/tokens", json={"username": "worker1", "password": "demo-password"})
    assert r.status_code == 401 and r.get_json()["error"]["code"] == "bad_credentials"


def test_account_page_links_to_tokens(demo, web):
    web.login("worker1")
    assert "/account/tokens" in web.get("/account").get_data(as_text=True)


def test_a_new_password_revokes_the_tokens(demo, web, client, app):
    web.login("worker1")
    secret = _make(web)
    r = web.post("/account", {"current": "demo-password", "new": "another-password-1",
                              "repeat": "another-password-1"}, follow_redirects=True)
    assert "已随之吊销 1 个 API 令牌" in r.get_data(as_text=True)
    assert Api(client, secret).get("/api/v1/me").status_code == 401
    # An administrator's reset does the same.
    other = Api(client).as_("worker2")
    from .conftest import Browser
    admin = Browser(app.test_client())
    admin.login("admin")
    worker2 = demo["worker2"]
    page = admin.get(f"/admin/users/{worker2.id}").get_data(as_text=True)
    assert "worker2" in page
    r = admin.post(f"/admin/users/{worker2.id}", {
        "username": "worker2", "name": worker2.name, "employee_no": worker2.employee_no or "",
        "phone": worker2.phone or "", "email": worker2.email or "", "unit_id": str(worker2.unit_id),
        "password": "reset-password-1", "active": "y"})
    assert r.status_code == 302  # saved as it was, the demo's e-mail address included
    assert other.get("/api/v1/me").status_code == 401


def test_reading_records_the_last_use_at_most_every_five_minutes(demo, api, clock):
    caller = api.as_("worker1")
    row = _db.session.scalar(sa.select(ApiToken))
    assert row.last_used_at is None
    assert caller.get("/api/v1/me").status_code == 200
    _db.session.refresh(row)
    first = row.last_used_at
    assert first is not None
    caller.get("/api/v1/me")
    _db.session.refresh(row)
    assert row.last_used_at == first
    clock.shift(timedelta(minutes=6))
    caller.get("/api/v1/me")
    _db.session.refresh(row)
    assert row.last_used_at > first
