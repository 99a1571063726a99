"""Forgotten passwords (issue 17): a one-time link by e-mail when SMTP is configured, otherwise a one-time code
from the union staff through the activation page; one answer whether the account exists; the sign-in limit;
every issue and use on the "accounts" chain."""
from __future__ import annotations

import re
from datetime import timedelta

from sqlalchemy import func, select

from casework.accounts.models import User
from casework.extensions import db as _db
from casework.notifications.mail import deliver
from casework.notifications.models import MailOutbox
from casework.privacy.models import AccessEntry, verify_access_chain
from casework.roster.models import Activation

from .test_notifications import smtp  # noqa: F401  (the real SMTP server fixture)

LINK_RE = re.compile(r"/login/reset/([0-9A-F]{64})")


def _ask(web, login):
    return web.post("/login/forgot", {"login": login})


def _link(smtp_server) -> str:
    [message] = smtp_server.messages
    return LINK_RE.search(message.get_body().get_content()).group(0)


def _accounts_log() -> list[str]:
    return list(_db.session.scalars(select(AccessEntry.what).where(AccessEntry.chain == "accounts")
                                    .order_by(AccessEntry.seq)))


def test_the_login_page_offers_the_way_back(demo, web):
    assert 'href="/login/forgot"' in web.get("/login").get_data(as_text=True)


def test_an_emailed_link_sets_a_new_password_once(demo, web, smtp):  # noqa: F811
    from casework.notifications.models import set_mode
    set_mode(demo["worker1"], "digest")  # a reset link never waits for the daily digest
    _db.session.commit()
    r = _ask(web, "E1001")
    assert r.status_code == 302
    deliver()
    assert [m["To"].addresses[0].addr_spec for m in smtp.messages] == ["worker1@union.example.com"]
    link = _link(smtp)
    # Only the digest is kept.
    token = LINK_RE.search(link).group(1)
    assert _db.session.scalar(select(func.count()).select_from(Activation)
                              .where(Activation.code_hash == token)) == 0
    assert web.get(link).status_code == 200
    r = web.post(link, {"password": "a-brand-new-password", "repeat": "a-brand-new-password"})
    assert r.status_code == 302
    _db.session.expire_all()
    assert _db.session.get(User, demo["worker1"].id).check_password("a-brand-new-password")
    r = web.post(link, {"password": "yet-another-password", "repeat": "yet-another-password"})
    assert r.status_code == 422 and "已使用" in r.get_data(as_text=True)
    assert web.login("worker1", "a-brand-new-password").status_code == 302
    assert _accounts_log() == ["reset link e-mailed: worker1", "password set with an e-mailed link: worker1"]
    assert verify_access_chain("accounts") == (True, None)


def test_the_link_expires_after_an_hour(demo, web, smtp, clock):  # noqa: F811
    _ask(web, "worker1")
    deliver()
    link = _link(smtp)
    clock.shift(timedelta(hours=1, minutes=1))
    r = web.post(link, {"password": "a-brand-new-password", "repeat": "a-brand-new-password"})
    assert r.status_code == 422
    _db.session.expire_all()
    assert _db.session.get(User, demo["worker1"].id).check_password("demo-password")


def test_the_answer_is_the_same_whether_the_account_exists_or_not(demo, web, smtp, app):  # noqa: F811
    demo["worker2"].email = None
    _db.session.commit()
    pages = []
    for login in ("worker1", "nobody-here", "worker2"):
        r = _ask(web, login)
        assert r.status_code == 302 and r.headers["Location"].endswith("/login/forgot")
        pages.append(web.get("/login/forgot").get_data(as_text=True))
    assert pages[0] == pages[1] == pages[2]
    # one mail, for the one account that exists and has an address
    assert _db.session.scalar(select(func.count()).select_from(MailOutbox)) == 1


def test_asking_for_links_is_under_the_sign_in_limit(demo, web, app, monkeypatch):
    monkeypatch.setitem(app.config["CASEWORK_LIMITS"], "sign-in", "3 per minute")
    monkeypatch.setitem(app.config, "CASEWORK_SMTP_HOST", "127.0.0.1")
    for _ in range(3):
        assert _ask(web, "nobody-here").status_code == 302
    r = _ask(web, "nobody-here")
    assert r.status_code == 429 and int(r.headers["Retry-After"]) > 0
    # the same budget as signing in
    assert web.login("worker1").status_code == 429


def test_without_mail_the_page_says_whom_to_ask_and_staff_issue_a_code(demo, web):
    page = web.get("/login/forgot").get_data(as_text=True)
    assert "工会干事" in page and 'name="login"' not in page
    web.login("worker1")
    assert web.get("/staff/reset-code").status_code == 403  # only union staff and admins
    web.post("/logout", {}, form_page="/account")
    web.login("staff1")
    assert "/staff/reset-code" in web.get("/account").get_data(as_text=True)
    r = web.post("/staff/reset-code", {"login": "nobody-here"})
    assert r.status_code == 422
    for elevated in ("admin", "staff1"):  # a code signs in as the person: never for a reviewer or an admin
        r = web.post("/staff/reset-code", {"login": elevated})
        assert r.status_code == 422 and "管理员" in r.get_data(as_text=True)
    r = web.post("/staff/reset-code", {"login": "E1001"})
    assert r.status_code == 200
    code = re.search(r'<strong class="code">([A-Z0-9-]+)</strong>', r.get_data(as_text=True)).group(1)
    # The code is handed over, not printed on the unit's activation list.
    from casework.roster.operations import pending_codes
    assert pending_codes() == []
    web.post("/logout", {}, form_page="/account")
    r = web.post("/activate/code", {"login": "E1001", "code": code, "password": "my-new-password",
                                    "repeat": "my-new-password"}, form_page="/activate")
    assert r.status_code == 302
    assert web.login("worker1", "my-new-password").status_code == 302
    web.post("/logout", {}, form_page="/account")
    r = web.post("/activate/code", {"login": "E1001", "code": code, "password": "other-password-1",
                                    "repeat": "other-password-1"}, form_page="/activate")
    assert r.status_code == 422  # once
    assert _accounts_log() == ["reset code issued: worker1", "password set with a one-time code: worker1"]
    actors = list(_db.session.scalars(select(AccessEntry.actor_label).where(AccessEntry.chain == "accounts")
                                      .order_by(AccessEntry.seq)))
    assert actors == ["staff1", "worker1"]
