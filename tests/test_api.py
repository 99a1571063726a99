"""The JSON API skeleton (shared/design/API.md): tokens, errors, cases, transitions, audit, queue."""
from __future__ import annotations

import re

import base64

from sqlalchemy import select

from casework.privacy.consent import CURRENT as CONSENT
from casework.aid.models import AidRequest
from casework.core.models import Attachment, CongressSession
from casework.extensions import db as _db

from .factories import attach, fire, new_case


def test_token_answers_the_same_for_unknown_user_and_wrong_password(api, demo):
    a = api.post("/api/v1/tokens", json={"username": "worker1", "password": "nope"})
    b = api.post("/api/v1/tokens", json={"username": "nobody", "password": "nope"})
    assert a.status_code == b.status_code == 401
    assert a.get_json() == b.get_json()
    assert a.get_json()["error"]["code"] == "bad_credentials"


def test_no_or_bad_token(api, demo):
    r = api.get("/api/v1/me")
    assert r.status_code == 401 and r.get_json()["error"]["code"] == "no_token"
    r = api.get("/api/v1/me", headers={"Authorization": "Bearer forged"})
    assert r.status_code == 401 and r.get_json()["error"]["code"] == "bad_token"


def test_revoked_token_stops_working(api, demo):
    me = api.as_("worker1")
    assert me.get("/api/v1/me").get_json()["username"] == "worker1"
    assert me.delete("/api/v1/tokens/current").status_code == 204
    assert me.get("/api/v1/me").status_code == 401


def test_me_units_departments_sessions(api, demo):
    me = api.as_("committee1")
    body = me.get("/api/v1/me").get_json()
    assert {"role": "committee", "unit_name": "示范公司工会委员会"}.items() <= body["roles"][-1].items() or \
        any(r["role"] == "committee" for r in body["roles"])
    assert len(me.get("/api/v1/units").get_json()["items"]) == 7
    depts = me.get("/api/v1/departments").get_json()["items"]
    assert {d["code"] for d in depts} == {"HR", "TECH", "LOG"}
    assert next(d for d in depts if d["code"] == "TECH")["handlers"] == ["handler1"]
    assert me.get("/api/v1/sessions").get_json()["items"][0]["status"] == "open"


def test_create_and_walk_an_aid_case(api, demo):
    worker, staff = api.as_("worker1"), api.as_("staff1")
    r = worker.post("/api/v1/cases/aid", json={"category": "hardship", "amount_requested": "3000.00",
                                               "circumstances": "爱人重病",
                                               "details": {"household_size": 3, "monthly_income": "1800.00"},
                                               "consent": {"version": CONSENT, "given_by": "self"}})
    assert r.status_code == 201, r.get_json()
    case = r.get_json()
    assert case["state"] == "draft" and case["amount_requested"] == "3000.00"
    assert case["transitions"] == ["submit", "withdraw", "withdraw_consent"]
    aid = _db.session.get(AidRequest, case["id"])
    attach(aid, "income_proof", demo["worker1"])
    r = worker.post(f"/api/v1/cases/aid/{case['id']}/transitions/submit", json={"version": case["version"]})
    assert r.status_code == 422 and "致困原因" in r.get_json()["error"]["message"] or \
        "Cause of hardship" in r.get_json()["error"]["message"]
    r = worker.post(f"/api/v1/cases/aid/{case['id']}/transitions/submit", json={"version": case["version"]},
                    headers={"Accept-Language": "en"})
    assert "Cause of hardship" in r.get_json()["error"]["message"]
    aid.details = {**aid.details, "cause": "爱人患病"}
    _db.session.commit()
    case = worker.get(f"/api/v1/cases/aid/{case['id']}").get_json()
    r = worker.post(f"/api/v1/cases/aid/{case['id']}/transitions/submit", json={"version": case["version"]})
    assert r.status_code == 200 and r.get_json()["state"] == "submitted"
    # Another worker cannot see it at all.
    assert api.as_("worker2").get(f"/api/v1/cases/aid/{case['id']}").status_code == 404
    queue = staff.get("/api/v1/queue").get_json()["items"]
    assert [i["case"]["id"] for i in queue] == [case["id"]]
    assert "start_verification" in queue[0]["transitions"]
    r = staff.post(f"/api/v1/cases/aid/{case['id']}/transitions/start_verification", json={"version": 1})
    assert r.status_code == 409 and r.get_json()["error"]["code"] == "stale"
    audit = worker.get(f"/api/v1/cases/aid/{case['id']}/audit").get_json()
    assert audit["intact"] is True
    assert [(e["trigger"], e["from"], e["to"]) for e in audit["items"]] == [
        ("create", "draft", "draft"), ("submit", "draft", "submitted")]


def test_field_errors_are_422_with_fields_and_localised(api, demo):
    worker = api.as_("worker1")
    r = worker.post("/api/v1/cases/aid", json={"category": "yacht", "amount_requested": "-5"})
    assert r.status_code == 422
    err = r.get_json()["error"]
    assert set(err["fields"]) == {"category", "amount_requested"}
    r = worker.post("/api/v1/cases/aid", json={"category": "hardship", "amount_requested": "1.234"},
                    headers={"Accept-Language": "en"})
    assert "two decimal places" in r.get_json()["error"]["fields"]["amount_requested"]
    r = worker.post("/api/v1/cases/aid", json={"category": "hardship", "amount_requested": "99999999"})
    assert r.status_code == 422 and "amount_requested" in r.get_json()["error"]["fields"]


def test_malformed_bodies_are_400(api, demo):
    worker = api.as_("worker1")
    r = worker.post("/api/v1/cases/aid", data="{not json", content_type="application/json")
    assert r.status_code == 400 and r.get_json()["error"]["code"] == "malformed"
    r = worker.post("/api/v1/cases/aid", json=[1, 2])
    assert r.status_code == 400
    r = worker.post("/api/v1/cases/aid/1/transitions/submit", json={"version": "x"})
    assert r.status_code in (400, 404)


def test_unknown_kind_trigger_and_case(api, demo):
    worker = api.as_("worker1")
    assert worker.post("/api/v1/cases/boat", json={}).status_code == 404
    assert worker.get("/api/v1/cases/aid/999999").status_code == 404
    case = worker.post("/api/v1/cases/proposal", json={"title": "节能", "problem": "浪费电",
                                                       "suggestion": "装感应灯"}).get_json()
    r = worker.post(f"/api/v1/cases/proposal/{case['id']}/transitions/to_closed", json={})
    assert r.status_code == 404
    r = worker.post(f"/api/v1/cases/proposal/{case['id']}/transitions/accept", json={})
    assert r.status_code == 409 and r.get_json()["error"]["code"] == "not_possible"


def test_forbidden_when_visible_but_not_allowed(api, demo):
    worker = api.as_("worker1")
    case = worker.post("/api/v1/cases/proposal", json={"title": "节能", "problem": "浪费电",
                                                       "suggestion": "装感应灯"}).get_json()
    worker.post(f"/api/v1/cases/proposal/{case['id']}/transitions/submit", json={})
    r = api.as_("committee1").post(f"/api/v1/cases/proposal/{case['id']}/transitions/accept",
                                   json={"evaluators": ["evaluator1"]})
    assert r.status_code == 403


def test_list_paging(api, demo):
    worker = api.as_("worker1")
    ids = [worker.post("/api/v1/cases/proposal", json={"title": f"建议{i}", "problem": "p",
                                                       "suggestion": "s"}).get_json()["id"] for i in range(30)]
    first = worker.get("/api/v1/cases/proposal").get_json()
    assert [c["id"] for c in first["items"]] == sorted(ids, reverse=True)[:25]
    second = worker.get(f"/api/v1/cases/proposal?after={first['next']}").get_json()
    assert [c["id"] for c in second["items"]] == sorted(ids, reverse=True)[25:] and second["next"] is None
    assert worker.get("/api/v1/cases/proposal?after=%%%").status_code == 400


def test_openapi_document_lists_the_endpoints(client, demo):
    spec = client.get("/api/v1/openapi.json").get_json()
    paths = spec["paths"]
    for path in ("/api/v1/tokens", "/api/v1/cases/{kind}", "/api/v1/cases/{kind}/{case_id}",
                 "/api/v1/cases/{kind}/{case_id}/transitions/{trigger}", "/api/v1/cases/{kind}/{case_id}/audit",
                 "/api/v1/queue", "/api/v1/me", "/api/v1/units", "/api/v1/departments", "/api/v1/sessions"):
        assert path in paths, path
    assert not any(p.startswith(("/admin", "/cases", "/login")) for p in paths)
    page = client.get("/api/v1/docs")
    assert page.status_code == 200
    text = page.get_data(as_text=True)
    # The readable page lists every operation of the document, and the document every API route.
    assert all(path in text for path in paths)
    from flask import current_app
    routes = {re.sub(r"<(?:[^:<>]+:)?([^<>]+)>", r"{\1}", r.rule) for r in current_app.url_map.iter_rules()
              if r.rule.startswith("/api/v1/") and r.endpoint not in ("openapi.spec", "api.openapi_page")}
    assert routes <= set(paths), routes - set(paths)


def test_attachment_factory_is_not_public(demo):
    assert _db.session.query(Attachment).count() == 0


def test_ids_cursors_and_text_out_of_range_are_refused_never_500(api, demo):
    """Values no column can hold (PostgreSQL integers end at 2**31 - 1) and text no column can store."""
    staff = api.as_("staff1")
    huge = 2**31
    assert staff.get(f"/api/v1/cases/aid/{huge}").status_code == 404
    assert staff.get(f"/api/v1/cases/aid/{2**64}/audit").status_code == 404
    assert staff.get(f"/api/v1/cases/aid?unit={huge}").get_json() == {"items": [], "next": None}
    assert staff.get("/api/v1/cases/aid?unit=²").status_code == 400
    cursor = base64.urlsafe_b64encode(str(huge).encode()).decode().rstrip("=")
    assert staff.get(f"/api/v1/cases/aid?after={cursor}").status_code == 400
    for unit in (str(huge), "²", "-1"):
        r = staff.get(f"/api/v1/stats?unit={unit}")
        assert r.status_code == 404 and r.get_json()["error"]["code"] == "unknown_unit", unit
    for unit in (huge, str(huge), "²"):
        r = staff.post("/api/v1/reports/annual", json={"kind": "aid", "unit": unit, "year": 2026})
        assert r.status_code == 404 and r.get_json()["error"]["code"] == "unknown_unit", unit
    assert staff.get(f"/api/v1/funds/1/ledger?before={huge}").status_code in (200, 400)
    assert staff.get(f"/api/v1/notifications?after={cursor}").status_code in (200, 400)
    # A lone surrogate escape is valid JSON syntax but no text: nothing could store it.
    r = staff.post("/api/v1/cases/proposal", data='{"title": "\\ud800", "problem": "p", "suggestion": "s"}',
                   content_type="application/json")
    assert r.status_code == 400 and r.get_json()["error"]["code"] == "malformed"
    deep = "[" * 100_000 + "]" * 100_000
    r = staff.post("/api/v1/cases/proposal", data=deep, content_type="application/json")
    assert r.status_code == 400


def test_openapi_document_declares_errors_security_and_path_values(client, demo):
    spec = client.get("/api/v1/openapi.json").get_json()
    assert spec["components"]["securitySchemes"]["bearerAuth"] == {
        "type": "http", "scheme": "bearer", "description": "POST /api/v1/tokens gives one"}
    error = {"$ref": "#/components/schemas/Error"}
    for path, operations in spec["paths"].items():
        for method, op in operations.items():
            for code in ("400", "401", "403", "404", "409", "422"):
                body = op["responses"][code]["content"]["application/json"]
                assert body["schema"] == error, (method, path, code)
            if "requestBody" in op:
                assert "413" in op["responses"], (method, path)
            for parameter in op.get("parameters", []):
                if parameter["name"] == "kind":
                    assert parameter["schema"]["enum"] == ["aid", "motion", "proposal"]
    public = spec["paths"]["/api/v1/board"]["get"]["security"]
    assert public == [{}, {"bearerAuth": []}]
    assert spec["paths"]["/api/v1/me"]["get"]["security"] == [{"bearerAuth": []}]
    assert "visited_on" in spec["components"]["schemas"]["TransitionIn"]["properties"]


def test_trigger_fields_naming_rows_beyond_any_id_are_field_errors(api, demo):
    session = _db.session.scalar(select(CongressSession))
    motion = new_case("motion", demo["rep1"], session=session.id)
    fire(motion, "open_for_cosigning", demo["rep1"])
    for rep in ("rep2", "rep3"):
        fire(motion, "cosign", demo[rep])
    fire(motion, "submit", demo["rep1"])
    committee = api.as_("motions1")
    url = f"/api/v1/cases/motion/{motion.id}/transitions"
    for trigger, body in (("file", {"department": 2**31}), ("file", {"department": str(2**40)}),
                          ("merge", {"into": 2**40}), ("merge", {"into": "²"})):
        r = committee.post(f"{url}/{trigger}", json=body)
        assert r.status_code == 422, (trigger, body, r.get_json())
    proposal = new_case("proposal", demo["worker1"])
    fire(proposal, "submit", demo["worker1"])
    r = api.as_("staff1").post(f"/api/v1/cases/proposal/{proposal.id}/duplicate-of", json={"original": 2**40})
    assert r.status_code == 422, r.get_json()
    r = api.as_("staff1").get(f"/api/v1/proposals/annual?unit={2**40}")
    assert r.status_code == 400


def test_a_duplicate_proposal_names_its_original_as_an_object(api, demo):
    first, second = (new_case("proposal", demo[w]) for w in ("worker1", "worker2"))
    for case, who in ((first, "worker1"), (second, "worker2")):
        fire(case, "submit", demo[who])
    staff = api.as_("staff1")
    r = staff.post(f"/api/v1/cases/proposal/{second.id}/duplicate-of", json={"original": first.number})
    assert r.status_code == 200, r.get_json()
    expected = {"id": first.id, "number": first.number}
    assert r.get_json()["duplicate_of"] == expected
    assert staff.get(f"/api/v1/cases/proposal/{second.id}").get_json()["duplicate_of"] == expected
    listed = staff.get("/api/v1/cases/proposal").get_json()["items"]
    assert next(c for c in listed if c["id"] == second.id)["duplicate_of"] == expected
