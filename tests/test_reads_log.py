"""The reads log (PIPL art. 28 sensitive information; 等保 audit of reads): each view or download of an aid
request's sensitive parts writes one hash-chained entry, refused attempts too; staff and the applicant see
"accessed by"; an edited entry breaks the chain and `verify-audit` says so."""
from __future__ import annotations

from sqlalchemy import select, text

from casework.extensions import db as _db
from casework.privacy.models import AccessEntry, verify_access_chain

from .factories import aid_to, new_case


def entries(case) -> list[AccessEntry]:
    _db.session.expire_all()
    return _db.session.scalars(select(AccessEntry).where(AccessEntry.case_id == case.id)
                               .order_by(AccessEntry.seq)).all()


def test_each_sensitive_view_writes_one_entry(demo, web):
    case = new_case("aid", demo["worker1"])
    web.login("staff1")
    assert entries(case) == []
    page = web.get(f"/cases/aid/{case.id}")
    assert page.status_code == 200
    [one] = entries(case)
    assert (one.actor_label, one.what, one.allowed, one.seq) == ("staff1", "details", True, 1)
    assert one.address == "127.0.0.1"
    web.get(f"/cases/aid/{case.id}")
    assert [e.seq for e in entries(case)] == [1, 2]  # every view, not once per person
    # Pages that do not show the sensitive parts write nothing.
    web.get("/cases")
    web.get("/work")
    assert len(entries(case)) == 2


def test_the_payee_view_and_other_kinds_write_nothing(demo, web):
    case = aid_to(demo, "posting")
    before = len(entries(case))
    web.login("fund1")  # the fund manager sees amount and payee only
    assert web.get(f"/cases/aid/{case.id}").status_code == 200
    assert len(entries(case)) == before
    proposal = new_case("proposal", demo["worker1"])
    web.get(f"/cases/proposal/{proposal.id}")
    assert _db.session.scalar(select(AccessEntry).where(AccessEntry.case_id == proposal.id)) is None


def test_refused_attempts_are_logged(demo, web):
    case = new_case("aid", demo["worker1"])
    web.login("worker2")
    assert web.get(f"/cases/aid/{case.id}").status_code == 404
    [refused] = entries(case)
    assert (refused.actor_label, refused.allowed) == ("worker2", False)


def test_api_reads_attachments_and_exports(demo, web, api):
    case = aid_to(demo, "submitted")
    staff = api.as_("staff1")
    assert staff.get(f"/api/v1/cases/aid/{case.id}").status_code == 200
    from casework.core.models import Attachment
    [att_id] = _db.session.scalars(select(Attachment.id).where(Attachment.case_id == case.id)).all()
    web.login("staff1")
    web.get(f"/attachments/{att_id}")  # the factory's row has no file (404 "missing"), but it was asked for
    web.get("/export/cases.csv").get_data()
    kinds = [e.what for e in entries(case)]
    assert kinds == ["details", "attachment:income_proof.pdf", "export"]
    stranger = api.as_("worker2")
    assert stranger.get(f"/api/v1/cases/aid/{case.id}").status_code == 404
    assert entries(case)[-1].allowed is False


def test_accessed_by_for_staff_and_applicant_only(demo, web, api, client):
    case = new_case("aid", demo["worker1"])
    web.login("staff1")
    body = web.get(f"/cases/aid/{case.id}").get_data(as_text=True)
    assert 'id="reads"' in body and "刘芳" in body  # the view itself is the first entry
    web.post("/logout", {}, form_page="/")
    web.login("worker1")
    body = web.get(f"/cases/aid/{case.id}").get_data(as_text=True)
    assert 'id="reads"' in body and "刘芳" in body and "张建国" in body
    log = api.as_("worker1").get(f"/api/v1/cases/aid/{case.id}/access-log").get_json()
    assert log["intact"] and [i["who"] for i in log["items"]] == ["staff1", "worker1"]
    assert all(len(i["hash"]) == 64 for i in log["items"])
    assert api.as_("committee1").get(f"/api/v1/cases/aid/{case.id}/access-log").status_code == 403
    assert api.as_("worker2").get(f"/api/v1/cases/aid/{case.id}/access-log").status_code == 404


def test_admin_page_export_and_an_edited_entry_breaks_the_chain(demo, web, app):
    case = new_case("aid", demo["worker1"])
    web.login("staff1")
    web.get(f"/cases/aid/{case.id}")
    web.get(f"/cases/aid/{case.id}")
    web.post("/logout", {}, form_page="/")
    web.login("admin")
    page = web.get("/admin/access-log?check=1").get_data(as_text=True)
    assert case.number in page and "刘芳" in page and ("intact" in page or "完好" in page)
    csv = web.get("/admin/access-log?format=csv&user=staff1").get_data(as_text=True)
    assert csv.count(case.number) == 2
    assert web.get("/admin/access-log?from=yesterday").status_code == 200  # a bad date is said, not a 500
    runner = app.test_cli_runner()
    assert runner.invoke(args=["casework", "verify-audit"]).exit_code == 0
    # Someone with database access rewrites who read it.
    _db.session.execute(text("UPDATE access_entries SET actor_label = 'nobody' WHERE seq = 1 AND case_id = :c"),
                        {"c": case.id})
    _db.session.commit()
    ok, seq = verify_access_chain(f"case:{case.id}")
    assert not ok and seq == 1
    r = runner.invoke(args=["casework", "verify-audit"])
    assert r.exit_code == 1 and f"reads log case:{case.id}" in r.output
    page = web.get("/admin/access-log?check=1").get_data(as_text=True)
    assert f"case:{case.id}" in page
    # Non-admins do not see the whole log.
    web.post("/logout", {}, form_page="/")
    web.login("staff1")
    assert web.get("/admin/access-log").status_code == 403
