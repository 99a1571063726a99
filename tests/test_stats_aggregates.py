"""The stays the engine keeps for the statistics, and the home visits (走访慰问) figures."""
from __future__ import annotations

from datetime import date, timedelta

from sqlalchemy import select

from casework.accounts.models import Unit
from casework.clock import today
from casework.extensions import db as _db
from casework.stats import aggregates
from casework.stats.models import StatStay
from casework.stats.queries import Scope, visits

from .factories import attach, fire, new_case


def _stays(case):
    return [(s.state, s.left_by, s.left_to) for s in
            _db.session.scalars(select(StatStay).where(StatStay.case_id == case.id).order_by(StatStay.id))]


def test_each_state_change_keeps_the_stay_it_ended_and_nothing_else(demo, clock):
    case = new_case("aid", demo["worker1"])
    attach(case, "income_proof", demo["worker1"])
    assert _stays(case) == []
    fire(case, "submit", demo["worker1"])
    clock.shift(timedelta(hours=30))
    fire(case, "start_verification", demo["staff1"])
    fire(case, "record_visit", demo["staff1"], visited_on=today().isoformat(), visitors=["staff1", "leader1"],
         findings="属实")  # a step in the same state: no stay ends
    clock.shift(timedelta(hours=5))
    fire(case, "verify", demo["staff1"], proposed_amount="1000.00")
    fire(case, "approve", demo["committee1"], amount="1000.00")  # one vote of three: nothing moves
    assert _stays(case) == [("draft", "submit", "submitted"), ("submitted", "start_verification", "verifying"),
                            ("verifying", "verify", "pending_approval")]
    submitted = _db.session.scalars(select(StatStay).where(StatStay.case_id == case.id,
                                                           StatStay.state == "submitted")).one()
    assert abs(submitted.seconds - 30 * 3600) < 60 and submitted.deadline is not None  # intake's deadline, as audited
    assert aggregates.differences() == (3, 3, 0)


def test_rebuild_recomputes_the_same_rows_and_is_idempotent(demo, app):
    case = new_case("proposal", demo["worker1"])
    fire(case, "submit", demo["worker1"])
    fire(case, "accept", demo["staff1"], evaluators=["evaluator1", "evaluator2"])
    kept = aggregates.rows()
    runner = app.test_cli_runner()
    for _ in range(2):
        out = runner.invoke(args=["casework", "stats-rebuild"])
        assert out.exit_code == 0 and "2 stays" in out.output, out.output
        assert aggregates.rows() == kept
    _db.session.execute(StatStay.__table__.update().values(seconds=1))  # a damaged aggregate is told apart
    _db.session.commit()
    out = runner.invoke(args=["casework", "stats-rebuild", "--check"])
    assert out.exit_code == 1 and "differs" in out.output and "stats-rebuild" in out.output
    assert runner.invoke(args=["casework", "stats-rebuild"]).exit_code == 0
    out = runner.invoke(args=["casework", "stats-rebuild", "--check"])
    assert out.exit_code == 0 and "equals" in out.output and aggregates.rows() == kept


def _visit(demo, who, on: date, category="hardship"):
    details = {"diagnosis": "住院治疗", "hospital": "市人民医院", "out_of_pocket": "1200.00"} \
        if category == "illness" else {"household_size": 3, "monthly_income": "2000.00", "cause": "家庭困难"}
    case = new_case("aid", demo[who], category=category, details=details)
    attach(case, "medical_bills" if category == "illness" else "income_proof", demo[who])
    fire(case, "submit", demo[who])
    fire(case, "start_verification", demo["staff1"])
    fire(case, "record_visit", demo["staff1"], visited_on=on.isoformat(), visitors=["staff1", "committee5"],
         findings="属实")
    return case


def test_home_visits_by_month_unit_and_category_count_each_person_once(demo, api, web):
    day = today()
    last_month = day.replace(day=1) - timedelta(days=1)
    first = _visit(demo, "worker1", day)
    fire(first, "record_visit", demo["staff1"], visited_on=day.isoformat(), visitors=["staff1", "committee5"],
         findings="再次走访")  # the same person again in the same month
    _visit(demo, "worker1", last_month, "illness")  # and in the month before, for another request
    _visit(demo, "worker2", day, "illness")
    _visit(demo, "worker3", day)
    _visit(demo, "worker3", date(day.year - 1, 6, 1))  # outside the period
    hq = _db.session.scalar(select(Unit).where(Unit.parent_id.is_(None)))
    start, end = date(day.year - (last_month.year < day.year), last_month.month, 1), day
    got = visits(Scope(hq, start, end))
    this, before = day.strftime("%Y-%m"), last_month.strftime("%Y-%m")
    assert got["total"] == {"visits": 5, "people": 3}
    assert got["by_month"][this] == {"visits": 4, "people": 3}
    assert got["by_month"][before] == {"visits": 1, "people": 1}
    assert got["by_category"] == {"hardship": {"visits": 3, "people": 2}, "illness": {"visits": 2, "people": 2}}
    units = {u: demo[u].unit.name for u in ("worker1", "worker2", "worker3")}
    assert got["by_unit"] == {units["worker1"]: {"visits": 3, "people": 1},
                              units["worker2"]: {"visits": 1, "people": 1},
                              units["worker3"]: {"visits": 1, "people": 1}}
    cell = [r for r in got["rows"] if r["month"] == this and r["unit_name"] == units["worker1"]]
    assert [(r["category"], r["visits"], r["people"]) for r in cell] == [("hardship", 2, 1)]
    # A unit below sees its own only.
    branch = demo["worker3"].unit
    assert visits(Scope(branch, start, end))["total"] == {"visits": 1, "people": 1}
    # The API and the dashboard (a chart and the same figures as a table) show them.
    q = f"unit={hq.id}&from={start.isoformat()}&to={end.isoformat()}"
    body = api.as_("staff1").get(f"/api/v1/stats?{q}").get_json()
    assert body["visits"]["total"] == {"visits": 5, "people": 3}
    assert body["visits"]["by_month"][this] == {"visits": 4, "people": 3}
    web.login("staff1")
    html = web.get(f"/stats?{q}").get_data(as_text=True)
    section = html[html.index('id="stats-visits"'):]
    section = section[:section.index("</section>")]
    assert "<svg" in section and 'data-table="visits"' in section and "走访慰问" in section
    assert units["worker2"] in section


def test_the_migration_fills_the_same_stays_from_an_existing_history(demo):
    """A database upgraded with cases already in it gets the stays `stats-rebuild` computes."""
    import importlib.util
    from pathlib import Path

    from sqlalchemy import delete, text
    path = next((Path(__file__).parent.parent / "migrations" / "versions").glob("*_stat_stays.py"))
    spec = importlib.util.spec_from_file_location("stat_stays_migration", path)
    migration = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(migration)
    proposal = new_case("proposal", demo["worker1"])
    fire(proposal, "submit", demo["worker1"])
    fire(proposal, "accept", demo["staff1"], evaluators=["evaluator1", "evaluator2"])
    kept = aggregates.rows()
    assert len(kept) >= 2
    _db.session.execute(delete(StatStay))
    dialect = _db.session.get_bind().dialect.name
    _db.session.execute(text(migration.FILL.format(**migration.SQL[dialect])))
    assert aggregates.rows() == kept
    _db.session.rollback()
