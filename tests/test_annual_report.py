"""Annual reports (aid, proposals, motions) as PDF notices: the figures equal a brute-force recount on
generated data and the dashboard; the PDF prints them (with RMB capitals) and nothing private; reissued only when
the figures change; only those who see a unit's statistics issue or download its reports; page, CLI and API."""
from __future__ import annotations

import io
import logging
import random
import re
from collections import Counter
from datetime import date, timedelta
from types import SimpleNamespace

import pdfplumber
import pytest
from flask_babel import force_locale
from sqlalchemy import select

from casework import labels
from casework.accounts.models import RoleAssignment, Unit
from casework.clock import local, today, utcnow
from casework.core import engine
from casework.core.models import AuditEntry, Case, CongressSession
from casework.disclosure.models import Objection
from casework.extensions import db as _db
from casework.notices import operations as notices
from casework.notices.models import Notice
from casework.stats import reports
from casework.stats.queries import compute

from .conftest import Browser
from .factories import (aid_to, attach, end_posting_now, fire, interleave, new_case,
                        posting_over)
from .test_stats import recount

COMMITTEE = ("committee1", "committee2", "committee3")
N_CASES = 54  # 18 of each kind: every branch of every workflow below is taken (the test asserts it)

# Private facts put into the aid requests: none may reach any report.
SECRET_TEXT = ("丈夫车祸瘫痪在床", "110105198807150036", "走访发现房屋漏水", "肺腺癌四期", "协和医院",
               "独自抚养三名子女", "异议人反映其家中另有商铺")
SECRET_PEOPLE = ("张建国", "李秀英", "E1001", "E1002", "13800001001")


@pytest.fixture(autouse=True)
def weasyprint_warnings():
    """A WeasyPrint warning (a missing glyph, a refused URL) while rendering fails the test."""
    records = []
    handler = logging.Handler(logging.WARNING)
    handler.emit = records.append
    logger = logging.getLogger("weasyprint")
    logger.addHandler(handler)
    yield
    logger.removeHandler(handler)
    assert not records, [r.getMessage() for r in records]


def text_of(pdf: bytes) -> str:
    """The PDF's text without the spaces letter-spacing and line breaks put between characters."""
    with pdfplumber.open(io.BytesIO(pdf)) as doc:
        return re.sub(r"\s+", "", "".join(page.extract_text() or "" for page in doc.pages))


def hq() -> Unit:
    return _db.session.scalar(select(Unit).where(Unit.code == "HQ"))


def unit(code: str) -> Unit:
    return _db.session.scalar(select(Unit).where(Unit.code == code))


def approved(demo):
    """An aid request of worker1 approved at 2000.00 whose posting period has passed."""
    case = posting_over(demo)
    fire(case, "end_posting", None)
    return case


# -- generated data -------------------------------------------------------------------------------

AID_DATA = {
    "hardship": {"amount": (5, 40), "details": {"household_size": 5, "monthly_income": "1888.00",
                                                "cause": "独自抚养三名子女"}, "doc": "income_proof"},
    "illness": {"amount": (10, 80), "details": {"diagnosis": "肺腺癌四期", "hospital": "协和医院",
                                                "out_of_pocket": "45678.00"}, "doc": "medical_bills"},
    "holiday_visit": {"amount": (2, 9), "details": {}, "doc": None},
}


def _aid(demo, i, rng):
    who = ("worker1", "worker2")[i % 2]
    category = tuple(AID_DATA)[(i // 3) % 3]
    spec = AID_DATA[category]
    amount = f"{rng.randint(*spec['amount']) * 100}.00"
    case = new_case("aid", demo[who], category=category, amount_requested=amount, details=spec["details"],
                    circumstances="丈夫车祸瘫痪在床，身份证号110105198807150036")

    def steps():
        def submit():
            if spec["doc"]:
                attach(case, spec["doc"], demo[who])
            fire(case, "submit", demo[who])
        yield submit
        if rng.random() < 0.1:
            yield lambda: fire(case, "withdraw", demo[who])
            return
        yield lambda: fire(case, "start_verification", demo["staff1"])
        yield lambda: fire(case, "record_visit", demo["staff1"], visited_on=today().isoformat(),
                           visitors=["staff1", "committee4"], findings="走访发现房屋漏水，情况属实")
        yield lambda: fire(case, "verify", demo["staff1"], proposed_amount=amount)
        if rng.random() < 0.2:
            yield lambda: [fire(case, "reject", demo[c], reason="不符合救助条件") for c in COMMITTEE]
            return
        yield lambda: [fire(case, "approve", demo[c], amount=amount) for c in COMMITTEE]

        yield lambda: end_posting_now(demo, case)
        yield lambda: fire(case, "disburse", demo["fund1"], method="cash", reference="R")
        yield lambda: fire(case, "confirm_receipt", demo[who])
    return steps()


def _proposal(demo, i, rng):
    who = ("worker1", "worker3")[i % 2]
    co = ["worker2"] if i % 4 == 1 else []
    case = new_case("proposal", demo[who], title=f"合理化建议{i}", coproposers=co)

    def steps():
        yield lambda: fire(case, "submit", demo[who])
        if rng.random() < 0.15:
            yield lambda: fire(case, "decline", demo["staff1"], reply="已有同类建议")
            return
        yield lambda: fire(case, "accept", demo["staff1"], evaluators=["evaluator1", "evaluator2"])
        scores = [rng.randint(55, 100), rng.randint(55, 100)]
        yield lambda: [(engine.fire(case, "score", demo[f"evaluator{k + 1}"], {"score": s, "comment": "可"}),
                        _db.session.commit()) for k, s in enumerate(scores)]
        yield lambda: fire(case, "grade", demo["staff1"])
        if sum(scores) / 2 < 60:
            return
        if rng.random() < 0.2:
            yield lambda: [fire(case, "not_adopt", demo[c], reply="暂不具备条件") for c in COMMITTEE]
            return
        days = rng.choice((1, 40))  # some implementations late
        deadline = lambda: (today() + timedelta(days=days)).isoformat()  # noqa: E731
        yield lambda: [fire(case, "adopt", demo[c], department="TECH", deadline=deadline())
                       for c in COMMITTEE]
        yield lambda: fire(case, "acknowledge", demo["handler1"])
        yield lambda: fire(case, "report_implemented", demo["handler1"], result="完成",
                           benefit=f"{rng.randint(1, 90) * 1000}.00")
        if rng.random() < 0.7:
            bonus = rng.choice(("", "100.00"))
            extra = {"bonus": bonus} if bonus else {}
            yield lambda: [fire(case, "reward", demo[c], **extra) for c in COMMITTEE]
    return steps()


def _motion(demo, i, rng, anchor):
    session = _db.session.scalar(select(CongressSession))
    case = new_case("motion", demo["rep1"], session=session.id, title=f"职代会提案{i}")

    def steps():
        yield lambda: fire(case, "open_for_cosigning", demo["rep1"])
        yield lambda: [fire(case, "cosign", demo[r]) for r in ("rep2", "rep3")]
        yield lambda: fire(case, "submit", demo["rep1"])
        branch = (i // 3) % 6  # every path, whatever the random draws
        if branch == 0:
            yield lambda: fire(case, "merge", demo["motions1"], into=anchor.id)
            return
        if branch == 1:
            yield lambda: fire(case, "not_file", demo["motions1"], reason="不属于职代会职权范围")
            return
        if branch == 2:
            yield lambda: fire(case, "convert_to_opinion", demo["motions1"], department="TECH")
        else:
            data = {"department": "TECH"}
            if rng.random() < 0.6:
                data["deadline"] = (today() + timedelta(days=rng.randint(1, 6))).isoformat()
            yield lambda: fire(case, "file", demo["motions1"], **data)
            yield lambda: fire(case, "acknowledge", demo["handler1"])
        yield lambda: fire(case, "reply", demo["handler1"], text="已办理")
        rating = rng.random()
        if rating < 0.3 and case.state == "replied":
            yield lambda: fire(case, "rate_unsatisfied", demo["rep1"])
            yield lambda: fire(case, "reply", demo["handler1"], text="已再次办理")
        yield lambda: fire(case, "rate", demo["rep1"],
                           satisfaction="satisfied" if rng.random() < 0.6 else "basically_satisfied")
    return steps()


@pytest.fixture()
def generated(demo, clock, monkeypatch):
    """N_CASES cases stepped in interleaved rounds with clock travel, from 2026-11-25 into 2027; the notices
    of the steps themselves are not rendered (a second each, and not what is counted here)."""
    monkeypatch.setattr(notices, "issue_for_case", lambda *a, **k: SimpleNamespace(number="N", sha256="0"))
    rng = random.Random(11)
    session = _db.session.scalar(select(CongressSession))
    anchor = new_case("motion", demo["rep2"], session=session.id, title="并案目标提案")
    fire(anchor, "open_for_cosigning", demo["rep2"])
    fire(anchor, "cosign", demo["rep1"])
    fire(anchor, "cosign", demo["rep3"])
    fire(anchor, "submit", demo["rep2"])
    fire(anchor, "file", demo["motions1"], department="TECH")
    late = new_case("aid", demo["worker2"])  # one intake surely late: 7 rounds (into 2027) for 5 working days

    def late_steps():
        yield lambda: (attach(late, "income_proof", demo["worker2"]), fire(late, "submit", demo["worker2"]))
        for _wait in range(6):
            yield lambda: None
        yield lambda: fire(late, "start_verification", demo["staff1"])
    walkers = [(late_steps(), 10)]
    for i in range(N_CASES):
        make = (_aid, _proposal, _motion)[i % 3]
        steps = make(demo, i, rng, anchor) if make is _motion else make(demo, i, rng)
        walkers.append((steps, rng.randint(4, 12)))  # some stop early, as real cases wait in a state
    clock.move_to(interleave(walkers, clock, rng, rounds=10, pause_hours=(30, 220)))
    b2 = unit("B2")
    for i, (kind, text, substantiated) in enumerate((("objection", "异议人反映其家中另有商铺", True),
                                                     ("report", "未按时公开", False), ("objection", "金额有误", None))):
        _db.session.add(Objection(kind=kind, tracking_code=f"T-ANNUAL-{i}", unit_id=b2.id, text=text,
                                  due_on=today(), status="answered" if substantiated is not None else "open",
                                  substantiated=substantiated, at=utcnow() - timedelta(days=70)))
    _db.session.commit()
    return demo


# -- the brute-force recount -----------------------------------------------------------------------

def brute(u: Unit, year: int) -> dict:
    """The report's figures counted one row at a time from the ORM."""
    start, end = date(year, 1, 1), date(year, 12, 31)
    inside = lambda at: start <= local(at).date() <= end  # noqa: E731
    ids = {x.id for x in _db.session.scalars(select(Unit)) if x.path.startswith(u.path)}
    cases = {c.id: c for c in _db.session.scalars(select(Case)) if c.unit_id in ids}
    entries = [e for e in _db.session.scalars(select(AuditEntry).order_by(AuditEntry.id))
               if e.case_id in cases and inside(e.at)]
    steps = Counter((cases[e.case_id].kind, e.trigger, e.to_state) for e in entries
                    if e.from_state != e.to_state)
    took = lambda *step: [cases[e.case_id] for e in entries  # noqa: E731
                          if (cases[e.case_id].kind, e.trigger, e.to_state) == step]
    board = recount(u, start, end)  # the dashboard's own brute force (tests/test_stats.py)
    due = lambda kind, states=None: [v for (k, s), v in board["deadlines"].items()  # noqa: E731
                                     if k == kind and (states is None or s in states)]
    aid_cases = Counter((c.category, c.state) for c in cases.values()
                        if c.kind == "aid" and inside(c.created_at))
    p = lambda trigger, to: steps["proposal", trigger, to]  # noqa: E731
    m = lambda trigger, to: steps["motion", trigger, to]  # noqa: E731
    grades = Counter(c.grade for c in took("proposal", "grade", "graded"))
    return {
        "board": board,
        "aid": {"cases": dict(aid_cases), "granted": board["aid"],
                "due": sum(d for d, _o in due("aid")), "on_time": sum(o for _d, o in due("aid"))},
        "proposal": {
            "collected": p("submit", "submitted"), "accepted": p("accept", "evaluating"),
            "declined": p("decline", "declined"), "graded": p("grade", "graded"), "grades": dict(grades),
            "adopted": p("adopt", "implementing"), "not_adopted": p("not_adopt", "not_adopted"),
            "implemented": p("report_implemented", "implemented"), "rewarded": p("reward", "rewarded"),
            "benefit": sum(c.benefit for c in took("proposal", "report_implemented", "implemented")),
            "rewards": sum(c.reward for c in took("proposal", "reward", "rewarded")),
            "due": sum(d for d, _o in due("proposal")), "on_time": sum(o for _d, o in due("proposal")),
            "adopted_list": sorted((c.number, "、".join([c.applicant.name] + [p.user.name for p in c.parties
                                                                            if p.role == "coproposer"]))
                                   for c in took("proposal", "adopt", "implementing"))},
        "motion": {
            "submitted": m("submit", "submitted"), "filed": m("file", "handling"),
            "merged": m("merge", "merged"), "opinion": m("convert_to_opinion", "opinion"), "not_filed": m("not_file", "not_filed"),
            "replied": m("reply", "replied"),
            "replied_on_time": board["motions"]["replied_on_time"],
            "reply_due": sum(d for d, _o in due("motion", ("handling", "opinion"))),
            "ratings": board["motions"]["ratings"], "reopened": m("rate_unsatisfied", "handling"),
            "filed_list": sorted((c.number, c.applicant.name, c.department.name, c.state, c.satisfaction)
                                 for c in took("motion", "file", "handling"))},
    }


def _zh(label) -> str:
    with force_locale("zh"):
        return str(label)


def assert_report_equal(u: Unit, year: int, b: dict):
    # The report's words are the catalogue's, in Chinese whatever the request's language.
    ZH_STATE = {s: _zh(label) for s, label in labels.STATE_LABELS.items()}  # noqa: N806
    ZH_CHOICE = {c: _zh(label) for c, label in labels.CHOICE_LABELS.items()}  # noqa: N806
    assert (ZH_STATE["approved"], ZH_CHOICE["no_rating"]) == ("已批准", "未评价")
    zh_cat, zh_state = ZH_CHOICE, ZH_STATE
    scope = reports.year_scope(u, year)
    board = compute(scope)

    aid = reports.annual_values("aid", scope)
    assert {(c["category"], s["state"]): s["count"] for c in aid["cases"] for s in c["states"]} == \
        {(zh_cat[c], zh_state[s]): n for (c, s), n in b["aid"]["cases"].items()}
    assert aid["cases_total"] == sum(b["aid"]["cases"].values()) == \
        sum(r["count"] for r in board["cases"] if r["kind"] == "aid")
    granted = b["aid"]["granted"]
    assert {(m["month"], c["category"]): (c["count"], c["amount"]) for m in aid["granted_by_month"]
            for c in m["categories"]} == {(f"{int(m[5:])}月", zh_cat[c]): v for (m, c), v in granted.items()}
    assert aid["granted_total"] == board["aid"]["total"] == \
        {"count": sum(v[0] for v in granted.values()), "amount": sum(v[1] for v in granted.values())}
    assert {c["category"]: (c["count"], c["amount"]) for c in aid["granted_by_category"]} == \
        {zh_cat[c]: (t["count"], t["amount"]) for c, t in board["aid"]["by_category"].items()}
    assert aid["on_time"]["due"] == b["aid"]["due"] and aid["on_time"]["on_time"] == b["aid"]["on_time"]
    steps = {r["step"]: r for r in aid["handling"]}
    expected = {_zh(labels.STEP_LABELS["aid"][s]): v for (k, s), v in b["board"]["handling"].items() if k == "aid"}
    assert set(steps) == set(expected)
    for step, (n, avg, p90) in expected.items():
        assert steps[step]["count"] == n
        assert steps[step]["avg_hours"] == pytest.approx(avg / 3600, abs=0.006)
        assert steps[step]["p90_hours"] == pytest.approx(p90 / 3600, abs=0.006)
    objections = b["board"]["objections"]
    assert aid["objection_count"] == sum(v[0] for (k, _s), v in objections.items() if k == "objection")
    assert aid["report_count"] == sum(v[0] for (k, _s), v in objections.items() if k == "report")
    assert aid["substantiated"] == sum(v[1] for v in objections.values())

    p, bp = reports.annual_values("proposal", scope), b["proposal"]
    for key in ("collected", "accepted", "declined", "graded", "adopted", "not_adopted", "implemented",
                "rewarded", "benefit", "rewards"):
        assert p[key] == bp[key], key
    assert {g["grade"]: g["count"] for g in p["grades"]} == \
        {_zh(labels.GRADE_LABELS[g]): n for g, n in bp["grades"].items()}
    assert (p["on_time"]["due"], p["on_time"]["on_time"]) == (bp["due"], bp["on_time"])
    assert sorted((r["number"], r["proposer"]) for r in p["adopted_list"]) == bp["adopted_list"]
    shared = ("collected", "graded", "adopted", "implemented", "benefit")
    assert {k: board["proposals"][k] for k in shared} == {k: p[k] for k in shared}

    m, bm = reports.annual_values("motion", scope), b["motion"]
    for key in ("submitted", "filed", "merged", "opinion", "not_filed", "replied", "replied_on_time",
                "reply_due", "reopened"):
        assert m[key] == bm[key], key
    assert {s["rating"]: s["count"] for s in m["satisfaction"] if s["count"]} == \
        {ZH_CHOICE[r]: n for r, n in bm["ratings"].items()}
    assert m["rated"] == sum(bm["ratings"].values())
    listed = sorted((r["number"], r["proposer"], r["department"], r["satisfaction"]) for r in m["filed_list"])
    assert [x[:3] for x in listed] == [x[:3] for x in bm["filed_list"]]
    for (_n, _p, _d, shown), (_n2, _p2, _d2, state, satisfaction) in zip(listed, bm["filed_list"]):
        if state == "closed":
            assert shown == ZH_CHOICE[satisfaction or "no_rating"]
    return aid, p, m


def test_report_figures_equal_a_brute_force_recount(generated):
    hq_unit, b2 = hq(), unit("B2")
    assert today().year == 2027  # the clock travelled into the next year: each year counts apart
    full, later = brute(hq_unit, 2026), brute(hq_unit, 2027)
    # The generated data takes every path the reports count, so the comparison means something.
    both = lambda kind, key: bool(full[kind][key]) or bool(later[kind][key])  # noqa: E731
    assert full["aid"]["granted"] and full["aid"]["due"] > 0 and later["aid"]["due"] > later["aid"]["on_time"]
    assert full["proposal"]["due"] > full["proposal"]["on_time"] > 0  # some late, so the rates are tested
    assert full["motion"]["reply_due"] > full["motion"]["replied_on_time"] > 0
    assert {c for c, _s in full["aid"]["cases"]} == {"hardship", "illness", "holiday_visit"}
    assert all(both("proposal", k) for k in ("accepted", "declined", "adopted", "not_adopted", "rewarded",
                                             "benefit", "rewards", "adopted_list"))
    assert all(both("motion", k) for k in ("filed", "merged", "opinion", "not_filed", "replied", "reopened",
                                           "reply_due", "filed_list"))
    assert len(full["motion"]["ratings"]) == 3 and full["board"]["objections"]
    aid, p, m = assert_report_equal(hq_unit, 2026, full)
    assert_report_equal(hq_unit, 2027, later)
    assert_report_equal(b2, 2026, brute(b2, 2026))  # a branch: its groups' cases only

    # The PDFs print the headline numbers, the capitals, and nothing private.
    notice, issued = reports.annual_report("aid", hq_unit, 2026)
    _db.session.commit()
    assert issued and notice.number == "工帮统〔2027〕1号"
    text = text_of(notice.pdf)
    total = aid["granted_total"]
    for expected in ("2026年度困难职工帮扶工作统计报告", "2026年1月1日至2026年12月31日", "（含所属单位）",
                     f"本年度共建立帮扶申请{aid['cases_total']}件", f"救助共{total['count']}件",
                     notices.renderer.rmb_capitals(total["amount"]), notices.renderer.yuan(total["amount"]),
                     f"按时办结{aid['on_time']['on_time']}件次", "大病救助", "走访核实",
                     f"异议{aid['objection_count']}件、举报{aid['report_count']}件"):
        assert expected in text, expected
    for secret in SECRET_TEXT + SECRET_PEOPLE:
        assert secret not in text, secret
    assert all(secret not in str(notice.fields) for secret in SECRET_TEXT + SECRET_PEOPLE)

    notice, _ = reports.annual_report("proposal", hq_unit, 2026)
    text = text_of(notice.pdf)
    for expected in ("2026年度合理化建议工作报告", f"共征集合理化建议{p['collected']}条", f"采纳{p['adopted']}条",
                     notices.renderer.rmb_capitals(p["benefit"]), notices.renderer.rmb_capitals(p["rewards"]),
                     p["adopted_list"][0]["number"], p["adopted_list"][0]["title"], "生产技术部"):
        assert expected in text, expected
    notice, _ = reports.annual_report("motion", hq_unit, 2026)
    text = text_of(notice.pdf)
    rated = {s["rating"]: s for s in m["satisfaction"]}
    for expected in ("2026年度职代会提案工作报告", f"提交提案{m['submitted']}件", f"立案{m['filed']}件",
                     f"并案处理{m['merged']}件", f"不予立案{m['not_filed']}件", f"按期答复{m['replied_on_time']}件次",
                     f"满意{rated['满意']['count']}件次", f"重新办理{m['reopened']}件",
                     m["filed_list"][0]["number"], "林晓峰"):
        assert expected in text, expected


# -- issuing, reissuing ---------------------------------------------------------------------------------

def test_reissued_only_when_the_figures_change(demo, client, clock):
    case = approved(demo)
    first, issued = reports.annual_report("aid", hq(), 2026, demo["staff1"])
    _db.session.commit()
    assert issued and first.subject == f"annual:aid:{hq().id}:2026/1"
    assert first.issued_by_id == demo["staff1"].id
    assert "人民币贰仟元整" in text_of(first.pdf)
    clock.move_to(utcnow() + timedelta(days=3))  # a later day alone changes nothing
    again, issued = reports.annual_report("aid", hq(), 2026)
    assert not issued and again.id == first.id
    # Another kind, another unit, another year: each is its own report.
    assert reports.annual_report("proposal", hq(), 2026)[0].id != first.id
    assert reports.annual_report("aid", unit("B2"), 2026)[0].id != first.id
    assert reports.annual_report("aid", hq(), 2025)[0].id != first.id
    _db.session.commit()
    # The figures change: a new number (the 2025 report took the 2nd this year), the first one is replaced.
    aid_to(demo, "pending_approval")
    newer, issued = reports.annual_report("aid", hq(), 2026)
    _db.session.commit()
    assert issued and newer.id != first.id and newer.number == "工帮统〔2026〕3号"
    assert _db.session.get(Notice, first.id).superseded_by_id == newer.id
    assert "本年度共建立帮扶申请1件" in text_of(first.pdf)
    assert "本年度共建立帮扶申请2件" in text_of(newer.pdf) and "救助共1件" in text_of(newer.pdf)
    assert reports.annual_report("aid", hq(), 2026)[0].id == newer.id
    page = client.get(f"/verify/{first.verify_code}").get_data(as_text=True)
    assert newer.number in page and "张建国" not in page
    # Aid figures moved, proposal figures did not: that report stays as it was.
    assert case.state == "approved" and reports.annual_report("proposal", hq(), 2026)[1] is False


def test_the_fund_report_still_reissues_through_the_same_rule(demo):
    from casework.funds.models import Fund
    fund = _db.session.scalar(select(Fund).where(Fund.code == "AID"))
    report = notices.fund_report(fund, 2026, 4)
    _db.session.commit()
    assert report.subject == f"fund:{fund.id}:2026Q4/1"
    assert notices.fund_report(fund, 2026, 4).id == report.id
    assert notices.current_report("fund_report", f"fund:{fund.id}:2026Q4") == (report, 1)
    assert notices.current_report("fund_report", f"fund:{fund.id}:2026Q") == (None, 0)  # no prefix matches


# -- who may issue and download ----------------------------------------------------------------------

@pytest.fixture()
def branch_staff(demo):
    """worker3 as union staff of 机关分会 (B1) only: sees B1's statistics, not the union's."""
    user = demo["worker3"]
    user.roles.append(RoleAssignment(role="union_staff", unit=unit("B1")))
    _db.session.commit()
    return user


def test_only_who_sees_the_dashboard_issues_and_downloads(demo, app, web, api, branch_staff):
    aid_to(demo, "posting")
    report, _ = reports.annual_report("aid", hq(), 2026)
    _db.session.commit()
    staff = api.as_("staff1")
    assert staff.get(f"/api/v1/notices/{report.id}/pdf").status_code == 200
    for who in ("worker1", "worker3", "fund1", "motions1"):
        caller = api.as_(who)
        assert caller.get(f"/api/v1/notices/{report.id}/pdf").status_code == 404, who
        r = caller.post("/api/v1/reports/annual", json={"kind": "aid", "unit": hq().id, "year": 2026})
        assert r.status_code == 403 and r.get_json()["error"]["code"] == "forbidden", who
    assert api.client.get(f"/api/v1/notices/{report.id}/pdf").status_code == 401
    assert api.client.get(f"/notices/{report.id}.pdf").status_code == 302  # to the sign-in page
    # The branch's own staff: their branch yes, the union no.
    branch = api.as_("worker3")
    r = branch.post("/api/v1/reports/annual", json={"kind": "aid", "unit": "B1", "year": 2026})
    assert r.status_code == 201 and branch.get(r.get_json()["url"]).status_code == 200
    web.login("worker3")
    assert web.get(f"/notices/{report.id}.pdf").status_code == 404
    assert web.post("/stats/annual-report", {"unit": hq().id, "kind": "aid", "year": "2026"},
                    form_page=f"/stats?unit={unit('B1').id}").status_code == 403
    worker = Browser(app.test_client())
    worker.login("worker1")
    assert worker.get("/stats").status_code == 403


# -- the dashboard's form -------------------------------------------------------------------------------

def test_dashboard_form_issues_and_sends_the_pdf(demo, web):
    approved(demo)
    web.login("staff1")
    page = web.get(f"/stats?unit={unit('B2').id}&from=2026-01-01&to=2026-12-31").get_data(as_text=True)
    assert 'id="annual-report"' in page and 'action="/stats/annual-report"' in page
    assert f'name="unit" type="hidden" value="{unit("B2").id}"' in page and 'value="2026"' in page
    form = {"unit": unit("B2").id, "from": "2026-01-01", "to": "2026-12-31", "kind": "aid", "year": "2026"}
    r = web.post("/stats/annual-report", form, form_page="/stats")
    assert r.status_code == 200 and r.mimetype == "application/pdf"
    text = text_of(r.data)
    assert "生产车间分会（含所属单位）" in text and "人民币贰仟元整" in text and "张建国" not in text
    again = web.post("/stats/annual-report", form, form_page="/stats")
    assert again.headers["X-Content-SHA256"] == r.headers["X-Content-SHA256"]
    issued = _db.session.scalar(select(Notice).where(Notice.kind == "annual_aid"))
    assert issued.issued_by.username == "staff1"
    # Wrong kind or year: the dashboard again, for the same unit and period, with the message on the field.
    for bad in ({"kind": "fund"}, {"year": "1999"}, {"year": "2030"}, {"year": "二〇二六"}, {"year": ""}):
        r = web.post("/stats/annual-report", {**form, **bad}, form_page="/stats")
        body = r.get_data(as_text=True)
        assert r.status_code == 422 and 'class="error' in body and "生产车间分会" in body, bad
    assert web.post("/stats/annual-report", {**form, "unit": "99999"}, form_page="/stats").status_code == 404
    assert web.post("/stats/annual-report", {**form, "to": "2026-13-01", "kind": "x"},
                    form_page="/stats").status_code == 422
    assert len(_db.session.scalars(select(Notice).where(Notice.kind == "annual_aid")).all()) == 1


# -- the CLI and the API -----------------------------------------------------------------------------

def test_cli(app, demo):
    run = lambda *args: app.test_cli_runner().invoke(args=["casework", "annual-report", *args])  # noqa: E731
    r = run("--kind", "aid", "--unit", "HQ", "--year", "2026")
    assert r.exit_code == 0, r.output
    assert "工帮统〔2026〕1号 (issued)" in r.output
    r = run("--kind", "proposals", "--unit", "HQ", "--year", "2026")
    assert r.exit_code == 0 and "工建统〔2026〕1号" in r.output, r.output
    r = run("--kind", "aid", "--unit", "HQ", "--year", "2026")
    assert r.exit_code == 0 and "工帮统〔2026〕1号 (unchanged" in r.output, r.output
    notice = _db.session.scalar(select(Notice).where(Notice.kind == "annual_aid"))
    assert notice.issued_by_id is None and "2026年度困难职工帮扶工作统计报告" in text_of(notice.pdf)
    for args, says in ((("--kind", "aid", "--unit", "NOPE", "--year", "2026"), "NOPE"),
                       (("--kind", "funds", "--unit", "HQ", "--year", "2026"), "kind"),
                       (("--kind", "aid", "--unit", "HQ", "--year", "1999"), "year"),
                       (("--kind", "aid", "--unit", "HQ", "--year", "soon"), "year")):
        r = run(*args)
        assert r.exit_code != 0 and says in r.output and "Traceback" not in r.output, r.output


def test_api(demo, api):
    proposal = new_case("proposal", demo["worker1"], title="节能改造建议")
    fire(proposal, "submit", demo["worker1"])
    staff = api.as_("committee1")
    r = staff.post("/api/v1/reports/annual", json={"kind": "proposal", "unit": hq().id, "year": 2026})
    assert r.status_code == 201, r.get_json()
    body = r.get_json()
    notice = _db.session.get(Notice, body["id"])
    assert set(body) == {"id", "kind", "title", "number", "issued_at", "sha256", "verify_code", "url",
                         "verify_url", "superseded", "superseded_by"}
    assert body["kind"] == "annual_proposal" and body["number"] == "工建统〔2026〕1号" and not body["superseded"]
    assert body["sha256"] == notice.sha256 and body["url"] == f"/api/v1/notices/{notice.id}/pdf"
    pdf = staff.get(body["url"])
    assert pdf.status_code == 200 and "共征集合理化建议1条" in text_of(pdf.data)
    # Unchanged figures: the same notice (200); by unit code and a year as text alike.
    again = staff.post("/api/v1/reports/annual", json={"kind": "proposal", "unit": "HQ", "year": "2026"})
    assert again.status_code == 200 and again.get_json()["id"] == body["id"]
    # No unit: the highest one whose statistics the caller sees, as on the dashboard.
    default = staff.post("/api/v1/reports/annual", json={"kind": "proposal", "year": 2026})
    assert default.get_json()["id"] == body["id"]
    for payload, field in (({"kind": "funds", "unit": "HQ", "year": 2026}, "kind"),
                           ({"kind": None, "unit": "HQ", "year": 2026}, "kind"),
                           ({"kind": "aid", "unit": "HQ", "year": 1999}, "year"),
                           ({"kind": "aid", "unit": "HQ", "year": 2027}, "year"),
                           ({"kind": "aid", "unit": "HQ", "year": True}, "year"),
                           ({"kind": "aid", "unit": "HQ", "year": "MMXXVI"}, "year"),
                           ({"kind": "aid", "unit": "HQ"}, "year")):
        r = staff.post("/api/v1/reports/annual", json=payload)
        assert r.status_code == 422 and field in r.get_json()["error"]["fields"], (payload, r.get_json())
    r = staff.post("/api/v1/reports/annual", json={"kind": "aid", "unit": 1.5, "year": 2026},
                   headers={"Accept-Language": "en"})
    assert r.status_code == 404 and r.get_json()["error"]["message"] == "There is no such unit."
    for missing in ("NOPE", 99999, "99999", False):
        r = staff.post("/api/v1/reports/annual", json={"kind": "aid", "unit": missing, "year": 2026})
        assert r.status_code == 404, missing
    assert staff.post("/api/v1/reports/annual", data="{", content_type="application/json").status_code == 400
    assert staff.post("/api/v1/reports/annual", json=[1]).status_code == 400
    assert api.client.post("/api/v1/reports/annual", json={"kind": "aid", "year": 2026}).status_code == 401
    spec = api.client.get("/api/v1/openapi.json").get_json()
    assert "/api/v1/reports/annual" in spec["paths"]
