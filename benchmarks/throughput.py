"""Submission and transition throughput against bare Flask + SQLAlchemy on the same database.

    python benchmarks/throughput.py [--db URL] [--n 300]

Targets (issue 9): submissions ≥ 0.6 of a bare insert endpoint; one transition with its audit entry
≥ 0.5 of a bare UPDATE. Printed as throughput ratios (casework / bare), measured interleaved in one run,
with the SQL statements each side sends per operation (BEGIN and COMMIT included).
"""
from __future__ import annotations

import sys
import time

from common import args, make_app


def main():
    opts = args(__doc__, n=(int, 300, "operations per side"))
    app = make_app(opts.db)
    from flask import Flask, jsonify, request
    from sqlalchemy import (Column, DateTime, Integer, MetaData, String, Table, Text, event, insert, select,
                            text)
    from casework.accounts.models import User
    from casework.clock import utcnow
    from casework.core import engine
    from casework.extensions import db
    from tests.factories import attach, new_case, fire

    with app.app_context():
        bare_meta = MetaData()
        bare_table = Table("bench_bare", bare_meta, Column("id", Integer, primary_key=True),
                           Column("title", String(200)), Column("problem", Text), Column("suggestion", Text),
                           Column("created_at", DateTime))
        bare_meta.create_all(db.engine)
        bare_engine = db.engine

    bare = Flask("bare")

    @bare.post("/bare")
    def bare_insert():
        body = request.get_json()
        with bare_engine.begin() as conn:
            new_id = conn.execute(insert(bare_table).values(title=body["title"], problem=body["problem"],
                                                            suggestion=body["suggestion"], created_at=utcnow())
                                  .returning(bare_table.c.id)).scalar_one()
        return jsonify(id=new_id), 201

    counts = {"ours": 0, "bare": 0}
    side = ["ours"]

    @event.listens_for(bare_engine, "before_cursor_execute")
    def _count(*_args):
        counts[side[0]] += 1

    @event.listens_for(bare_engine, "commit")
    def _count_commit(*_args):
        counts[side[0]] += 1

    def statements(run, name):
        side[0] = name
        before = counts[name]
        run()
        return counts[name] - before

    ours, theirs = app.test_client(), bare.test_client()
    token = ours.post("/api/v1/tokens", json={"username": "worker1", "password": "demo-password"}).get_json()["token"]
    headers = {"Authorization": f"Bearer {token}"}
    body = {"title": "关于车间照明节能改造的建议", "problem": "车间照明长明，能耗高", "suggestion": "分区加装感应开关"}
    t_ours = t_bare = 0.0
    s_ours = s_bare = 0
    for _ in range(opts.n):  # interleaved, so both sides see the same machine noise
        t = time.perf_counter()
        s_ours += statements(lambda: ours.post("/api/v1/cases/proposal", json=body, headers=headers)
                             .status_code == 201 or sys.exit("submission failed"), "ours")
        t_ours += time.perf_counter() - t
        t = time.perf_counter()
        s_bare += statements(lambda: theirs.post("/bare", json=body).status_code == 201
                             or sys.exit("bare failed"), "bare")
        t_bare += time.perf_counter() - t
    sub_ratio = t_bare / t_ours
    sub_statements = (s_ours / opts.n, s_bare / opts.n)

    with app.app_context():
        staff = db.session.scalar(select(User).where(User.username == "staff1"))
        worker = db.session.scalar(select(User).where(User.username == "worker1"))
        cases = []
        for _ in range(opts.n):
            c = new_case("aid", worker)
            attach(c, "income_proof", worker)
            fire(c, "submit", worker)
            cases.append(c.id)
        spare = [new_case("aid", worker).id for _ in range(opts.n)]
        db.session.commit()
        from casework.aid.models import AidRequest
        f_ours = f_bare = 0.0
        s_ours = s_bare = 0

        def step(case):
            engine.fire(case, "start_verification", staff, {})
            db.session.commit()

        def bare_update(spare_id):
            with bare_engine.begin() as conn:
                done = conn.execute(text("UPDATE cases SET state = 'submitted', version = version + 1 "
                                         "WHERE id = :id AND version = version"), {"id": spare_id}).rowcount
            assert done == 1

        for case_id, spare_id in zip(cases, spare):
            case = db.session.get(AidRequest, case_id)
            t = time.perf_counter()
            s_ours += statements(lambda: step(case), "ours")
            f_ours += time.perf_counter() - t
            t = time.perf_counter()
            s_bare += statements(lambda: bare_update(spare_id), "bare")
            f_bare += time.perf_counter() - t
        fire_ratio = f_bare / f_ours
        fire_statements = (s_ours / opts.n, s_bare / opts.n)
    dialect = "PostgreSQL" if opts.db.startswith("postgres") else "SQLite"
    print(f"casework throughput benchmark on {dialect}, {opts.n} operations per side")
    print(f"  submission (POST /api/v1/cases/proposal) {opts.n / t_ours:8.1f}/s vs bare insert endpoint "
          f"{opts.n / t_bare:8.1f}/s  ratio {sub_ratio:.2f} (target >= 0.6)  "
          f"statements {sub_statements[0]:.1f} vs {sub_statements[1]:.1f}")
    print(f"  transition with audit entry (engine.fire) {opts.n / f_ours:8.1f}/s vs bare UPDATE "
          f"{opts.n / f_bare:8.1f}/s  ratio {fire_ratio:.2f} (target >= 0.5)  "
          f"statements {fire_statements[0]:.1f} vs {fire_statements[1]:.1f}")


if __name__ == "__main__":
    main()
