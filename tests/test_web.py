"""The web UI base: sign-in, sessions, CSRF, error pages, admin pages, case pages."""
from __future__ import annotations

from sqlalchemy import select

from casework.accounts.models import User
from casework.extensions import db as _db

from .factories import aid_to


def test_login_by_username_employee_number_or_phone(app, demo):
    for ident in ("worker1", "E1001", "13800001001"):
        client = app.test_client()
        from .conftest import Browser
        b = Browser(client)
        r = b.login(ident)
        assert r.status_code == 302, ident
        assert "张建国" in client.get("/").get_data(as_text=True)


def test_wrong_password_is_a_clear_message_and_this_address_waits_after_five(web, demo):
    for _ in range(5):
        r = web.login("worker1", "wrong-password")
        assert r.status_code == 422
        assert "用户名或密码错误" in r.get_data(as_text=True) or "Wrong user name or password" in r.get_data(as_text=True)
    r = web.login("worker1")
    assert r.status_code == 422  # this address waits a while even with the right password
    from casework.accounts import auth
    user = _db.session.scalar(select(User).where(User.username == "worker1"))
    assert auth.waiting_until(auth.account_key(user, "worker1"), "127.0.0.1") is not None


def test_pages_need_login(client, demo):
    r = client.get("/")
    assert r.status_code == 302 and "/login" in r.headers["Location"]


def test_missing_csrf_token_is_refused_with_a_page(client, demo):
    app = client.application
    app.config["WTF_CSRF_ENABLED"] = True
    r = client.post("/login", data={"login": "worker1", "password": "demo-password"})
    assert r.status_code == 400
    assert "<html" in r.get_data(as_text=True)


def test_logout_ends_the_session(web, demo):
    web.login("worker1")
    assert web.get("/").status_code == 200
    token = web.csrf("/")
    web.client.post("/logout", data={"csrf_token": token})
    assert web.get("/").status_code == 302


def test_password_change_ends_other_sessions(app, demo):
    from .conftest import Browser
    first, second = Browser(app.test_client()), Browser(app.test_client())
    first.login("worker2")
    second.login("worker2")
    r = first.post("/account", {"current": "demo-password", "new": "a-new-password-123",
                                "repeat": "a-new-password-123"})
    assert r.status_code == 302
    assert first.get("/").status_code == 200
    assert second.get("/").status_code == 302  # the other session is gone
    assert Browser(app.test_client()).login("worker2", "a-new-password-123").status_code == 302


def test_error_pages_in_both_languages(web, demo):
    web.login("worker1")
    zh = web.get("/cases/aid/99999?lang=zh_CN")
    assert zh.status_code == 404 and "页面不存在" in zh.get_data(as_text=True)
    en = web.get("/cases/aid/99999?lang=en")
    assert en.status_code == 404 and "This page does not exist." in en.get_data(as_text=True)
    assert web.get("/nowhere").status_code == 404
    assert web.client.put("/login").status_code == 405


def test_admin_pages_are_for_admins(app, demo):
    from .conftest import Browser
    worker = Browser(app.test_client())
    worker.login("worker1")
    assert worker.get("/admin/users").status_code == 403
    admin = Browser(app.test_client())
    admin.login("admin")
    assert "张建国" in admin.get("/admin/users").get_data(as_text=True)
    hq = demo["admin"].unit
    r = admin.post("/admin/users/new", {"username": "worker9", "name": "钱多多", "unit_id": hq.id,
                                        "password": "initial-password-1", "active": "y"})
    assert r.status_code == 302, r.get_data(as_text=True)
    user = demo["worker9"]
    assert user.name == "钱多多"
    r = admin.post(f"/admin/users/{user.id}/roles", {"r-role": "union_staff", "r-unit_id": hq.id},
                   form_page=f"/admin/users/{user.id}")
    assert r.status_code == 302
    _db.session.expire_all()
    assert [a.role for a in demo["worker9"].roles] == ["union_staff"]
    # A taken user name is a message on the form, not an error page.
    r = admin.post("/admin/users/new", {"username": "worker1", "name": "重复", "unit_id": hq.id,
                                        "password": "initial-password-1"})
    assert r.status_code == 200 and ("已被占用" in r.get_data(as_text=True) or "already taken" in r.get_data(as_text=True))
    r = admin.post("/admin/units", {"code": "G23", "name": "三车间小组", "level": "group",
                                    "parent_id": demo["worker1"].unit.parent_id})
    assert r.status_code == 302


def test_case_page_shows_timeline_and_actions_and_hides_findings_from_applicant(app, demo):
    from .conftest import Browser
    case = aid_to(demo, "pending_approval")
    staff = Browser(app.test_client())
    staff.login("staff1")
    page = staff.get(f"/cases/aid/{case.id}").get_data(as_text=True)
    assert "住房简陋" in page  # the visit findings, for reviewers
    worker = Browser(app.test_client())
    worker.login("worker1")
    page = worker.get(f"/cases/aid/{case.id}").get_data(as_text=True)
    assert case.number in page and "住房简陋" not in page
    committee = Browser(app.test_client())
    committee.login("committee1")
    page = committee.get(f"/cases/aid/{case.id}").get_data(as_text=True)
    assert f"/cases/aid/{case.id}/do/approve" in page
    r = committee.post(f"/cases/aid/{case.id}/do/approve",
                       {"approve-amount": "2000.00", "approve-version": case.version, "approve-comment": "同意"},
                       form_page=f"/cases/aid/{case.id}")
    assert r.status_code == 302
    assert "1" in committee.get(f"/cases/aid/{case.id}").get_data(as_text=True)


def test_transition_form_errors_stay_on_the_page(app, demo):
    from .conftest import Browser
    case = aid_to(demo, "verifying")
    staff = Browser(app.test_client())
    staff.login("staff1")
    r = staff.post(f"/cases/aid/{case.id}/do/verify", {"verify-proposed_amount": "999999.00",
                                                        "verify-version": case.version},
                   form_page=f"/cases/aid/{case.id}")
    assert r.status_code == 422
    page = r.get_data(as_text=True)
    assert "999999.00" in page  # what was typed is kept
    # The refusal takes the focus: the step's form is far down a phone's page.
    assert page.count("autofocus") == 1
    start = page.rindex("<p", 0, page.index("autofocus"))
    assert 'class="error form-error"' in page[start:page.index(">", start)]
    assert "上限" in page[start:page.index("</p>", start)]


def test_new_aid_draft_with_bad_amount_keeps_input(web, demo):
    web.login("worker1")
    r = web.post("/cases/aid/new", {"category": "hardship", "amount_requested": "12.345",
                                        "circumstances": "说明文字"})
    assert r.status_code == 422
    body = r.get_data(as_text=True)
    assert "说明文字" in body and "12.345" in body


def test_queue_filters_search_paging_and_bulk_start(app, demo):
    from .conftest import Browser
    from .factories import aid_to as make
    cases = [make(demo, "submitted") for _ in range(3)]
    staff = Browser(app.test_client())
    staff.login("staff1")
    page = staff.get("/work?kind=aid&category=hardship").get_data(as_text=True)
    assert all(c.number in page for c in cases)
    page = staff.get(f"/work?q={cases[1].number}").get_data(as_text=True)
    assert cases[1].number in page and cases[0].number not in page
    assert cases[0].number in staff.get("/work?q=张建").get_data(as_text=True)
    assert cases[0].number not in staff.get("/work?category=illness").get_data(as_text=True)
    r = staff.post("/work/bulk", {"trigger": "start_verification", "case": [str(cases[0].id), str(cases[2].id)]},
                   form_page="/work")
    assert r.status_code == 302
    _db.session.expire_all()
    assert [c.state for c in cases] == ["verifying", "submitted", "verifying"]
    r = staff.post("/work/bulk", {"trigger": "approve", "case": [str(cases[1].id)]}, form_page="/work")
    assert r.status_code == 400


def test_queue_pages_by_deadline(app, demo):
    from casework.core.queries import work_page
    from .factories import aid_to as make
    cases = [make(demo, "submitted") for _ in range(5)]
    first, cursor = work_page(demo["staff1"], size=3)
    second, end = work_page(demo["staff1"], size=3, after=cursor)
    ids = [c.id for c, _t in first + second]
    assert sorted(ids) == sorted(c.id for c in cases) and len(set(ids)) == 5


def test_admin_changes_a_rule_for_one_unit(app, demo):
    from casework.core import settings
    from .conftest import Browser
    admin = Browser(app.test_client())
    admin.login("admin")
    branch = demo["worker1"].unit.parent
    assert "aid_cap_hardship" in admin.get(f"/admin/settings?unit={branch.id}").get_data(as_text=True)
    r = admin.post("/admin/settings", {"unit": branch.id, "key": "committee_quorum", "value": "4"},
                   form_page=f"/admin/settings?unit={branch.id}")
    assert r.status_code == 302
    assert settings.get(demo["worker1"].unit, "committee_quorum") == 4  # inherited below the branch
    assert settings.get(demo["worker3"].unit, "committee_quorum") == 3  # the other branch keeps the default
    r = admin.post("/admin/settings", {"unit": branch.id, "key": "committee_quorum", "value": "four"},
                   form_page=f"/admin/settings?unit={branch.id}")
    assert r.status_code == 302 and settings.get(demo["worker1"].unit, "committee_quorum") == 4
    admin.post("/admin/settings", {"unit": branch.id, "key": "committee_quorum", "reset": "1"},
               form_page=f"/admin/settings?unit={branch.id}")
    assert settings.get(demo["worker1"].unit, "committee_quorum") == 3


def test_admin_is_warned_about_next_years_calendar_and_enters_it(app, demo):
    from .conftest import Browser
    admin = Browser(app.test_client())
    admin.login("admin")
    assert "2027" in admin.get("/").get_data(as_text=True)
    r = admin.post("/admin/calendar", {"day": "2027-02-06", "workday": "1", "note": "春节调休上班"})
    assert r.status_code == 302
    assert "/admin/calendar" not in admin.get("/").get_data(as_text=True).split("<main id=\"content\" tabindex=\"-1\">")[1].split("</h1>")[1][:300]


def test_timeline_shows_money_inputs_in_yuan(app, demo):
    from .conftest import Browser
    case = aid_to(demo, "posting")  # verify proposed 2000.00, the committee approved 2000.00
    for user in ("staff1", "worker1"):
        b = Browser(app.test_client())
        b.login(user)
        page = b.get(f"/cases/aid/{case.id}").get_data(as_text=True)
        timeline = page[page.index('class="timeline"'):]
        assert "¥2,000.00" in timeline
        assert "200000" not in timeline  # never the fen it is stored in


def test_a_vote_of_the_round_shows_its_amount_in_yuan(app, demo):
    from .conftest import Browser
    from .factories import fire
    case = aid_to(demo, "pending_approval")
    fire(case, "approve", demo["committee1"], amount="2000.00", comment="同意")
    b = Browser(app.test_client())
    b.login("committee2")
    page = b.get(f"/cases/aid/{case.id}").get_data(as_text=True)
    assert f"{demo['committee1'].name}：批准 · ¥2,000.00 — 同意" in page


def test_the_noun_file_and_the_motion_step_file_have_their_own_words(app, demo):
    from casework import labels
    from flask_babel import gettext

    from .conftest import Browser
    from .factories import attach, new_case
    case = new_case("aid", demo["worker1"])
    attach(case, "income_proof", demo["worker1"])
    b = Browser(app.test_client())
    b.login("worker1")
    page = b.get(f"/cases/aid/{case.id}").get_data(as_text=True)
    panel = page[page.index('id="attachments"'):]
    assert '<label for="attachment-file">附件</label>' in panel and "<th>文件</th>" in panel
    assert "立案" not in panel
    with app.test_request_context(headers={"Accept-Language": "zh"}):
        assert str(labels.trigger_label("file")) == "立案" and gettext("File") == "文件"


def test_the_public_board_offers_a_sign_in_and_every_page_a_favicon(app, demo, client):
    page = client.get("/board").get_data(as_text=True)
    assert 'href="/login?next=/board"' in page and "工会会员：登录后" in page
    assert 'rel="icon" href="/static/favicon.svg"' in page
    icon = client.get("/static/favicon.svg")
    assert icon.status_code == 200 and icon.mimetype == "image/svg+xml" and b"<svg" in icon.data
    icon.close()
    assert "/login?next" not in client.get("/login").get_data(as_text=True)  # not on the sign-in page itself
    from .conftest import Browser
    b = Browser(app.test_client())
    b.login("worker1")
    page = b.get("/board").get_data(as_text=True)
    assert "/login?next" not in page and "工会会员：登录后" not in page


def test_a_step_done_on_the_case_page_says_what_was_done_and_where_the_case_stands(web, demo):
    from .factories import attach, new_case
    case = new_case("aid", demo["worker1"])
    attach(case, "income_proof", demo["worker1"])
    web.login("worker1")
    r = web.post(f"/cases/aid/{case.id}/do/submit", {"submit-version": case.version},
                 form_page=f"/cases/aid/{case.id}", follow_redirects=True)
    page = r.get_data(as_text=True)
    assert "已办理：提交。当前状态：已提交。" in page and "操作成功" not in page
