"""The demo history (casework/demo_history.py): a year of casework replayed through the engine by
`flask casework demo`, so that the dashboard, the board, the queues and the ledgers have something to show."""
from __future__ import annotations

import io
import re
from datetime import date, timedelta

import pdfplumber
import pytest
from sqlalchemy import func, select

from casework import demo_history
from casework.accounts.models import Unit, User
from casework.clock import local, today, travel, utcnow
from casework.core.models import AuditEntry, Case, verify_chain
from casework.core.queries import work_queue
from casework.disclosure.masking import mask_name
from casework.disclosure.models import Disclosure
from casework.funds.models import Fund, LedgerEntry
from casework.funds.operations import ledger_balance
from casework.stats.queries import Scope, compute
from casework.stats.tables import charts, tables

SECTION_RE = re.compile(r'<section class="card" id="stats-(\w+)">(.*?)</section>', re.S)


def _private_texts() -> set[str]:
    """What applicants and visitors typed that must never reach the board: circumstances, findings and the
    category's details."""
    texts = set()
    for spec in demo_history.AID:
        texts |= {spec.circumstances.split("{")[0], spec.findings}
        texts |= {str(v) for k, v in spec.details.items()
                  if k in ("diagnosis", "hospital", "child_name", "cause", "school")}
    return {t for t in texts if t}


def _pdf_text(pdf: bytes) -> str:
    with pdfplumber.open(io.BytesIO(pdf)) as doc:
        return re.sub(r"\s+", "", "".join(page.extract_text() or "" for page in doc.pages))


def test_the_cli_loads_a_year_that_fills_dashboard_board_queues_and_ledgers(app, db, web):
    runner = app.test_cli_runner()
    out = runner.invoke(args=["casework", "demo"])
    assert out.exit_code == 0, out.output
    assert "19 users" in out.output and "demo history" in out.output and "aid requests" in out.output

    # Every kind at every stage the story promises: finished ones, and some now on someone's desk.
    states = {kind: {s for (s,) in db.session.execute(select(Case.state).where(Case.kind == kind).distinct())}
              for kind in ("aid", "proposal", "motion")}
    assert states["aid"] >= {"closed", "rejected", "posting", "approved", "pending_approval", "verifying",
                             "submitted", "draft"}
    assert states["proposal"] >= {"closed", "declined", "not_adopted", "rewarded", "implementing", "graded",
                                  "evaluating", "submitted"}
    assert states["motion"] >= {"closed", "merged", "not_filed", "handling", "submitted", "cosigning"}
    overdue = db.session.scalar(select(func.count()).select_from(Case).where(
        Case.kind == "proposal", Case.state == "implementing", Case.deadline < today()))
    assert overdue == 1
    # 督办: slips of every colour, from the sweep and from staff, one answered on the slip; progress notes.
    from casework.supervision.models import ProgressNote, Slip
    slips = db.session.scalars(select(Slip)).all()
    assert {s.colour for s in slips if s.status != "closed"} == {"blue", "yellow", "red"}
    assert {s.issued_by_id is None for s in slips} == {True, False}
    assert any(s.colour == "red" and s.status == "answered" for s in slips)
    assert db.session.scalar(select(func.count()).select_from(ProgressNote)) >= 5

    # The dashboard's default period (this year, the top unit) has numbers in every table.
    top = db.session.scalar(select(Unit).where(Unit.parent_id.is_(None)))
    stats = compute(Scope(top, date(today().year, 1, 1), date(today().year, 12, 31)))
    assert all(v for v in stats.values()), {k: v for k, v in stats.items() if not v}
    assert set(stats["aid"]["by_category"]) == {"hardship", "illness", "education", "holiday_visit"}
    assert len(stats["aid"]["by_month"]) >= 6
    assert set(stats["proposals"]["grades"]) >= {"excellent", "good", "general", "not_adopted"}
    assert stats["proposals"]["benefit"] > 0 and stats["motions"]["replied_on_time"] > 0
    assert set(stats["motions"]["satisfaction"]) >= {"satisfied", "basically_satisfied", "unsatisfied"}
    assert {r["kind"] for r in stats["objections"]} == {"objection", "report"}
    aid_steps = {r["state"] for r in stats["handling"] if r["kind"] == "aid"}
    assert aid_steps >= {"submitted", "verifying", "pending_approval", "posting", "disbursed"}

    # ... and so does the page, with a chart over each table that has one.
    web.login("staff1")
    page = web.get("/stats").get_data(as_text=True)
    sections = dict(SECTION_RE.findall(page))
    assert set(tables(stats)) <= set(sections)
    for name in tables(stats):
        assert "<tbody><tr>" in sections[name], name
    for name in charts(stats):
        assert "<svg" in sections[name], name
    cells = " ".join(re.findall(r"<td[^>]*>([^<]*)</td>", page))
    assert "困难帮扶" in cells  # the cells were found
    for code in ("not_adopted", "answered", "excellent", "satisfied", "hardship", "objection"):
        assert code not in cells, code  # every code shown as words

    # The audit chains hold; each fund's balance is its ledger's, with entries over many months.
    for case_id in db.session.scalars(select(Case.id)):
        assert verify_chain(case_id) == (True, None), case_id
    for fund in db.session.scalars(select(Fund)):
        assert ledger_balance(fund) == (fund.balance, fund.reserved)
        months = {local(at).strftime("%Y-%m") for at in db.session.scalars(
            select(LedgerEntry.at).where(LedgerEntry.fund_id == fund.id))}
        assert len(months) >= (6 if fund.purpose == "aid" else 3), (fund.code, months)

    # Retention: the archived request past its period was anonymised by the history's first sweep; the one
    # under a legal hold is kept whole.
    from casework.aid.models import AidRequest
    gone = db.session.scalars(select(AidRequest).where(AidRequest.anonymised_at.is_not(None))).all()
    held = db.session.scalars(select(AidRequest).where(AidRequest.hold_reason.is_not(None))).all()
    assert len(gone) == 1 and gone[0].circumstances == "" and gone[0].applicant.username.startswith("anon-")
    assert len(held) == 1 and held[0].circumstances and held[0].state == "withdrawn"
    assert held[0].anonymised_at is None

    # The board: a posting now and past ones; masked names only, and nothing anyone typed in private.
    posted = db.session.scalars(select(Disclosure).where(Disclosure.status == "posted")).all()
    ended = db.session.scalars(select(Disclosure).where(Disclosure.status == "ended")).all()
    assert {d.kind for d in posted} >= {"aid"} and len(ended) >= 8
    private = _private_texts()
    names = {c.applicant.name for c in db.session.scalars(select(Case).where(Case.kind != "motion"))}
    web.post("/logout", {}, form_page="/")
    board = [web.get("/board").get_data(as_text=True)]
    board += [web.get(f"/board/{d.id}").get_data(as_text=True) for d in posted + ended]
    board += [_pdf_text(web.get(f"/notices/board/{d.id}.pdf").get_data()) for d in posted]
    for d in posted:
        assert all(item.masked_name == mask_name(db.session.get(Case, item.case_id).applicant.name)
                   for item in d.items)
        assert any(item.masked_name in board[1 + posted.index(d)] for item in d.items)
    for text in board:
        leaked = [t for t in private | names if t in text]
        assert not leaked, leaked

    # Everyone with a desk has something on it.
    for username in ("staff1", "committee1", "fund1", "handler1", "evaluator1", "motions1"):
        user = db.session.scalar(select(User).where(User.username == username))
        assert work_queue(user), username

    # A two-level approval: the parts factory union's committee referred it, the company union's decided
    # it, its fund paid, and the case page says so.
    (case_id,) = db.session.scalars(select(AuditEntry.case_id).where(AuditEntry.trigger == "parent_approve")
                                    .distinct()).all()
    two_level = db.session.get(Case, case_id)
    assert two_level.state == "closed" and two_level.referred_unit.parent_id is None
    assert db.session.get(Fund, two_level.fund_id).code == "AID" and two_level.amount_approved == 1200000
    web.login("worker4")
    page = web.get(f"/cases/aid/{case_id}").get_data(as_text=True)
    assert "由配件分厂工会报批" in page and two_level.referred_unit.name in page

    # The statistics' stays the engine kept while the history was replayed equal a recomputation from the
    # audit history, and the history's home visits reach the figures.
    from casework.stats import aggregates
    from casework.stats.queries import visits
    kept, fresh, differ = aggregates.differences()
    assert kept > 100 and (kept, differ) == (fresh, 0)
    hq = db.session.scalar(select(Unit).where(Unit.parent_id.is_(None)))
    seen = visits(Scope(hq, today() - timedelta(days=400), today()))
    assert seen["total"]["visits"] >= seen["total"]["people"] > 0

    _privacy_shown(db, web)

    # Running it again adds nothing.
    db.session.commit()
    cases = db.session.scalar(select(func.count()).select_from(Case))
    again = runner.invoke(args=["casework", "demo"])
    assert again.exit_code == 0, again.output
    assert "nothing new" in again.output and "nothing added" in again.output
    assert demo_history.load_history() is None
    assert db.session.scalar(select(func.count()).select_from(Case)) == cases


def test_no_history_flag_loads_the_union_only(app, db):
    out = app.test_cli_runner().invoke(args=["casework", "demo", "--no-history"])
    assert out.exit_code == 0, out.output
    assert "19 users" in out.output and "history" not in out.output
    assert db.session.scalar(select(func.count()).select_from(Case)) == 0


def test_history_needs_the_demo_union(db):
    with pytest.raises(demo_history.HistoryError, match="demo union"):
        demo_history.load_history()
    db.session.rollback()


@pytest.mark.parametrize("day,start", [
    (date(2026, 11, 25), date(2026, 1, 5)),   # late in the year: this year from early January
    (date(2026, 12, 31), date(2026, 1, 5)),
    (date(2027, 1, 3), date(2026, 3, 9)),     # early January: the previous months
    (date(2026, 7, 1), date(2025, 9, 4)),
])
def test_the_history_spans_enough_months_back_from_today(day, start):
    assert demo_history.history_start(day) == start
    assert (day - demo_history.history_start(day)).days >= demo_history.HISTORY_DAYS


def test_travel_moves_the_clock_for_the_block_only(db):
    before = utcnow()
    moment = before.replace(year=before.year - 1)
    with travel(moment):
        assert abs((utcnow() - moment).total_seconds()) < 5
        with travel(moment.replace(month=1, day=2)):
            assert utcnow().month == 1
        assert abs((utcnow() - moment).total_seconds()) < 5
    assert utcnow() >= before


def _privacy_shown(db, web):
    """What `make run` shows of privacy: consent on every request, reads on the case and in the admin log (a
    refused one among them), a worker's 我的数据 with content, and a signed notice verified both ways."""
    import json

    from casework.aid.models import AidRequest
    from casework.demo_story import CORRECTION
    from casework.notices.models import Notice
    from casework.privacy.models import AccessEntry, chains, verify_access_chain
    submitted = db.session.scalars(select(AidRequest).where(AidRequest.state != "draft")).all()
    assert submitted and all(c.consent_version and c.consent_at for c in submitted)
    refused = db.session.scalars(select(AccessEntry).where(AccessEntry.allowed.is_(False))).all()
    assert [e.actor_label for e in refused] == ["worker2"] and refused[0].address.startswith("10.8.")
    assert db.session.scalar(select(func.count()).select_from(AccessEntry)) > 40
    assert all(verify_access_chain(c)[0] for c in chains())
    case = db.session.get(Case, refused[0].case_id)
    web.post("/logout", {}, form_page="/")
    web.login("worker1")
    page = web.get(f"/cases/aid/{case.id}").get_data(as_text=True)
    consent, reads = page.split('id="consent"')[1], page.split('id="reads"')[1].split("</section>")[0]
    assert case.consent_version in consent
    assert "刘芳" in reads and "李秀英" in reads and "拒绝" in reads
    data = json.loads(web.get("/account/data.json").get_data(as_text=True))
    assert len(data["cases"]) >= 2 and data["notification_settings"]["mode"] == "digest"
    [asked] = data["corrections"]
    assert asked["text"] == CORRECTION.text and asked["answer"] == CORRECTION.answer
    assert any(n["body"] == CORRECTION.answer for n in data["notifications"])
    web.post("/logout", {}, form_page="/")
    web.login("admin")
    log = web.get("/admin/access-log").get_data(as_text=True)
    assert "刘芳" in log and case.number in log
    notice = db.session.scalar(select(Notice).where(Notice.case_id == case.id).order_by(Notice.id))
    verify = web.get(f"/verify/{notice.verify_code}").get_data(as_text=True)
    assert "真实有效" in verify and "签名有效" in verify
    web.post("/logout", {}, form_page="/")


def test_the_history_ends_with_one_accepted_and_one_submitted_upward_report(app, db):
    from casework.upward.models import UpwardReport
    assert app.test_cli_runner().invoke(args=["casework", "demo"]).exit_code == 0
    reports = {r.unit.code: r for r in db.session.scalars(select(UpwardReport))}
    assert {c: r.status for c, r in reports.items()} == {"B3": "accepted", "B1": "submitted"}
    accepted = reports["B3"]
    assert accepted.submissions == 2 and accepted.upper_unit.code == "HQ" and accepted.figures["aid"]
    trail = [e.trigger for e in db.session.scalars(select(AuditEntry).where(
        AuditEntry.subject_kind == "upward_report", AuditEntry.subject_id == accepted.id).order_by(AuditEntry.seq))]
    assert trail == ["create", "submit", "return_report", "amend", "submit", "accept_report"]
    assert all(verify_chain(r)[0] for r in reports.values())
