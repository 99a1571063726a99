"""One reader (casework.core.inputs) for pages and the API: the same bad value on the same field gets the
same message on the page's form as in the API's `fields`."""
from __future__ import annotations

import html
import re

import pytest

from .conftest import Browser
from .factories import aid_to

# (state, trigger, field, bad value): each field type a transition declares
TRANSITION_CASES = [
    ("verifying", "record_visit", "visited_on", "2026-13-40"),
    ("verifying", "record_visit", "visitors", "nobody_here, staff1"),
    ("verifying", "record_visit", "visitors", "staff1"),           # one person where two are needed
    ("verifying", "verify", "proposed_amount", "12.345"),
    ("verifying", "verify", "proposed_amount", "1,5"),
    ("verifying", "verify", "proposed_amount", "-5"),
    ("verifying", "verify", "proposed_amount", ""),
    ("pending_approval", "approve", "amount", "２０００.5５5"),
]


def field_errors(page: str, name: str) -> list[str]:
    """The messages the page shows under the input called `name`."""
    start = page.index(f'name="{name}"')
    block = page[start:page.index("</div>", start)]
    return [html.unescape(m) for m in re.findall(r'<small class="error">(.*?)</small>', block, re.S)]


def _web(app, username: str) -> Browser:
    web = Browser(app.test_client())
    web.login(username)
    return web


@pytest.mark.parametrize("state,trigger,field,bad", TRANSITION_CASES)
def test_a_transition_field_says_the_same_on_the_page_and_in_the_api(app, demo, api, state, trigger, field, bad):
    case = aid_to(demo, state)
    actor = "committee1" if trigger == "approve" else "staff1"
    inputs = {"visited_on": "2026-11-20", "visitors": "staff1, leader1", "findings": "住房简陋"} \
        if trigger == "record_visit" else {}
    inputs[field] = bad
    r = _web(app, actor).post(f"/cases/aid/{case.id}/do/{trigger}",
                              {**{f"{trigger}-{k}": v for k, v in inputs.items()}, f"{trigger}-version": case.version},
                              form_page=f"/cases/aid/{case.id}")
    assert r.status_code == 422
    on_page = field_errors(r.get_data(as_text=True), f"{trigger}-{field}")

    r = api.as_(actor).post(f"/api/v1/cases/aid/{case.id}/transitions/{trigger}",
                            json={"version": case.version, **inputs})
    assert r.status_code == 422 and r.get_json()["error"]["code"] == "invalid"
    in_api = r.get_json()["error"]["fields"][field]
    assert on_page == [in_api]


# (The category is not among them: on the page it is step one of the aid form, a choice among links.)
@pytest.mark.parametrize("field,bad", [("amount_requested", "12.345"), ("amount_requested", "1_000"),
                                       ("circumstances", "说" * 20001)])
def test_a_create_field_says_the_same_on_the_page_and_in_the_api(app, demo, api, field, bad):
    body = {"category": "hardship", "amount_requested": "500", "circumstances": "说明", field: bad}
    r = _web(app, "worker1").post("/cases/aid/new", body)
    assert r.status_code == 422
    on_page = field_errors(r.get_data(as_text=True), field)

    r = api.as_("worker1").post("/api/v1/cases/aid", json=body)
    assert r.status_code == 422
    assert on_page == [r.get_json()["error"]["fields"][field]]


def test_a_proposal_title_too_long_says_the_same(app, demo, api):
    body = {"title": "题" * 201, "problem": "问题", "suggestion": "建议"}
    r = _web(app, "worker1").post("/cases/proposal/new", body)
    assert r.status_code == 422
    on_page = field_errors(r.get_data(as_text=True), "title")
    r = api.as_("worker1").post("/api/v1/cases/proposal", json=body)
    assert on_page == [r.get_json()["error"]["fields"]["title"]] == ["文字过长（最多 200 字）。"]


# -- the admin, register and notices forms: carried by WTForms, read by the one reader ---------------------

def reader_says(method: str, value, **kw) -> str:
    """What core.inputs' Reader says of `value`, in Chinese: the message the page must show."""
    from flask_babel import force_locale

    from casework.core.inputs import Reader
    r = Reader({"x": value})
    with force_locale("zh"):
        getattr(r, method)("x", **kw)
        return r.errors["x"]


def field_says(page: str, name: str) -> list[str]:
    start = page.index(f'name="{name}"')
    block = page[page.rindex('<div class="field', 0, start):page.index("</div>", start)]
    return [html.unescape(m) for m in re.findall(r'<small class="error">(.*?)</small>', block, re.S)]


PERSON = {"username": "worker9", "name": "钱多多", "phone": "13800009999", "email": "qian@example.cn",
          "password": "a-long-password", "active": "y"}


@pytest.mark.parametrize("field,bad,expected", [
    ("username", "bad name!", "只能包含字母、数字、点、连字符和下划线。"),
    ("username", "", lambda: reader_says("text", "")),
    ("name", "名" * 61, lambda: reader_says("text", "名" * 61, max_len=60)),
    ("phone", "12345", "请输入 11 位中国大陆手机号码。"),
    ("email", "not-an-address", lambda: reader_says("email", "not-an-address")),
    ("password", "short", lambda: reader_says("password", "short")),
    ("password", "", "新建账号须设置初始密码。"),
    ("unit_id", "999999", "该单位不存在。"),
])
def test_the_people_form_says_what_the_reader_says(app, demo, field, bad, expected):
    from casework.accounts.models import User
    from casework.extensions import db
    web = _web(app, "admin")
    body = {**PERSON, "unit_id": str(demo["worker1"].unit_id), field: bad}
    r = web.post("/admin/users/new", body, form_page="/admin/users/new")
    assert r.status_code == 200
    with app.test_request_context():
        want = expected() if callable(expected) else expected
    assert field_says(r.get_data(as_text=True), field) == [want]
    assert db.session.query(User).filter_by(username=body["username"]).count() == 0


def test_a_unit_code_and_a_robot_webhook_are_read_by_the_reader(app, demo):
    web = _web(app, "admin")
    hq = str(demo["worker1"].unit_id)
    r = web.post("/admin/units", {"code": "G 23", "name": "三车间小组", "level": "group", "parent_id": hq},
                 form_page="/admin/units")
    assert field_says(r.get_data(as_text=True), "code") == ["只能包含字母、数字、连字符和下划线。"]
    r = web.post("/admin/robots", {"unit_id": hq, "kind": "wecom", "name": "", "webhook_url": "ftp://x.cn/y"},
                 form_page="/admin/robots")
    page = r.get_data(as_text=True)
    with app.test_request_context():
        assert field_says(page, "name") == [reader_says("text", "")]
    assert "https://" in field_says(page, "webhook_url")[0]


def test_the_register_and_the_fund_report_say_what_the_reader_says(app, demo):
    web = _web(app, "staff1")
    form = {"worker": "E1001", "grade": "special", "causes": ["illness"], "visited_on": "2026-11-20",
            "visitors": "staff1, leader1", "findings": "情况属实", "members-0-name": "张" * 61,
            "members-0-relation": "self", "members-0-monthly_income": "2100.00"}
    r = web.post("/register/households", form, form_page="/register/new")
    assert r.status_code == 422
    assert "第 1 行：文字过长（最多 60 字）。" in html.unescape(r.get_data(as_text=True))
    r = web.post("/register/households", {**form, "members-0-name": "张建国", "visited_on": "2026-13-40"},
                 form_page="/register/new")
    assert field_says(r.get_data(as_text=True), "visited_on") == ["请填写走访核实日期。"]

    web = _web(app, "fund1")
    r = web.post("/notices/fund-report", {"fund": "1", "year": "1999", "quarter": "4"},
                 form_page="/notices/fund-report")
    with app.test_request_context():
        assert field_says(r.get_data(as_text=True), "year") == [reader_says("integer", "1999", lo=2000, hi=2100)]


# -- the sign-in, password, activation and recovery forms: the same reader ---------------------------------

def test_the_sign_in_and_password_forms_say_what_the_reader_says(app, demo):
    from .conftest import Browser
    anonymous = Browser(app.test_client())
    r = anonymous.post("/login", {"login": "", "password": ""}, form_page="/login")
    assert r.status_code == 422
    page = r.get_data(as_text=True)
    with app.test_request_context():
        assert field_says(page, "login") == [reader_says("text", "")]
        assert field_says(page, "password") == [reader_says("secret", "")]

    web = _web(app, "worker1")
    r = web.post("/account", {"current": "demo-password", "new": "short", "repeat": "short"}, form_page="/account")
    with app.test_request_context():
        assert field_says(r.get_data(as_text=True), "new") == [reader_says("password", "short")]
    r = web.post("/account", {"current": "demo-password", "new": "a-long-password", "repeat": "a-longer-password"},
                 form_page="/account")
    assert field_says(r.get_data(as_text=True), "repeat") == ["两次输入的密码不一致。"]
    r = web.post("/account/tokens", {"t-label": "长" * 101, "t-days": "7", "t-password": "demo-password"})
    with app.test_request_context():
        assert field_says(r.get_data(as_text=True), "t-label") == [reader_says("text", "长" * 101, max_len=100)]


def test_the_activation_and_reset_forms_say_what_the_reader_says(app, demo):
    from .conftest import Browser
    anonymous = Browser(app.test_client())
    r = anonymous.post("/activate/code", {"login": "1" * 61, "code": "", "password": "a-long-password",
                                          "repeat": "another-password"}, form_page="/activate")
    assert r.status_code == 422
    page = r.get_data(as_text=True)
    with app.test_request_context():
        assert field_says(page, "login") == [reader_says("text", "1" * 61, max_len=60)]
        assert field_says(page, "code") == [reader_says("text", "")]
    assert field_says(page, "repeat") == ["两次输入的密码不一致。"]
    r = anonymous.post("/login/reset/not-a-token", {"password": "short", "repeat": "short"},
                       form_page="/login/reset/not-a-token")
    assert r.status_code == 422
    with app.test_request_context():
        assert field_says(r.get_data(as_text=True), "password") == [reader_says("password", "short")]


def test_an_answer_to_another_category_is_refused_alike_on_the_page_and_in_the_api(app, demo, api):
    from casework.privacy import consent
    body = {"category": "holiday_visit", "amount_requested": "300.00", "circumstances": "说明",
            "consent_agree": "y", "consent_version": consent.CURRENT, "diagnosis": "肺癌"}
    r = _web(app, "worker1").post("/cases/aid/new", body)
    assert r.status_code == 422
    page = html.unescape(r.get_data(as_text=True))
    r = api.as_("worker1").post("/api/v1/cases/aid", json=body)
    assert r.status_code == 422
    message = r.get_json()["error"]["fields"]["details"]
    assert "诊断" in message and message in page
