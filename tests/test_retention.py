"""Retention and deletion (PIPL art. 47): after its category's period a closed aid request is anonymised by the
sweep, exactly once; nothing of its sensitive content is left in any table, the upload folder, an export or a
notice printed again, while the statistics, the annual report, the ledger and every hash chain are unchanged.
A legal hold stops it, a dry run writes nothing, and the reads log is purged after its period from an anchor."""
from __future__ import annotations

import hashlib
import io
import json
import re
from datetime import date, timedelta

import pdfplumber
import pytest

from casework.storage import store
from sqlalchemy import func, select

from casework.aid.models import AidRequest
from casework.attachments import operations as att_ops
from casework.clock import today, utcnow
from casework.core import settings
from casework.core.models import Attachment, AuditEntry, verify_chain
from casework.extensions import db
from casework.funds.models import Fund, LedgerEntry
from casework.notices.models import Notice
from casework.privacy import retention
from casework.privacy.models import AccessAnchor, AccessEntry, chains, verify_access_chain
from casework.scheduler.sweep import run_due

from .factories import aid_to, end_posting_now, fire, post_on_board

CIRCUMSTANCES = "爱人重病，家庭收入微薄"
CAUSE = "爱人患病，子女上学"
FINDINGS = "住房漏雨三处，药费单据齐全"
VISIT_NOTE = "女儿患有先天性心脏病"
VOTE_REASON = "化疗费用负担重，同意"
FILE_NAME = "协和医院诊断书-肺癌.pdf"
FILE_TEXT = "病理诊断：肺腺癌"
SENSITIVE = (CIRCUMSTANCES, CAUSE, FINDINGS, VISIT_NOTE, VOTE_REASON, FILE_NAME, FILE_TEXT)


def _closed_case(demo, objection: str | None = None, answer: str = "经再次走访核实，情况属实"):
    """A closed aid request with a file, a visit and votes; with `objection`, one made on the board during
    its posting and dismissed with `answer`."""
    case = aid_to(demo, "verifying", circumstances=CIRCUMSTANCES,
                  details={"household_size": 4, "monthly_income": "2100.00", "cause": CAUSE})
    blob = f"%PDF-1.4 {FILE_TEXT}".encode()
    stored = att_ops._write(blob)
    db.session.add(Attachment(case_id=case.id, doc_type="medical_bills", original_name=FILE_NAME,
                              stored_name=stored, content_type="application/pdf", size=len(blob),
                              sha256=hashlib.sha256(blob).hexdigest(), uploaded_by_id=demo["worker1"].id))
    db.session.commit()
    fire(case, "record_visit", demo["staff1"], comment=VISIT_NOTE, visited_on=today().isoformat(),
         visitors=["staff1", "leader1"], findings=FINDINGS)
    fire(case, "verify", demo["staff1"], proposed_amount="2000.00")
    for i in (1, 2, 3):
        fire(case, "approve", demo[f"committee{i}"], comment=VOTE_REASON, amount="2000.00")
    if objection:
        from casework.disclosure import operations as board
        batch = post_on_board(demo)
        board.object_to(next(i for i in batch.items if i.case_id == case.id), objection, True, None)
        db.session.commit()
        for i in (1, 2, 3):
            fire(case, "dismiss_objection", demo[f"committee{i}"], answer=answer)
    end_posting_now(demo, case)
    fire(case, "disburse", demo["fund1"], method="bank_transfer", reference="BT-20261125-1")
    fire(case, "confirm_receipt", demo["worker1"])
    assert case.state == "closed"
    return case, stored


def _read(web, case, who):
    web.login(who)
    assert web.get(f"/cases/aid/{case.id}").status_code == 200
    web.post("/logout", {}, form_page=f"/cases/aid/{case.id}")


def _dump() -> str:
    """Every text and JSON value of every table, one string."""
    out = []
    for table in db.metadata.sorted_tables:
        for row in db.session.execute(select(table)).mappings():
            for value in row.values():
                if isinstance(value, (dict, list)):
                    out.append(json.dumps(value, ensure_ascii=False))
                elif isinstance(value, str):
                    out.append(value)
    db.session.rollback()
    return "\n".join(out)


def _figures(unit):
    from casework.stats.queries import Scope, compute
    from casework.stats.reports import annual_values, year_scope
    fund = db.session.scalar(select(Fund).where(Fund.code == "AID"))
    ledger = [(e.kind, e.amount, e.case_id, e.method, e.reference) for e in db.session.scalars(
        select(LedgerEntry).order_by(LedgerEntry.id))]
    return {"stats": compute(Scope(unit, date(2026, 1, 1), date(2026, 12, 31))),
            "annual": annual_values("aid", year_scope(unit, 2026)),
            "fund": (fund.balance, fund.reserved), "ledger": ledger}


def _pdf_text(pdf: bytes) -> str:
    with pdfplumber.open(io.BytesIO(pdf)) as doc:
        return re.sub(r"\s+", "", "".join(page.extract_text() or "" for page in doc.pages))


def _after(case, years=5, days=1):
    return f"{(case.state_entered_at + timedelta(days=365 * years + 2 + days)).date().isoformat()} 09:00 +08:00"


def test_after_the_period_nothing_sensitive_is_left_and_the_figures_stay(demo, app, web, clock):
    case, stored = _closed_case(demo)
    _read(web, case, "worker1")
    _read(web, case, "staff1")
    unit = case.unit
    before = _figures(unit)
    dump = _dump()
    assert [s for s in SENSITIVE if s not in dump] == [FILE_TEXT]  # the file's words are in the file
    assert FILE_TEXT.encode() in store().get(stored)
    name = demo["worker1"].name
    assert db.session.scalars(select(Notice).where(Notice.case_id == case.id)).all()
    db.session.rollback()

    # Not yet: the day before the period ends the sweep leaves it alone.
    clock.move_to(_after(case, days=-3))
    run_due(parts=("tasks",))
    db.session.expire_all()
    assert db.session.get(AidRequest, case.id).anonymised_at is None

    clock.move_to(_after(case))
    run_due(parts=("tasks",))
    db.session.expire_all()
    case = db.session.get(AidRequest, case.id)
    assert case.anonymised_at is not None and case.applicant.username.startswith("anon-")
    assert case.applicant_id != demo["worker1"].id and case.created_by_id != demo["worker1"].id
    # Exactly once: a second run finds nothing and writes no second anonymise entry.
    run_due(parts=("tasks",))
    assert db.session.scalar(select(func.count()).select_from(AuditEntry).where(
        AuditEntry.case_id == case.id, AuditEntry.trigger == "anonymise")) == 1

    dump = _dump()
    assert not [s for s in SENSITIVE if s in dump]
    assert db.session.scalar(select(func.count()).select_from(Attachment).where(Attachment.case_id == case.id)) == 0
    assert not store().exists(stored)
    assert not [k for k in store().keys() if FILE_TEXT.encode() in (store().get(k) or b"")]
    # No row links the person to the case any more.
    worker = demo["worker1"].id
    assert db.session.scalar(select(func.count()).select_from(AuditEntry).where(
        AuditEntry.case_id == case.id, AuditEntry.actor_id == worker)) == 0
    assert db.session.scalar(select(func.count()).select_from(AccessEntry).where(
        AccessEntry.case_id == case.id, AccessEntry.user_id == worker)) == 0
    trail = json.dumps([e.payload() for e in db.session.scalars(select(AuditEntry).where(
        AuditEntry.case_id == case.id))], ensure_ascii=False)
    assert "worker1" not in trail and name not in trail

    # The figures, the ledger and every chain are as they were.
    assert _figures(unit) == before
    assert verify_chain(case.id) == (True, None)
    assert all(verify_access_chain(c)[0] for c in chains())
    out = app.test_cli_runner().invoke(args=["casework", "verify-audit"])
    assert out.exit_code == 0, out.output

    # Printed again, the notices carry the pseudonym and nothing else of the person; exports neither.
    for notice in db.session.scalars(select(Notice).where(Notice.case_id == case.id)):
        text = _pdf_text(notice.pdf)
        assert name not in text and case.applicant.name in text
        assert notice.sha256 == hashlib.sha256(notice.pdf).hexdigest()
    web.login("staff1")
    export = web.get("/export/cases.csv?kind=aid").get_data(as_text=True)
    assert case.number in export and not [s for s in SENSITIVE if s in export] and name not in export.split(
        case.number)[1].splitlines()[0]
    page = web.get(f"/cases/aid/{case.id}").get_data(as_text=True)
    assert "匿名化" in page.split('id="retention"')[1] and name not in page


def test_a_legal_hold_stops_it_until_lifted(demo, app, web, clock):
    case, _stored = _closed_case(demo)
    with pytest.raises(Exception):
        fire(case, "place_hold", demo["staff1"])  # a reason is required
    db.session.rollback()
    fire(case, "place_hold", demo["staff1"], comment="劳动争议仲裁中，需保全证据")
    assert case.hold_reason and case.hold_by.username == "staff1"
    web.login("staff1")
    assert "劳动争议仲裁中" in web.get(f"/cases/aid/{case.id}").get_data(as_text=True)
    clock.move_to(_after(case))
    run_due(parts=("tasks",))
    db.session.expire_all()
    case = db.session.get(AidRequest, case.id)
    assert case.anonymised_at is None and case.circumstances == CIRCUMSTANCES
    assert [p.number for p in retention.plan(today())] == []
    fire(case, "lift_hold", demo["staff1"], comment="仲裁已结案")
    run_due(parts=("tasks",))
    db.session.expire_all()
    assert db.session.get(AidRequest, case.id).anonymised_at is not None


def test_the_hold_through_the_api(demo, api):
    case, _stored = _closed_case(demo)
    staff = api.as_("staff1")
    r = staff.post(f"/api/v1/cases/aid/{case.id}/hold", json={"reason": "纪检调查"})
    assert r.status_code == 200 and r.get_json()["hold"]["reason"] == "纪检调查"
    again = staff.post(f"/api/v1/cases/aid/{case.id}/hold", json={"reason": "再次"})
    assert again.status_code == 422
    got = staff.get(f"/api/v1/cases/aid/{case.id}/retention").get_json()
    assert got["hold"]["by"] == "staff1" and got["anonymised_at"] is None and got["due_on"]
    assert api.as_("worker1").post(f"/api/v1/cases/aid/{case.id}/hold", json={"reason": "x"}).status_code == 403
    empty = staff.delete(f"/api/v1/cases/aid/{case.id}/hold", json={})
    assert empty.status_code == 422
    lifted = staff.delete(f"/api/v1/cases/aid/{case.id}/hold", json={"reason": "调查结束"})
    assert lifted.status_code == 200 and lifted.get_json()["hold"] is None


def test_dry_run_writes_nothing_and_lists_what_would_go(demo, app, clock):
    case, _stored = _closed_case(demo)
    runner = app.test_cli_runner()
    day = (case.state_entered_at + timedelta(days=365 * 5 + 3)).date().isoformat()
    before = _dump()
    out = runner.invoke(args=["casework", "retention", "--dry-run", "--at", day])
    assert out.exit_code == 0, out.output
    assert case.number in out.output and "attachment" in out.output and "nothing changed" in out.output
    assert _dump() == before
    early = runner.invoke(args=["casework", "retention", "--dry-run", "--at", today().isoformat()])
    assert case.number not in early.output
    # Looking ahead changes nothing: without --dry-run a future day is refused.
    ahead = runner.invoke(args=["casework", "retention", "--at", day])
    assert ahead.exit_code != 0 and "future" in ahead.output and _dump() == before
    clock.move_to(_after(case))
    done = runner.invoke(args=["casework", "retention"])
    assert done.exit_code == 0 and "1 request(s) anonymised" in done.output


@pytest.mark.parametrize("bad", ["2031-13-01", "tomorrow", "31.12.2031", ""])
def test_bad_dates_get_a_clear_message(app, bad):
    out = app.test_cli_runner().invoke(args=["casework", "retention", "--dry-run", "--at", bad])
    assert out.exit_code == 1 and "YYYY-MM-DD" in out.output and "Traceback" not in out.output


def test_reads_log_purged_after_its_period_and_the_chain_still_verifies(demo, app, web, clock):
    case = aid_to(demo, "submitted")
    _read(web, case, "staff1")
    _read(web, case, "worker1")
    chain = f"case:{case.id}"
    kept_from = db.session.scalar(select(func.max(AccessEntry.seq)).where(AccessEntry.chain == chain))
    clock.move_to(f"{(today() + timedelta(days=200)).isoformat()} 09:00 +08:00")
    _read(web, case, "staff1")  # a later read: kept
    assert retention.purge_reads(utcnow()) == 0
    clock.move_to(f"{(today() + timedelta(days=200)).isoformat()} 09:00 +08:00")
    run_due(parts=("tasks",))
    db.session.expire_all()
    anchor = db.session.get(AccessAnchor, chain)
    assert anchor is not None and anchor.seq == kept_from
    seqs = db.session.scalars(select(AccessEntry.seq).where(AccessEntry.chain == chain)).all()
    assert min(seqs) == kept_from + 1
    assert verify_access_chain(chain) == (True, None)
    _read(web, case, "staff1")  # the chain goes on
    assert verify_access_chain(chain) == (True, None)
    assert app.test_cli_runner().invoke(args=["casework", "verify-audit"]).exit_code == 0
    # A kept entry changed still breaks it.
    table = AccessEntry.__table__
    db.session.execute(table.update().where(table.c.chain == chain, table.c.seq == kept_from + 1)
                       .values(what="export"))
    db.session.commit()
    assert verify_access_chain(chain)[0] is False


def test_the_reads_log_period_refuses_less_than_six_months(app):
    with app.test_request_context():
        with pytest.raises(ValueError, match="6"):
            settings.parse_value("reads_log_retention_months", "5")
        assert settings.parse_value("reads_log_retention_months", "6") == 6


def test_a_cleared_entry_changed_breaks_the_chain(demo, clock):
    case, _stored = _closed_case(demo)
    clock.move_to(_after(case))
    run_due(parts=("tasks",))
    db.session.expire_all()
    assert verify_chain(case.id) == (True, None)
    visit = db.session.scalar(select(AuditEntry).where(AuditEntry.case_id == case.id,
                                                       AuditEntry.trigger == "record_visit"))
    table = AuditEntry.__table__
    db.session.execute(table.update().where(table.c.id == visit.id).values(to_state="closed"))
    db.session.commit()
    assert verify_chain(case.id) == (False, visit.seq)


def test_the_admin_page_lists_what_the_next_sweep_would_anonymise_and_the_holds(demo, web):
    case, _stored = _closed_case(demo)
    other, _ = _closed_case(demo)
    fire(other, "place_hold", demo["staff1"], comment="审计署抽查")
    web.login("admin")
    day = (case.state_entered_at + timedelta(days=365 * 5 + 3)).date().isoformat()
    page = web.get(f"/admin/retention?at={day}").get_data(as_text=True)
    planned = page.split('id="planned"')[1].split('id="holds"')[0]
    holds = page.split('id="holds"')[1]
    assert case.number in planned and other.number not in planned
    assert other.number in holds and "审计署抽查" in holds
    bad = web.get("/admin/retention?at=2031-02-30")
    assert bad.status_code == 422 and "YYYY-MM-DD" in bad.get_data(as_text=True)
    web.post("/logout", {}, form_page="/admin/retention")
    web.login("worker1")
    assert web.get("/admin/retention").status_code in (302, 403)


def test_staff_place_a_hold_on_the_case_page(demo, web):
    case, _stored = _closed_case(demo)
    web.login("staff1")
    page = web.get(f"/cases/aid/{case.id}").get_data(as_text=True)
    assert f"/cases/aid/{case.id}/do/place_hold" in page and "设置法律保全" in page
    path = f"/cases/aid/{case.id}/do/place_hold"
    empty = web.post(path, {"place_hold-version": case.version, "place_hold-comment": ""},
                     form_page=f"/cases/aid/{case.id}")
    assert empty.status_code == 422
    r = web.post(path, {"place_hold-version": case.version, "place_hold-comment": "纪检监察调阅"},
                 form_page=f"/cases/aid/{case.id}")
    assert r.status_code in (302, 303)
    page = web.get(f"/cases/aid/{case.id}").get_data(as_text=True)
    assert "纪检监察调阅" in page.split('id="retention"')[1] and "解除法律保全" in page
    trail = db.session.scalars(select(AuditEntry.trigger).where(AuditEntry.case_id == case.id)).all()
    assert trail[-1] == "place_hold"


OBJECTION = "他家上月刚买了宝马车，并不困难"
OBJECTION_ANSWER = "经再次走访核实，宝马车系亲戚借用"
REPORT = "公示的病情与实际不符，其爱人已于去年康复"


def test_objections_and_reports_about_the_case_forget_it_and_the_counts_stay(demo, app, clock):
    from casework.disclosure import operations as board
    from casework.disclosure.models import Disclosure, DisclosureItem, Objection
    from casework.stats.queries import Scope, objections
    case, _stored = _closed_case(demo, objection=OBJECTION, answer=OBJECTION_ANSWER)
    name = demo["worker1"].name
    posting = db.session.scalar(select(Disclosure).join(DisclosureItem).where(DisclosureItem.case_id == case.id))
    unit = posting.unit
    about_posting = board.report(unit, f"第1项{name}：{REPORT}", True, None, posting, contact="13811112222")
    naming = board.report(unit, f"{case.number}（{name}）{CIRCUMSTANCES}系编造", False, demo["worker3"])
    unrelated = board.report(unit, "食堂账目长期不公开", True, None)
    elsewhere = board.report(demo["worker2"].unit, f"{name}班组的值班安排不合理", True, None)  # not above the case
    assert demo["worker2"].unit_id not in case.unit.ancestor_ids()
    db.session.commit()
    board.answer_report(about_posting, demo["staff1"], f"已核实：{REPORT}不属实", substantiated=False, reward=None)
    db.session.commit()
    codes = {about_posting.id: about_posting.tracking_code, naming.id: naming.tracking_code}
    words = (OBJECTION, OBJECTION_ANSWER, REPORT, "13811112222", CIRCUMSTANCES)
    assert not [w for w in words if w not in _dump()]
    scope = Scope(unit, date(2026, 1, 1), date(2026, 12, 31))
    counts = objections(scope)
    total = db.session.scalar(select(func.count()).select_from(Objection))

    clock.move_to(_after(case))
    run_due(parts=("tasks",))
    db.session.expire_all()
    assert db.session.get(AidRequest, case.id).anonymised_at is not None
    dump = _dump()
    assert not [w for w in words if w in dump]
    rows = db.session.scalars(select(Objection).where(Objection.id.in_(codes))).all()
    assert {r.id: r.tracking_code for r in rows} == codes  # the codes still follow them
    assert not [r for r in rows if name in r.text or case.number in r.text]
    objected = db.session.scalar(select(Objection).where(Objection.kind == "objection"))
    assert objected.status == "answered" and OBJECTION not in objected.text and objected.text.startswith("⟦cleared:")
    assert naming.user_id == demo["worker3"].id  # the reporter's own record of having reported stays theirs
    assert db.session.get(Objection, unrelated.id).text == "食堂账目长期不公开"
    assert db.session.get(Objection, elsewhere.id).text == f"{name}班组的值班安排不合理"
    assert db.session.scalar(select(func.count()).select_from(Objection)) == total
    assert objections(scope) == counts and counts
    assert verify_chain(case.id) == (True, None)
    out = app.test_cli_runner().invoke(args=["casework", "verify-audit"])
    assert out.exit_code == 0, out.output


def test_reads_of_an_attachment_and_the_applicants_own_reads_still_verify_once_cleared(demo, app, web, clock):
    case, _stored = _closed_case(demo)
    att = db.session.scalar(select(Attachment).where(Attachment.case_id == case.id,
                                                     Attachment.original_name == FILE_NAME))
    _read(web, case, "worker1")
    web.login("staff1")
    assert web.get(f"/attachments/{att.id}").status_code == 200
    web.post("/logout", {}, form_page=f"/cases/aid/{case.id}")
    settings.put(case.unit, "reads_log_retention_months", 600)  # kept past the case: no purge hides them
    db.session.commit()
    chain = f"case:{case.id}"
    assert FILE_NAME in [e.what.partition(":")[2] for e in db.session.scalars(
        select(AccessEntry).where(AccessEntry.chain == chain))]
    clock.move_to(_after(case))
    run_due(parts=("tasks",))
    db.session.expire_all()
    assert db.session.get(AidRequest, case.id).anonymised_at is not None
    assert FILE_NAME not in _dump()
    kept = db.session.scalars(select(AccessEntry).where(AccessEntry.chain == chain)
                              .order_by(AccessEntry.seq)).all()
    assert [e.user_id == demo["worker1"].id for e in kept] == [False] * len(kept) and len(kept) >= 3
    anon = db.session.get(AidRequest, case.id).applicant_id
    assert [e.address for e in kept if e.user_id == anon] == ["", ""]  # theirs: no address left either
    assert verify_access_chain(chain) == (True, None)
    out = app.test_cli_runner().invoke(args=["casework", "verify-audit"])
    assert out.exit_code == 0, out.output
    web.login("staff1")
    reads = web.get(f"/cases/aid/{case.id}").get_data(as_text=True).split('id="reads"')[1].split("</section>")[0]
    assert "附件：（申请匿名化时已删除）" in reads and FILE_NAME not in reads and "⟦cleared" not in reads
    # A cleared entry changed afterwards still breaks the chain.
    table = AccessEntry.__table__
    db.session.execute(table.update().where(table.c.chain == chain, table.c.seq == kept[0].seq)
                       .values(user_id=demo["worker1"].id))
    db.session.commit()
    assert verify_access_chain(chain) == (False, kept[0].seq)
