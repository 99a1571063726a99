"""Public forms and look-ups: human checks kept on the server, one try each, and one limit per address for the
web page and the API alike."""
from __future__ import annotations

from casework.extensions import LIMITS
from casework.extensions import db as _db

from ..conftest import CSRF_RE, _fresh_request_globals
from ..factories import page_check, solve, solved_check
from ..test_disclosure import _posted


def _per_minute(scope: str) -> int:
    return int(LIMITS[scope].split()[0])


def _objection(api, d, **extra):
    return api.post(f"/api/v1/board/{d.id}/objections", json={"item": d.items[0].id, "text": "此人家庭并不困难",
                                                              **extra})


def test_api_objection_needs_a_solved_check_once(demo, api):
    d, _cases = _posted(demo)
    r = _objection(api, d)
    assert r.status_code == 422 and r.get_json()["error"]["code"] == "human_check"
    assert "人机验证" in r.get_json()["error"]["message"]
    check = solved_check(api)
    wrong = str(int(check["answer"]) + 1)
    assert _objection(api, d, challenge=check["challenge"], answer=wrong).status_code == 422
    # a wrong answer used the check up: the right one no longer helps
    assert _objection(api, d, **check).status_code == 422
    check = solved_check(api)
    assert _objection(api, d, **check).status_code == 201
    assert _objection(api, d, **check).status_code == 422  # never twice
    assert _objection(api, d, challenge="forged-token", answer="3").status_code == 422


def test_api_objections_over_the_limit_are_told_when_to_retry(demo, api):
    d, _cases = _posted(demo)
    for _ in range(_per_minute("public-post")):
        assert _objection(api, d).status_code == 422
    r = _objection(api, d, **solved_check(api))
    assert r.status_code == 429 and int(r.headers["Retry-After"]) > 0
    assert r.get_json()["error"]["code"] == "rate_limited" and r.get_json()["error"]["message"] == "请求过于频繁，请稍后再试。"
    # the web form counts against the same budget
    page = api.client.get(f"/board/{d.id}").get_data(as_text=True)
    _fresh_request_globals()
    r = api.client.post(f"/board/{d.id}/objections", data={"csrf_token": CSRF_RE.search(page).group(1),
                                                           "item": d.items[0].id, "text": "x", **page_check(page)})
    assert r.status_code == 429 and r.headers["Retry-After"]


def test_checks_expire(demo, api, clock):
    from datetime import timedelta
    from casework.disclosure import human
    d, _cases = _posted(demo)
    check = solved_check(api)
    clock.shift(human.TTL + timedelta(minutes=1))
    assert _objection(api, d, **check).status_code == 422


def test_challenge_endpoint_and_limits_are_documented(client):
    spec = client.get("/api/v1/openapi.json").get_json()
    op = spec["paths"]["/api/v1/challenges"]["post"]
    ref = op["responses"]["201"]["content"]["application/json"]["schema"]["$ref"].rsplit("/", 1)[1]
    assert set(spec["components"]["schemas"][ref]["properties"]) == {"id", "question"}
    objection = spec["paths"]["/api/v1/board/{disclosure_id}/objections"]["post"]
    assert "429" in objection["responses"] and "429" in op["responses"]
    assert "429" in spec["paths"]["/api/v1/tokens"]["post"]["responses"]
    assert "429" in spec["paths"]["/api/v1/objections/{code}"]["get"]["responses"]


def _form(client, path):
    _fresh_request_globals()
    page = client.get(path).get_data(as_text=True)
    return page, {"csrf_token": CSRF_RE.search(page).group(1), **page_check(page)}


def test_a_solved_web_check_cannot_be_replayed(demo, client):
    d, _cases = _posted(demo)
    _page, fields = _form(client, f"/board/{d.id}")
    data = {**fields, "item": d.items[0].id, "text": "此人家庭并不困难", "anonymous": "1"}
    _fresh_request_globals()
    assert client.post(f"/board/{d.id}/objections", data=data).status_code == 200
    for _ in range(3):
        _fresh_request_globals()
        r = client.post(f"/board/{d.id}/objections", data=data)
        assert r.status_code == 422
    from casework.disclosure.models import Objection
    assert _db.session.query(Objection).count() == 1


def test_a_wrong_answer_keeps_what_was_typed(demo, client):
    d, _cases = _posted(demo)
    _page, fields = _form(client, f"/board/{d.id}")
    fields["human"] = str(int(fields["human"]) + 1)
    _fresh_request_globals()
    r = client.post(f"/board/{d.id}/objections", data={**fields, "item": d.items[0].id, "contact": "13900000000",
                                                        "text": "她家上月刚买了新车，情况不实"})
    page = r.get_data(as_text=True)
    assert r.status_code == 422 and "她家上月刚买了新车，情况不实" in page and "13900000000" in page
    assert 'name="challenge"' in page  # with a new check to answer
    _page, fields = _form(client, "/board/report")
    fields["human"] = "99"
    _fresh_request_globals()
    r = client.post("/board/report", data={**fields, "unit": demo["admin"].unit_id, "text": "基金收支未公开"})
    assert r.status_code == 422 and "基金收支未公开" in r.get_data(as_text=True)


def test_look_ups_are_limited(demo, client):
    for path in ("/board/track?code=ZZZZZZZZZZ", "/verify/ZZZZ", "/api/v1/objections/ZZZZZZZZZZ"):
        from casework.extensions import limiter
        limiter.reset()
        for _ in range(_per_minute("lookup")):
            _fresh_request_globals()
            assert client.get(path).status_code in (200, 404), path
        _fresh_request_globals()
        r = client.get(path)
        assert r.status_code == 429 and int(r.headers["Retry-After"]) > 0, path


def test_the_token_hides_its_answer(app, demo, api):
    import base64
    token = api.post("/api/v1/challenges").get_json()["id"]
    assert solve(token).isdigit()
    assert b'"a"' not in base64.urlsafe_b64decode(token + "==")  # encrypted, not merely encoded
