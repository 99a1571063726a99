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
