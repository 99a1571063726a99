"""Saved filters: a person saves the query of /work or /cases under a name, finds it as a link above the list,
and deletes it; nobody else sees or deletes it. The API does the same through the same rules."""
from __future__ import annotations

import html

from sqlalchemy import select

from casework.extensions import db as _db
from casework.search.models import SavedFilter

from .conftest import Browser

QUERY = "state=submitted&sort=deadline&dir=desc"


def signed_in(app, username: str) -> Browser:
    browser = Browser(app.test_client())
    browser.login(username)
    return browser


def save(browser, name: str, query: str = QUERY, page: str = "work"):
    return browser.post("/saved-filters", {"page": page, "name": name, "query": query},
                        form_page=f"/{page}?{query}")


def rows(username_id: int) -> list[SavedFilter]:
    _db.session.expire_all()
    return _db.session.scalars(select(SavedFilter).where(SavedFilter.user_id == username_id)).all()


def test_a_saved_filter_is_listed_as_a_link_and_opens_the_list_so_filtered(app, demo):
    staff = signed_in(app, "staff1")
    page = staff.get(f"/work?{QUERY}").get_data(as_text=True)
    assert f'name="query" value="{html.escape(QUERY)}"' in page  # 保存筛选 carries the page's own query
    r = save(staff, "待核实的")
    assert r.status_code == 302 and r.headers["Location"].endswith(f"/work?{QUERY}")
    page = staff.get("/work").get_data(as_text=True)
    assert f'href="/work?{html.escape(QUERY)}">待核实的</a>' in page
    assert "筛选“待核实的”已保存。" in page
    # The same name may stand for a filter of the other list.
    assert save(staff, "待核实的", "kind=aid", page="cases").status_code == 302
    assert 'href="/cases?kind=aid">待核实的</a>' in staff.get("/cases").get_data(as_text=True)


def test_the_saved_query_keeps_only_the_lists_own_parameters(app, demo):
    staff = signed_in(app, "staff1")
    save(staff, "第二页起", "state=submitted&after=2026-12-01|7&csrf_token=x&bogus=1&sort=number")
    (row,) = rows(demo["staff1"].id)
    assert row.query == "state=submitted&sort=number"


def test_only_the_owner_sees_and_deletes_a_saved_filter(app, demo):
    staff = signed_in(app, "staff1")
    save(staff, "我的筛选")
    (row,) = rows(demo["staff1"].id)
    other = signed_in(app, "admin")
    assert "我的筛选" not in other.get("/work").get_data(as_text=True)
    r = other.post(f"/saved-filters/{row.id}/delete", {}, form_page="/work")
    assert r.status_code == 404
    assert len(rows(demo["staff1"].id)) == 1
    r = staff.post(f"/saved-filters/{row.id}/delete", {}, form_page="/work")
    assert r.status_code == 302 and r.headers["Location"].endswith("/work")
    assert rows(demo["staff1"].id) == []
    assert "筛选“我的筛选”已删除。" in staff.get("/work").get_data(as_text=True)


def test_bad_names_are_refused_with_chinese_messages(app, demo):
    staff = signed_in(app, "staff1")
    for name, message in (("", "筛选名称：此项为必填项。"), ("   ", "筛选名称：此项为必填项。"),
                          ("长" * 41, "筛选名称：文字过长（最多 40 字）。")):
        r = save(staff, name)
        assert r.status_code == 302 and r.headers["Location"].endswith(f"/work?{QUERY}")  # the list stays
        assert message in staff.get("/work").get_data(as_text=True)
    assert save(staff, "长" * 40).status_code == 302
    save(staff, "长" * 40)
    assert "筛选名称：您已有同名的筛选，请换一个名称。" in staff.get("/work").get_data(as_text=True)
    assert len(rows(demo["staff1"].id)) == 1


def test_saving_needs_the_forms_token(app, demo):
    staff = signed_in(app, "staff1")
    r = staff.client.post("/saved-filters", data={"page": "work", "name": "无令牌", "query": QUERY})
    assert r.status_code == 400
    assert rows(demo["staff1"].id) == []


def test_the_api_lists_creates_and_deletes_the_callers_saved_filters(api, demo):
    staff, admin = api.as_("staff1"), api.as_("admin")
    r = staff.post("/api/v1/me/saved-filters", json={"page": "cases", "name": "提案", "query": "kind=proposal"})
    assert r.status_code == 201
    made = r.get_json()
    assert {k: made[k] for k in ("page", "name", "query")} == {"page": "cases", "name": "提案",
                                                              "query": "kind=proposal"}
    staff.post("/api/v1/me/saved-filters", json={"page": "work", "name": "逾期", "query": "sort=deadline"})
    assert [f["name"] for f in staff.get("/api/v1/me/saved-filters").get_json()["items"]] == ["提案", "逾期"]
    assert [f["name"] for f in staff.get("/api/v1/me/saved-filters?page=work").get_json()["items"]] == ["逾期"]
    assert admin.get("/api/v1/me/saved-filters").get_json()["items"] == []
    assert admin.delete(f"/api/v1/me/saved-filters/{made['id']}").status_code == 404
    assert staff.delete(f"/api/v1/me/saved-filters/{made['id']}").status_code == 204
    assert staff.delete(f"/api/v1/me/saved-filters/{made['id']}").status_code == 404
    assert [f["name"] for f in staff.get("/api/v1/me/saved-filters").get_json()["items"]] == ["逾期"]


def test_the_api_refuses_bad_saved_filters_in_chinese(api, demo):
    staff = api.as_("staff1")
    r = staff.post("/api/v1/me/saved-filters", json={"page": "work"})
    assert r.status_code == 422 and r.get_json()["error"]["fields"]["name"] == "此项为必填项。"
    r = staff.post("/api/v1/me/saved-filters", json={"page": "board", "name": "x"})
    assert r.status_code == 422 and "work" in r.get_json()["error"]["fields"]["page"]
    r = staff.post("/api/v1/me/saved-filters", json={"page": "work", "name": 7})
    assert r.status_code == 422 and r.get_json()["error"]["fields"]["name"]
    staff.post("/api/v1/me/saved-filters", json={"page": "work", "name": "重名"})
    r = staff.post("/api/v1/me/saved-filters", json={"page": "work", "name": "重名"})
    assert r.status_code == 422 and r.get_json()["error"]["message"] == "您已有同名的筛选，请换一个名称。"
    assert staff.get("/api/v1/me/saved-filters?page=board").status_code == 400
    assert staff.post("/api/v1/me/saved-filters", data="not json",
                      content_type="application/json").status_code == 400
