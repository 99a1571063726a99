"""Search: partial numbers, titles, names and Chinese words, only among the cases the caller may see."""
from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from casework.extensions import db as _db
from casework.search import index
from casework.search.models import SearchText

from .factories import aid_to, fire, new_case
from .test_proposals import walk

LIGHTS = {"title": "一车间照明加装感应开关", "problem": "通道和库区照明长明，夜间无人时浪费电能",
          "suggestion": "在通道和库区照明回路加装人体感应开关。"}


def motion(demo, **data):
    from casework.motions.models import CongressSession
    return new_case("motion", demo["rep1"], session=_db.session.scalar(select(CongressSession)).id, **data)


def found(api, user: str, q: str, **params) -> list[str]:
    r = api.as_(user).get("/api/v1/search", query_string={"q": q, **params})
    assert r.status_code == 200, r.get_json()
    return [item["number"] for item in r.get_json()["items"]]


def test_a_chinese_word_of_the_text_finds_the_proposal(demo, api):
    case = new_case("proposal", demo["worker3"], **LIGHTS)
    fire(case, "submit", demo["worker3"])
    other = new_case("proposal", demo["worker3"])
    assert found(api, "worker3", "感应开关") == [case.number]
    assert found(api, "worker3", "浪费电能") == [case.number]  # a phrase of the problem, not the title
    assert found(api, "worker3", "排班") == [other.number]
    assert found(api, "staff1", "感应开关") == [case.number]


def test_a_partial_number_finds_the_case(demo, api):
    cases = [new_case("proposal", demo["worker1"]) for _ in range(3)]
    number = cases[1].number  # P2026-00002
    assert found(api, "worker1", number[-5:]) == [number]
    assert found(api, "worker1", number[1:9].lower()) == [c.number for c in reversed(cases)]
    assert found(api, "worker1", number) == [number]


def test_a_persons_name_finds_their_cases_for_those_who_may_see_them(demo, api):
    mine = motion(demo)
    name = demo["rep1"].name
    assert found(api, "rep1", name[1:]) == [mine.number]
    assert found(api, "worker1", name) == []


def test_a_worker_never_finds_another_workers_aid_request_nor_its_private_words(demo, api):
    aid = aid_to(demo, "submitted")  # worker1's: 爱人重病, household income, the category "hardship"
    name = demo["worker1"].name
    assert found(api, "worker2", name) == [] and found(api, "worker2", aid.number) == []
    assert found(api, "worker1", aid.number[-5:]) == [aid.number]
    assert found(api, "staff1", name) == [aid.number]
    for private in ("重病", "爱人", "2100", "hardship", "子女上学"):
        assert found(api, "staff1", private) == [], private
        assert found(api, "worker1", private) == [], private
    assert _db.session.get(SearchText, aid.id) is None  # nothing of an aid request is in the index


def test_results_come_a_page_at_a_time_through_the_cursor(demo, api, app):
    app.config["CASEWORK_PAGE_SIZE"], size = 2, app.config["CASEWORK_PAGE_SIZE"]
    try:
        cases = [new_case("proposal", demo["worker1"], title=f"食堂窗口改进{i}") for i in range(5)]
        client, seen, after = api.as_("worker1"), [], None
        while True:
            page = client.get("/api/v1/search", query_string={"q": "食堂", **({"after": after} if after else {})})
            body = page.get_json()
            seen += [i["number"] for i in body["items"]]
            assert len(body["items"]) <= 2
            after = body["next"]
            if not after:
                break
        assert seen == [c.number for c in reversed(cases)]
        assert client.get("/api/v1/search?q=食堂&after=xyz").status_code == 400
    finally:
        app.config["CASEWORK_PAGE_SIZE"] = size


def test_dates_and_kind_narrow_the_results(demo, api, clock):
    early = new_case("proposal", demo["rep1"], title="食堂排队")
    clock.shift(timedelta(days=10))
    late = motion(demo, title="关于食堂的提案")
    start = (early.created_at + timedelta(days=5)).date().isoformat()
    assert found(api, "rep1", "食堂") == [late.number, early.number]
    assert found(api, "rep1", "食堂", **{"from": start}) == [late.number]
    assert found(api, "rep1", "食堂", to=start) == [early.number]
    assert found(api, "rep1", "食堂", kind="proposal") == [early.number]
    r = api.as_("rep1").get("/api/v1/search?q=食堂&from=2026-13-01")
    assert r.status_code == 400 and "from" in r.get_json()["error"]["fields"]
    assert api.as_("rep1").get("/api/v1/search?q=食堂&kind=nope").status_code == 400


def test_the_index_follows_a_changed_draft_and_can_be_rebuilt(demo, api):
    case = new_case("proposal", demo["worker1"])
    case.suggestion = "加装人体感应开关"
    _db.session.commit()
    assert found(api, "worker1", "感应开关") == [case.number]
    assert found(api, "worker1", "电子化") == []
    _db.session.execute(SearchText.__table__.delete())
    _db.session.commit()
    assert found(api, "worker1", "感应开关") == []
    assert index.rebuild() == 1
    _db.session.commit()
    assert found(api, "worker1", "感应开关") == [case.number]


def test_the_search_page_and_the_header_box(demo, web):
    case = new_case("proposal", demo["worker3"], **LIGHTS)
    web.login("worker3")
    home = web.get("/").get_data(as_text=True)
    assert 'action="/search"' in home
    page = web.get("/search?q=感应开关").get_data(as_text=True)
    assert case.number in page and LIGHTS["title"] in page
    bad = web.get("/search?q=感应开关&from=tomorrow")
    assert bad.status_code == 400 and "YYYY-MM-DD" in bad.get_data(as_text=True)


def test_similar_proposals_for_an_author_are_public_or_own(demo, api):
    from casework.accounts.models import Unit
    from casework.disclosure import operations
    from casework.disclosure.models import PendingItem
    own = walk(demo, "submitted", author="worker1", **LIGHTS)
    others = walk(demo, "submitted", author="worker2", title="二车间照明加装感应开关", problem=LIGHTS["problem"],
                  suggestion=LIGHTS["suggestion"])
    public = walk(demo, "rewarded", author="worker3", title="三车间照明加装感应开关", problem=LIGHTS["problem"],
                  suggestion=LIGHTS["suggestion"])
    pending = _db.session.scalar(select(PendingItem).where(PendingItem.case_id == public.id))
    batch = operations.make_batch(_db.session.get(Unit, pending.unit_id), "proposal")
    _db.session.commit()
    for i in (1, 2, 3):
        operations.sign_off(batch, demo[f"committee{i}"], "同意公示")
        _db.session.commit()
    r = api.as_("worker1").post("/api/v1/proposals/similar", json={"title": "照明加装感应开关",
                                                                   "problem": "库区照明夜间长明"})
    assert r.status_code == 200, r.get_json()
    items = r.get_json()["items"]
    numbers = {i["number"] for i in items}
    assert own.number in numbers and others.number not in numbers
    assert batch.status == "posted" and public.number in numbers
    assert all(0 < i["similarity"] <= 1 for i in items)
    assert api.as_("worker1").post("/api/v1/proposals/similar", json={}).get_json()["items"] == []
    assert api.as_("worker1").post("/api/v1/proposals/similar", json={"title": 5}).status_code == 200


def test_the_author_sees_similar_proposals_on_the_new_proposal_page(demo, web):
    own = walk(demo, "submitted", author="worker1", **LIGHTS)
    web.login("worker1")
    page = web.get("/proposals/new").get_data(as_text=True)
    assert 'id="similar"' in page and 'data-url="/proposals/similar"' in page
    r = web.post("/proposals/new", {"title": "照明加装感应开关", "problem": "", "suggestion": "", "do": "check"})
    assert r.status_code == 200 and own.number in r.get_data(as_text=True)
    r = web.post("/proposals/similar", {"title": "照明加装感应开关"}, form_page="/proposals/new")
    assert [m["number"] for m in r.get_json()["items"]] == [own.number]
