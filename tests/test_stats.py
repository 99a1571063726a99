"""Statistics: every number on the dashboard equals a brute-force recount from the ORM, on generated data."""
from __future__ import annotations

import os
import random
import re
from datetime import date, timedelta

import pytest
from sqlalchemy import select


# Until casework/__init__.py lists them (before ".api"), mount the statistics and exports for the suite.

from casework.accounts.models import Unit
from casework.core import engine
from casework.clock import local, today, utcnow
from casework.core.models import AuditEntry, Case, CongressSession
from casework.disclosure.models import Objection
from casework.extensions import db as _db
from casework.stats.queries import GRANTED_STATES, Scope, compute

from .conftest import Browser
from .factories import attach, end_posting_now, fire, interleave, new_case

# The brief asks ~200 cases (about 45 s here); 120 keeps the file fast. STATS_CASES=200 runs the full size.
N_CASES = int(os.environ.get("STATS_CASES", 120))
COMMITTEE = ("committee1", "committee2", "committee3")


def _aid_steps(demo, case, rng):
    who = case.applicant.username
    yield lambda: (attach(case, "income_proof", demo[who]), fire(case, "submit", demo[who]))
    if rng.random() < 0.1:
        yield lambda: fire(case, "withdraw", demo[who])
        return
    yield lambda: fire(case, "start_verification", demo["staff1"])
    yield lambda: fire(case, "record_visit", demo["staff1"], visited_on=today().isoformat(),
                       visitors=["staff1", "leader1"], findings="情况属实")
    amount = f"{rng.randint(5, 20) * 100}.00"
    yield lambda: fire(case, "verify", demo["staff1"], proposed_amount=amount)
    if rng.random() < 0.2:
        yield lambda: [fire(case, "reject", demo[c], reason="不符合条件") for c in COMMITTEE]
        return
    yield lambda: [fire(case, "approve", demo[c], amount=amount) for c in COMMITTEE]

    yield lambda: end_posting_now(demo, case)
    yield lambda: fire(case, "disburse", demo["fund1"], method="cash", reference="R")
    yield lambda: fire(case, "confirm_receipt", demo[who])


def _proposal_steps(demo, case, rng):
    yield lambda: fire(case, "submit", case.applicant)
    if rng.random() < 0.15:
        yield lambda: fire(case, "decline", demo["staff1"], reply="已有同类建议")
        return
    yield lambda: fire(case, "accept", demo["staff1"], evaluators=["evaluator1", "evaluator2"])
    scores = [rng.randint(55, 100), rng.randint(55, 100)]
    yield lambda: [(engine.fire(case, "score", demo[f"evaluator{i + 1}"], {"score": s, "comment": "可"}),
                    _db.session.commit()) for i, s in enumerate(scores)]
    yield lambda: fire(case, "grade", demo["staff1"])
    if sum(scores) / 2 < 60:
        return
    deadline = lambda: (today() + timedelta(days=40)).isoformat()  # noqa: E731
    yield lambda: [fire(case, "adopt", demo[c], department="TECH", deadline=deadline()) for c in COMMITTEE]
    yield lambda: fire(case, "acknowledge", demo["handler1"])
    benefit = f"{rng.randint(1, 90) * 1000}.00"
    yield lambda: fire(case, "report_implemented", demo["handler1"], result="完成", benefit=benefit)


def _motion_steps(demo, case, rng):
    yield lambda: fire(case, "open_for_cosigning", demo["rep1"])
    yield lambda: [fire(case, "cosign", demo[r]) for r in ("rep2", "rep3")]
    yield lambda: fire(case, "submit", demo["rep1"])
    file_data = {"department": "TECH"}
    if rng.random() < 0.5:
        file_data["deadline"] = (today() + timedelta(days=rng.randint(1, 6))).isoformat()
    yield lambda: fire(case, "file", demo["motions1"], **file_data)
    yield lambda: fire(case, "acknowledge", demo["handler1"])
    yield lambda: fire(case, "reply", demo["handler1"], text="已办理")
    pick = rng.random()
    if pick < 0.3:
        yield lambda: fire(case, "rate_unsatisfied", demo["rep1"])
    else:
        yield lambda: fire(case, "rate", demo["rep1"],
                           satisfaction="satisfied" if pick < 0.7 else "basically_satisfied")


def generate(demo, clock, n=N_CASES, seed=8):
    """~n cases of the three kinds, stepped in interleaved rounds with clock travel so durations differ."""
    rng = random.Random(seed)
    session = _db.session.scalar(select(CongressSession))
    walkers = []
    for i in range(n):
        kind = ("aid", "proposal", "motion")[i % 3]
        if kind == "aid":
            case = new_case("aid", demo["worker1"],
                            amount_requested=f"{rng.randint(5, 30) * 100}.00")
            steps = _aid_steps(demo, case, rng)
        elif kind == "proposal":
            case = new_case("proposal", demo[("worker1", "worker3")[i % 2]], title=f"建议{i}")
            steps = _proposal_steps(demo, case, rng)
        else:
            case = new_case("motion", demo["rep1"], session=session.id, title=f"提案{i}")
            steps = _motion_steps(demo, case, rng)
        # Some cases stop early, as real ones wait in a state.
        walkers.append((steps, rng.randint(1, 7)))
    return interleave(walkers, clock, rng, rounds=9, pause_hours=(12, 150))


# -- the brute-force recount ------------------------------------------------------------------

def recount(unit: Unit, start: date, end: date) -> dict:
    inside = lambda at: start <= local(at).date() <= end  # noqa: E731
    ids = {u.id for u in _db.session.scalars(select(Unit)) if u.path.startswith(unit.path)}
    cases = {c.id: c for c in _db.session.scalars(select(Case)) if c.unit_id in ids}
    entries: dict[int, list[AuditEntry]] = {}
    for e in _db.session.scalars(select(AuditEntry).order_by(AuditEntry.case_id, AuditEntry.seq)):
        if e.case_id in cases:
            entries.setdefault(e.case_id, []).append(e)
    by_ks: dict = {}
    for c in cases.values():
        if inside(c.created_at):
            by_ks[(c.kind, c.state)] = by_ks.get((c.kind, c.state), 0) + 1
    stays = []  # (kind, state, seconds, deadline, left_by, left_at)
    for cid, es in entries.items():
        moves = [e for e in es if e.seq == 1 or e.from_state != e.to_state]
        for a, b in zip(moves, moves[1:]):
            if inside(b.at):
                dl = (a.changes or {}).get("deadline")
                stays.append((cases[cid].kind, a.to_state, (b.at - a.at).total_seconds(), dl[1] if dl else None,
                              b.trigger, b.at))
    handling, deadlines = {}, {}
    for kind, state, secs, dl, _by, left in stays:
        handling.setdefault((kind, state), []).append(secs)
        if dl:
            d = deadlines.setdefault((kind, state), [0, 0])
            d[0] += 1
            d[1] += local(left).date().isoformat() <= dl
    grants = {}
    for cid, es in entries.items():
        c = cases[cid]
        approvals = [e.at for e in es if e.from_state == "pending_approval" and e.to_state == "posting"]
        if c.kind == "aid" and c.state in GRANTED_STATES and approvals and inside(max(approvals)):
            key = (local(max(approvals)).strftime("%Y-%m"), c.category)
            g = grants.setdefault(key, [0, 0])
            g[0] += 1
            g[1] += c.amount_approved
    events = lambda kind, trigger, to: [e for cid, es in entries.items() for e in es  # noqa: E731
                                       if cases[cid].kind == kind and e.trigger == trigger
                                       and e.to_state == to and inside(e.at)]
    ratings = {}
    for e in events("motion", "rate", "closed") + events("motion", "rate_unsatisfied", "handling"):
        r = "unsatisfied" if e.trigger == "rate_unsatisfied" else e.changes["inputs"]["satisfaction"]
        ratings[r] = ratings.get(r, 0) + 1
    grades = {}
    for e in events("proposal", "grade", "graded"):
        g = cases[e.case_id].grade or "none"
        grades[g] = grades.get(g, 0) + 1

    def p90(values):
        values = sorted(values)
        return values[-(-len(values) * 9 // 10) - 1]
    objections = {}
    for o in _db.session.scalars(select(Objection)):
        if o.unit_id in ids and inside(o.at):
            row = objections.setdefault((o.kind, o.status), [0, 0])
            row[0] += 1
            row[1] += bool(o.substantiated)
    return {
        "cases": by_ks,
        "aid": {k: tuple(v) for k, v in grants.items()},
        "handling": {k: (len(v), sum(v) / len(v), p90(v)) for k, v in handling.items()},
        "deadlines": {k: tuple(v) for k, v in deadlines.items()},
        "proposals": {"collected": len(events("proposal", "submit", "submitted")),
                      "graded": len(events("proposal", "grade", "graded")),
                      "adopted": len(events("proposal", "adopt", "implementing")),
                      "implemented": len(events("proposal", "report_implemented", "implemented")),
                      "benefit": sum(cases[e.case_id].benefit
                                     for e in events("proposal", "report_implemented", "implemented")),
                      "grades": grades},
        "motions": {"filed": len(events("motion", "file", "handling")),
                    "replied": len(events("motion", "reply", "replied")),
                    "replied_on_time": sum(1 for k, s, _x, dl, by, left in stays
                                           if k == "motion" and s in ("handling", "opinion") and by == "reply"
                                           and dl and local(left).date().isoformat() <= dl),
                    "ratings": ratings},
        "objections": {k: tuple(v) for k, v in objections.items()},
    }


def assert_equal(stats: dict, brute: dict):
    assert {(r["kind"], r["state"]): r["count"] for r in stats["cases"]} == brute["cases"]
    assert {(r["month"], r["category"]): (r["count"], r["amount"]) for r in stats["aid"]["rows"]} == brute["aid"]
    assert stats["aid"]["total"] == {"count": sum(v[0] for v in brute["aid"].values()),
                                     "amount": sum(v[1] for v in brute["aid"].values())}
    got = {(r["kind"], r["state"]): r for r in stats["handling"]}
    assert set(got) == set(brute["handling"])
    for key, (n, avg, p90) in brute["handling"].items():
        assert got[key]["count"] == n, key
        assert got[key]["avg_hours"] == pytest.approx(avg / 3600, abs=0.006), key
        assert got[key]["p90_hours"] == pytest.approx(p90 / 3600, abs=0.006), key
    assert {(r["kind"], r["state"]): (r["due"], r["on_time"]) for r in stats["deadlines"]} == brute["deadlines"]
    assert stats["proposals"] == brute["proposals"]
    m = stats["motions"]
    assert {k: m[k] for k in ("filed", "replied", "replied_on_time")} == \
        {k: brute["motions"][k] for k in ("filed", "replied", "replied_on_time")}
    assert {r: v["count"] for r, v in m["satisfaction"].items()} == brute["motions"]["ratings"]
    assert {(r["kind"], r["status"]): (r["count"], r["substantiated"]) for r in stats["objections"]} == \
        brute["objections"]


@pytest.fixture()
def generated(demo, clock, monkeypatch):
    # PDF notices take a second each and are not what is counted here.
    from types import SimpleNamespace
    from casework.notices import operations as notices
    monkeypatch.setattr(notices, "issue_for_case", lambda *a, **k: SimpleNamespace(number="N", sha256="0"))
    end = generate(demo, clock)
    clock.move_to(end)
    late = new_case("aid", demo["worker1"])  # one intake surely late: 20 days for a 5-working-day deadline
    attach(late, "income_proof", demo["worker1"])
    fire(late, "submit", demo["worker1"])
    clock.move_to(end + timedelta(days=20))
    fire(late, "start_verification", demo["staff1"])
    return demo


def test_statistics_equal_a_brute_force_recount(generated, api):
    hq = _db.session.scalar(select(Unit).where(Unit.parent_id.is_(None)))
    _db.session.add(Objection(kind="report", tracking_code="T-STATS-1", unit_id=hq.id, text="未公开",
                              due_on=today(), status="answered", substantiated=True))
    _db.session.commit()
    start, end = date(2026, 11, 1), date(2027, 12, 31)
    brute = recount(hq, start, end)
    stats = compute(Scope(hq, start, end))
    # The generated data covers every section, so the comparison means something.
    assert sum(brute["cases"].values()) == N_CASES + 1 and brute["aid"] and brute["deadlines"]
    assert brute["proposals"]["benefit"] > 0 and brute["motions"]["ratings"] and brute["objections"]
    assert any(on < due for due, on in brute["deadlines"].values())  # some late, so the rate is tested
    assert len({round(v[1]) for v in brute["handling"].values()}) > 3
    assert_equal(stats, brute)
    # A narrower period and a sub-unit: still equal.
    branch = _db.session.scalar(select(Unit).where(Unit.parent_id == hq.id).order_by(Unit.id))
    narrow = (start, local(utcnow()).date() - timedelta(days=8))
    assert_equal(compute(Scope(hq, *narrow)), recount(hq, *narrow))
    assert_equal(compute(Scope(branch, start, end)), recount(branch, start, end))
    # The API gives the same numbers.
    body = api.as_("staff1").get(f"/api/v1/stats?unit={hq.id}&from=2026-11-01&to=2027-12-31").get_json()
    assert body["cases"] == stats["cases"] and body["aid"]["total"] == stats["aid"]["total"]
    assert body["handling"] == stats["handling"] and body["motions"] == stats["motions"]


def test_dashboard_access_and_charts(demo, web, api, app):
    aid = new_case("aid", demo["worker1"])
    hq = aid.unit
    while hq.parent is not None:
        hq = hq.parent
    web.login("staff1")
    page = web.get("/stats?from=2026-01-01&to=2026-12-31")
    html = page.get_data(as_text=True)
    assert page.status_code == 200 and "<svg" in html and 'data-table="cases"' in html
    # Every chart has its numbers again in a data table with labelled columns, the same as on its bars.
    charted = re.findall(r'<section class="card" id="stats-(\w+)">\s*<h2>[^<]*</h2>\s*<figure class="chart-figure">(<svg.*?</svg>)', html)
    assert [name for name, _svg in charted] == ["cases"]
    for name, chart in charted:
        assert 'aria-label=""' not in chart
        table = html[html.index(f'data-chart="{name}"'):]
        table = table[:table.index("</table>")]
        assert "查看数据表" in html and len(re.findall(r'<th scope="col">[^<]+</th>', table)) == 2
        bars = re.findall(r"<title>([^<]*)</title>", chart)
        cells = re.findall(r'<td data-label="[^"]+">([^<]*)</td><td data-label="[^"]+" class="num">([^<]*)</td>', table)
        assert bars and [f"{a}: {b}" for a, b in cells] == bars
    assert web.get("/stats?from=2026-13-01").status_code == 422
    assert web.get("/stats?unit=99999").status_code == 404
    worker_web = Browser(app.test_client())
    worker_web.login("worker1")
    assert worker_web.get("/stats").status_code == 403
    worker = api.as_("worker1")
    assert worker.get("/api/v1/stats").status_code == 403
    committee = api.as_("committee1")
    r = committee.get("/api/v1/stats?from=2026-12-01&to=2026-11-01")
    assert r.status_code == 422 and "to" in r.get_json()["error"]["fields"]
    r = committee.get("/api/v1/stats")
    assert r.status_code == 200 and r.get_json()["cases"] == [{"kind": "aid", "state": "draft", "count": 1}]
    spec = api.client.get("/api/v1/openapi.json").get_json()
    assert "/api/v1/stats" in spec["paths"]


def test_a_chart_leaves_room_for_its_longest_label_and_no_more():
    from casework.stats.charts import _text_width, bar_chart
    long = "帮扶申请 · 已报上级工会审批"
    svg = str(bar_chart([(long, 143.75), ("草稿", 31.13)], label="各环节办理时长"))
    x = int(re.search(r'<rect x="(\d+)"', svg).group(1))
    width = int(re.search(r'<svg[^>]* width="(\d+)"', svg).group(1))
    assert _text_width(long) < x <= _text_width(long) + 16 and width == x + 260
    assert 'aria-label="各环节办理时长"' in svg and "<title>帮扶申请 · 已报上级工会审批: 143.75</title>" in svg


def test_the_level_above_sees_any_unit_of_its_subtree_rolled_up_from_its_children(demo, web, api):
    """HQ's staff choose any unit below them; each unit's figures are its own plus its children's, exactly."""
    for worker in ("worker1", "worker2", "worker3", "staff1"):  # G21, G22 (under B2), G11 (under B1), HQ
        case = new_case("aid", demo[worker])
        attach(case, "income_proof", demo[worker])
        fire(case, "submit", demo[worker])
    _db.session.commit()
    hq = _db.session.scalar(select(Unit).where(Unit.parent_id.is_(None)))
    start, end = date(2026, 1, 1), date(2026, 12, 31)
    whole = compute(Scope(hq, start, end), by_unit=True)
    rows = whole["by_unit"]["rows"]
    assert [r["unit_name"] for r in rows][0] == hq.name and rows[0]["own"] and rows[0]["cases"] == 1
    assert {r["unit_name"]: r["cases"] for r in rows[1:]} == {"机关分会": 1, "生产车间分会": 2}
    assert whole["by_unit"]["total"]["cases"] == sum(r["count"] for r in whole["cases"]) == 4
    for child in hq.children:  # each child's part is that child's own dashboard total
        part = next(r for r in rows if r["unit"] == child.id)
        assert part["cases"] == sum(r["count"] for r in compute(Scope(child, start, end))["cases"])
    web.login("staff1")
    b2 = _db.session.scalar(select(Unit).where(Unit.code == "B2"))
    html = web.get(f"/stats?unit={b2.id}&from=2026-01-01&to=2026-12-31").get_data(as_text=True)
    # Looking at a branch, the choice still offers every unit of the subtree, HQ included.
    assert f'<option value="{hq.id}"' in html and 'data-table="by_unit"' in html and "下级单位汇总" in html
    body = api.as_("staff1").get(f"/api/v1/stats?unit={b2.id}&from=2026-01-01&to=2026-12-31").get_json()
    assert body["by_unit"]["total"]["cases"] == 2
    assert sorted(r["cases"] for r in body["by_unit"]["rows"]) == [0, 1, 1]  # B2 itself, G21, G22
    csv_text = web.get(f"/stats/export/by_unit.csv?unit={hq.id}&from=2026-01-01&to=2026-12-31").get_data(as_text=True)
    assert "下级单位汇总" not in csv_text.splitlines()[0] and csv_text.splitlines()[0].lstrip("\ufeff").startswith("单位")
