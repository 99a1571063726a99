"""The yearly upward report (年度上报): B2 (a branch union of the demo) reports to HQ. Its committee member
committee3 drafts and submits it; HQ's staff (staff1) accept it or return it with a reason."""
from __future__ import annotations

import csv
import io

import pytest
from sqlalchemy import select, text

from casework.accounts.models import RoleAssignment, Unit, User
from casework.core import engine
from casework.core.errors import Conflict, Forbidden, Invalid, NotFound
from casework.core.models import entries_of, verify_chain
from casework.extensions import db as _db
from casework.notifications.models import Notification
from casework.stats import reports
from casework.upward import operations as ops
from casework.upward.models import UpwardReport
from tests.factories import attach, fire, new_case

YEAR = 2026


def _unit(code) -> Unit:
    return _db.session.scalar(select(Unit).where(Unit.code == code))


def _person(username, role, unit_code) -> User:
    """A person holding `role` at one unit only (a branch's own staff)."""
    user = User(username=username, name=username, unit=_unit(unit_code), active=True)
    user.set_password("demo-password")
    _db.session.add(user)
    _db.session.flush()
    _db.session.add(RoleAssignment(user=user, role=role, unit=_unit(unit_code)))
    _db.session.commit()
    return user


def _draft(demo, unit="B2", by="committee3", summary="全年走访困难职工，按时办结。") -> UpwardReport:
    report = ops.draft(demo[by], {"unit": _unit(unit).id, "year": YEAR, "summary": summary})
    _db.session.commit()
    return report


def _submitted(demo) -> UpwardReport:
    report = _draft(demo)
    engine.fire(report, "submit", demo["committee3"])
    _db.session.commit()
    return report


def _notes_since(before: int) -> list[Notification]:
    return _db.session.scalars(select(Notification).where(Notification.id > before)).all()


def _last_note() -> int:
    return _db.session.scalar(select(Notification.id).order_by(Notification.id.desc()).limit(1)) or 0


def test_submit_freezes_the_annual_figures_and_the_upper_union_accepts(demo, db):
    case = new_case("aid", demo["worker1"])  # worker1 is in G21, under B2
    attach(case, "income_proof", demo["worker1"])
    fire(case, "submit", demo["worker1"])
    db.session.commit()
    report = _draft(demo)
    assert report.status == "draft" and report.upper_unit.code == "HQ" and report.figures is None
    engine.fire(report, "submit", demo["committee3"], version=report.version)
    db.session.commit()
    scope = reports.year_scope(_unit("B2"), YEAR)
    assert report.status == "submitted" and report.submissions == 1
    assert report.figures == {k: reports.annual_values(k, scope) for k in ("aid", "proposal", "motion")}
    assert report.figures["aid"]["cases_total"] == 1
    # Frozen: a case added afterwards changes the annual report, not the submitted figures.
    later = new_case("aid", demo["worker1"])
    attach(later, "income_proof", demo["worker1"])
    fire(later, "submit", demo["worker1"])
    db.session.commit()
    assert reports.annual_values("aid", scope)["cases_total"] == 2
    assert report.figures["aid"]["cases_total"] == 1 and ops.figures_intact(report)
    assert engine.available(report, demo["staff1"]) == ["accept_report", "return_report"]
    engine.fire(report, "accept_report", demo["staff1"])
    db.session.commit()
    assert report.status == "accepted" and report.reviewed_by.username == "staff1"
    assert [e.trigger for e in db.session.scalars(entries_of(report))] == ["create", "submit", "accept_report"]
    assert verify_chain(report) == (True, None)


def test_the_upper_unions_figures_are_the_exact_sums_of_its_children(demo, db):
    for worker in ("worker1", "worker3"):  # G21 under B2, G11 under B1
        case = new_case("aid", demo[worker])
        attach(case, "income_proof", demo[worker])
        fire(case, "submit", demo[worker])
    db.session.commit()
    hq = reports.annual_values("aid", reports.year_scope(_unit("HQ"), YEAR))
    parts = [reports.annual_values("aid", reports.year_scope(_unit(c), YEAR)) for c in ("B1", "B2")]
    assert hq["cases_total"] == sum(p["cases_total"] for p in parts) == 2
    assert hq["granted_total"] == {k: sum(p["granted_total"][k] for p in parts) for k in ("count", "amount")}


def test_who_may_draft_submit_and_review(demo, db):
    # The top union has nobody to report to; the upper union's staff do not draft for the union below.
    with pytest.raises(Forbidden):
        ops.draft(demo["committee3"], {"unit": _unit("HQ").id, "year": YEAR})
    with pytest.raises(Forbidden):
        ops.draft(demo["staff1"], {"unit": _unit("B2").id, "year": YEAR})
    with pytest.raises(Forbidden):
        ops.draft(demo["worker1"], {"unit": _unit("B2").id, "year": YEAR})
    with pytest.raises(NotFound):
        ops.draft(demo["committee3"], {"unit": 999999, "year": YEAR})
    with pytest.raises(Invalid) as bad_year:
        ops.draft(demo["committee3"], {"unit": _unit("B2").id, "year": "明年"})
    assert "year" in bad_year.value.fields
    db.session.rollback()
    report = _draft(demo)
    with pytest.raises(Conflict):
        ops.draft(demo["committee3"], {"unit": _unit("B2").id, "year": YEAR})
    db.session.rollback()
    # Not offered to the upper union's staff, and refused when tried.
    assert engine.available(report, demo["staff1"]) == []
    with pytest.raises(Invalid) as refused:
        engine.fire(report, "submit", demo["staff1"])
    assert refused.value.code == "guard"
    db.session.rollback()
    engine.fire(report, "submit", demo["committee3"])
    db.session.commit()
    # The union's own side does not review it; neither does a sibling union's staff, who cannot even see it.
    with pytest.raises(Forbidden):
        engine.fire(report, "accept_report", demo["committee3"])
    db.session.rollback()
    b1_staff = _person("b1staff", "union_staff", "B1")
    b2_staff = _person("b2staff", "union_staff", "B2")
    with pytest.raises(NotFound):
        ops.load(report.id, b1_staff)
    with pytest.raises(Forbidden):
        engine.fire(report, "accept_report", b1_staff)
    db.session.rollback()
    with pytest.raises(Forbidden):
        engine.fire(report, "accept_report", b2_staff)  # B2's own staff: not the upper union
    db.session.rollback()
    assert ops.load(report.id, b2_staff) is report
    assert ops.inbox(b2_staff) == [] and ops.outbox(b2_staff) == [report]
    assert ops.inbox(demo["staff1"]) == [report] and ops.outbox(demo["staff1"]) == []


def test_who_drafted_it_never_reviews_it(demo, db):
    report = _submitted(demo)
    # committee3 later becomes HQ staff: still not the reviewer of the report they submitted (回避).
    db.session.add(RoleAssignment(user=demo["committee3"], role="union_staff", unit=_unit("HQ")))
    db.session.commit()
    with pytest.raises(Forbidden) as refused:
        engine.fire(report, "accept_report", demo["committee3"])
    assert refused.value.code == "conflict_of_interest"


def test_return_with_a_reason_correct_and_resubmit(demo, db):
    report = _submitted(demo)
    with pytest.raises(Invalid) as no_reason:
        engine.fire(report, "return_report", demo["staff1"], {"reason": "  "})
    assert "reason" in no_reason.value.fields
    db.session.rollback()
    before = _last_note()
    engine.fire(report, "return_report", demo["staff1"], {"reason": "走访人数与台账不符，请核实后重报。"},
                version=report.version)
    db.session.commit()
    assert report.status == "returned" and report.return_reason == "走访人数与台账不符，请核实后重报。"
    told = _notes_since(before)
    assert [n.user.username for n in told] == ["committee3"]
    assert "走访人数与台账不符" in told[0].body and "生产车间分会" in told[0].subject
    # Corrected by the union's own side; the upper union's staff cannot correct it.
    with pytest.raises(Forbidden):
        ops.correct(report, demo["staff1"], {"summary": "改"})
    db.session.rollback()
    with pytest.raises(Conflict):
        ops.correct(report, demo["committee3"], {"summary": "改"}, version=report.version - 1)
    db.session.rollback()
    ops.correct(report, demo["committee3"], {"summary": "已核实走访台账：全年走访36人次。"}, version=report.version)
    db.session.commit()
    before = _last_note()
    engine.fire(report, "submit", demo["committee3"])
    db.session.commit()
    assert report.status == "submitted" and report.submissions == 2 and report.return_reason == ""
    assert [n.user.username for n in _notes_since(before)] == ["staff1"]
    before = _last_note()
    engine.fire(report, "accept_report", demo["staff1"])
    db.session.commit()
    assert [n.user.username for n in _notes_since(before)] == ["committee3"]
    trail = [e.trigger for e in db.session.scalars(entries_of(report))]
    assert trail == ["create", "submit", "return_report", "amend", "submit", "accept_report"]
    with pytest.raises(Conflict):  # accepted is final
        engine.fire(report, "return_report", demo["staff1"], {"reason": "再退"})


def test_a_stale_version_is_refused(demo, db):
    report = _submitted(demo)
    stale = report.version - 1
    with pytest.raises(Conflict):
        engine.fire(report, "accept_report", demo["staff1"], version=stale)


def _rows(body: str) -> list[list[str]]:
    return list(csv.reader(io.StringIO(body.lstrip("\ufeff"))))


README_COLUMNS = ["单位代码", "单位", "上级工会", "年度", "状态", "提交次数", "提交时间", "提交人", "审核时间", "审核人",
                  "退回理由", "救助申请（件）", "救助发放（件）", "救助发放金额（元）", "救助按时办结率", "异议（件）",
                  "举报（件）", "属实（件）", "走访（次）", "走访（人）", "建议征集（件）", "建议采纳（件）", "建议实施（件）",
                  "建议奖励金额（元）", "建议年效益（元）", "提案提交（件）", "提案立案（件）", "提案答复（件）",
                  "提案按时答复（件）"]


def test_export_layout_of_one_report_and_of_a_year(demo, db, web):
    from pathlib import Path
    report = _submitted(demo)
    engine.fire(report, "accept_report", demo["staff1"])
    db.session.commit()
    assert ops.export_headers() == README_COLUMNS
    readme = (Path(__file__).resolve().parent.parent / "README.md").read_text(encoding="utf-8")
    assert all(f"| {c} |" in readme for c in README_COLUMNS)
    web.login("staff1")
    one = web.get(f"/upward-reports/{report.id}/export.csv")
    assert one.status_code == 200 and one.mimetype == "text/csv"
    rows = _rows(one.get_data(as_text=True))
    assert rows[0] == README_COLUMNS and len(rows) == 2
    row = dict(zip(rows[0], rows[1]))
    assert row["单位代码"] == "B2" and row["年度"] == "2026" and row["提交人"] == "孙海涛"
    assert row["审核人"] == "刘芳" and row["状态"] == "上级已审核通过" and row["提交次数"] == "1"
    assert row["救助申请（件）"] == str(report.figures["aid"]["cases_total"])
    other = _draft(demo, unit="B1", by="committee1")
    engine.fire(other, "submit", demo["committee1"])
    db.session.commit()
    year = web.get(f"/upward-reports/year/{YEAR}/export.xlsx")
    from openpyxl import load_workbook
    sheet = load_workbook(io.BytesIO(year.get_data())).active
    values = [[c.value for c in r] for r in sheet.iter_rows()]
    assert values[0] == README_COLUMNS and [r[0] for r in values[1:]] == ["B1", "B2"]
    web.post("/logout", {}, form_page="/")
    web.login("committee3")  # not an upper union's staff: no year export
    assert web.get(f"/upward-reports/year/{YEAR}/export.csv").status_code == 403


def test_audit_trail_on_page_and_api_and_tampering_is_found(demo, db, web, api, app):
    report = _submitted(demo)
    out = api.as_("staff1").get(f"/api/v1/upward-reports/{report.id}/audit").get_json()
    assert out["intact"] is True and [i["trigger"] for i in out["items"]] == ["create", "submit"]
    assert all(len(i["hash"]) == 64 for i in out["items"])
    web.login("staff1")
    page = web.get(f"/upward-reports/{report.id}/audit").get_data(as_text=True)
    assert "哈希链完整" in page or "intact" in page
    runner = app.test_cli_runner()
    assert runner.invoke(args=["casework", "verify-audit"]).exit_code == 0
    db.session.execute(text("UPDATE audit_entries SET comment = 'forged' WHERE subject_kind = 'upward_report' "
                            "AND subject_id = :r AND seq = 2"), {"r": report.id})
    db.session.commit()
    assert verify_chain(report) == (False, 2)
    assert api.as_("staff1").get(f"/api/v1/upward-reports/{report.id}/audit").get_json()["intact"] is False
    r = runner.invoke(args=["casework", "verify-audit"])
    assert r.exit_code == 1 and report.label in r.output
    # Frozen figures changed behind the engine's back no longer match the digest in the chain.
    db.session.execute(text("UPDATE upward_reports SET figures = :f WHERE id = :r"), {"f": "{}", "r": report.id})
    db.session.commit()
    db.session.expire_all()
    assert not ops.figures_intact(db.session.get(UpwardReport, report.id))


def test_the_api_flow(demo, db, api):
    union, upper = api.as_("committee3"), api.as_("staff1")
    r = union.post("/api/v1/upward-reports", json={"unit": "B2", "year": YEAR, "summary": "年度总结"})
    assert r.status_code == 201, r.get_json()
    made = r.get_json()
    assert made["state"] == "draft" and made["transitions"] == ["submit"] and made["upper_unit_name"]
    assert union.post("/api/v1/upward-reports", json={"unit": "B2", "year": YEAR}).status_code == 409
    assert union.post("/api/v1/upward-reports", json={"unit": "HQ", "year": YEAR}).status_code == 403
    assert union.post("/api/v1/upward-reports", json={"unit": "B2", "year": 1990}).status_code == 422
    rid = made["id"]
    r = union.post(f"/api/v1/upward-reports/{rid}/transitions/submit", json={"version": made["version"]})
    assert r.status_code == 200 and r.get_json()["state"] == "submitted" and r.get_json()["figures"]["aid"]
    inbox = upper.get("/api/v1/upward-reports?box=inbox").get_json()["items"]
    assert [i["id"] for i in inbox] == [rid]
    assert inbox[0]["transitions"] == ["accept_report", "return_report"]
    assert upper.get("/api/v1/upward-reports?box=elsewhere").status_code == 400
    r = upper.post(f"/api/v1/upward-reports/{rid}/transitions/return_report", json={})
    assert r.status_code == 422
    r = upper.post(f"/api/v1/upward-reports/{rid}/transitions/return_report", json={"reason": "请补充说明"})
    assert r.get_json()["state"] == "returned" and r.get_json()["return_reason"] == "请补充说明"
    version = r.get_json()["version"]
    r = union.client.patch(f"/api/v1/upward-reports/{rid}", json={"summary": "已补充", "version": version},
                           headers={"Authorization": f"Bearer {union.token}"})
    assert r.status_code == 200 and r.get_json()["summary"] == "已补充"
    r = union.post(f"/api/v1/upward-reports/{rid}/transitions/submit", json={"version": version})
    assert r.status_code == 409  # the correction moved the version on
    r = union.post(f"/api/v1/upward-reports/{rid}/transitions/submit", json={})
    assert r.get_json()["submissions"] == 2
    assert upper.post(f"/api/v1/upward-reports/{rid}/transitions/accept_report", json={}).get_json()["state"] \
        == "accepted"
    assert api.as_("worker1").get(f"/api/v1/upward-reports/{rid}").status_code == 404
    csv_out = upper.get(f"/api/v1/upward-reports/year/{YEAR}/export.csv")
    assert _rows(csv_out.get_data(as_text=True))[0] == README_COLUMNS


def test_the_pages_of_both_sides(demo, db, web):
    web.login("committee3")
    page = web.get("/upward-reports").get_data(as_text=True)
    assert 'id="new-report"' in page and "生产车间分会" in page and 'id="inbox"' not in page
    bad = web.post("/upward-reports", {"unit": str(_unit("B2").id), "year": "去年", "summary": ""})
    assert bad.status_code == 422 and 'aria-invalid="true"' in bad.get_data(as_text=True)
    r = web.post("/upward-reports", {"unit": str(_unit("B2").id), "year": str(YEAR), "summary": "全年工作"})
    assert r.status_code == 302
    report = db.session.scalar(select(UpwardReport))
    view = web.get(f"/upward-reports/{report.id}").get_data(as_text=True)
    assert "/steps/submit" in view and "救助申请" in view
    web.post(f"/upward-reports/{report.id}/steps/submit", {"version": str(report.version)},
             form_page=f"/upward-reports/{report.id}")
    db.session.expire_all()
    assert db.session.get(UpwardReport, report.id).status == "submitted"
    web.post("/logout", {}, form_page="/")
    web.login("staff1")
    inbox = web.get("/upward-reports").get_data(as_text=True)
    assert 'id="inbox"' in inbox and f"/upward-reports/{report.id}" in inbox and 'id="new-report"' not in inbox
    view = web.get(f"/upward-reports/{report.id}").get_data(as_text=True)
    assert "/steps/accept_report" in view and "/steps/return_report" in view
    web.post(f"/upward-reports/{report.id}/steps/return_report",
             {"version": str(db.session.get(UpwardReport, report.id).version), "reason": "请补充"},
             form_page=f"/upward-reports/{report.id}")
    db.session.expire_all()
    assert db.session.get(UpwardReport, report.id).status == "returned"
    web.post("/logout", {}, form_page="/")
    web.login("worker1")
    assert web.get("/upward-reports").status_code == 403
    assert web.get(f"/upward-reports/{report.id}").status_code == 404
