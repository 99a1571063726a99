"""Separate consent at application (PIPL arts. 14, 17, 29): no submission without it, the text shown is the
text stored, a group leader records how the member consented, and withdrawing it ends the processing and
deletes what was given under it."""
from __future__ import annotations

from sqlalchemy import select

from casework.core.models import Attachment
from casework.extensions import db as _db
from casework.privacy import consent

from .factories import AID, aid_to, fire, new_case


def test_no_submission_without_consent_api(demo, api):
    worker = api.as_("worker1")
    body = {**AID}
    r = worker.post("/api/v1/cases/aid", json=body)
    assert r.status_code == 201
    case = r.get_json()
    assert case["consent"] is None
    from casework.core.models import Case
    _case = _db.session.get(Case, case["id"])
    from .factories import attach
    attach(_case, "income_proof", demo["worker1"])
    refused = worker.post(f"/api/v1/cases/aid/{case['id']}/transitions/submit", json={"version": case["version"]})
    assert refused.status_code == 422 and "同意" in refused.get_json()["error"]["message"]
    stale = worker.post("/api/v1/cases/aid", json={**AID, "consent": {"version": "2020-01"}})
    assert stale.status_code == 422 and "consent" in stale.get_json()["error"]["fields"]
    given = worker.post("/api/v1/cases/aid", json={**AID, "consent": {"version": consent.CURRENT,
                                                                         "given_by": "self"}}).get_json()
    assert given["consent"]["version"] == consent.CURRENT and given["consent"]["given_by"] == "self"
    assert given["consent"]["text"] == consent.text_for(consent.CURRENT, demo["worker1"].unit)
    _given = _db.session.get(Case, given["id"])
    attach(_given, "income_proof", demo["worker1"])
    ok = worker.post(f"/api/v1/cases/aid/{given['id']}/transitions/submit", json={"version": given["version"]})
    assert ok.status_code == 200 and ok.get_json()["state"] == "submitted"


def test_the_form_shows_the_text_it_stores(demo, web):
    web.login("worker1")
    page = web.get("/cases/aid/new?category=hardship").get_data(as_text=True)
    shown = consent.text_for(consent.CURRENT, demo["worker1"].unit)
    assert shown.splitlines()[0] in page and "保存期限" in page
    assert page.index('id="consent-notice"') < page.index('name="circumstances"')  # before the questions
    form = {"category": "hardship", "amount_requested": "3000.00", "circumstances": "爱人重病",
            "household_size": "4", "monthly_income": "2100.00", "cause": "患病",
            "consent_agree": "y", "consent_version": consent.CURRENT}
    r = web.post("/cases/aid/new", form)
    assert r.status_code in (302, 303)
    from casework.aid.models import AidRequest
    case = _db.session.scalars(select(AidRequest).order_by(AidRequest.id.desc())).first()
    assert case.consent_text == shown and case.consent_given_by == "self" and case.consent_by.username == "worker1"
    view = web.get(f"/cases/aid/{case.id}").get_data(as_text=True)
    assert 'id="consent"' in view and consent.CURRENT in view and shown.splitlines()[1] in view
    # A later wording does not change what this case agreed to.
    old = consent.TEXTS[consent.CURRENT]
    try:
        consent.TEXTS[consent.CURRENT] = old.replace("保存期限", "保管期限")
        view = web.get(f"/cases/aid/{case.id}").get_data(as_text=True)
        assert shown.splitlines()[4][:12] in view and "保管期限" not in view
    finally:
        consent.TEXTS[consent.CURRENT] = old


def test_a_group_leader_records_how_the_member_consented(demo, api):
    leader = api.as_("leader1")
    body = {**AID, "applicant": "worker1", "consent": {"version": consent.CURRENT, "given_by": "on_behalf"}}
    r = leader.post("/api/v1/cases/aid", json=body)
    assert r.status_code == 422 and "consent_how" in r.get_json()["error"]["fields"]
    body["consent"]["how"] = "written"
    r = leader.post("/api/v1/cases/aid", json=body)
    assert r.status_code == 201
    got = r.get_json()["consent"]
    assert (got["given_by"], got["how"], got["by"]) == ("on_behalf", "written", "leader1")
    wrong = leader.post("/api/v1/cases/aid", json={**AID, "consent": {"version": consent.CURRENT,
                                                                       "given_by": "on_behalf", "how": "phone"}})
    assert wrong.status_code == 422  # for oneself, consent is one's own


def test_withdrawing_consent_stops_processing_and_erases(demo, app):
    case = aid_to(demo, "pending_approval")
    files = _db.session.scalars(select(Attachment).where(Attachment.case_id == case.id)).all()
    assert files
    fire(case, "withdraw_consent", demo["worker1"])
    _db.session.expire_all()
    assert case.state == "withdrawn" and case.consent_withdrawn_at is not None
    assert case.circumstances == "" and case.details == {}
    assert _db.session.scalars(select(Attachment).where(Attachment.case_id == case.id)).all() == []
    from casework.aid.models import AidVisit
    assert all(v.findings == "" for v in _db.session.scalars(select(AidVisit).where(AidVisit.case_id == case.id)))
    from casework.core import engine
    assert engine.available(case, demo["committee1"]) == []
    # Only the applicant withdraws their consent; staff cannot do it for them.
    other = aid_to(demo, "submitted")
    import pytest
    from casework.core.errors import Forbidden
    with pytest.raises(Forbidden):
        fire(other, "withdraw_consent", demo["staff1"])


def test_withdraw_consent_keeps_files_when_the_step_fails(demo, app):
    """The files go only when the step commits: a rolled-back withdrawal leaves the row and the file."""
    import hashlib

    from casework.attachments import operations as att_ops
    case = new_case("aid", demo["worker1"])
    blob = b"%PDF-1.4 test"
    stored = att_ops._write(blob)
    att = Attachment(case_id=case.id, doc_type="income_proof", original_name="证明.pdf", stored_name=stored,
                     content_type="application/pdf", size=len(blob), sha256=hashlib.sha256(blob).hexdigest(),
                     uploaded_by_id=demo["worker1"].id)
    _db.session.add(att)
    _db.session.commit()
    from casework.storage import store
    assert store().exists(stored)
    assert att_ops.erase_for(case) == 1
    _db.session.rollback()
    assert store().exists(stored) and _db.session.get(Attachment, att.id) is not None
    assert att_ops.erase_for(case) == 1
    _db.session.commit()
    assert not store().exists(stored) and _db.session.get(Attachment, att.id) is None
