"""Statistics that grow with the period's activity, not with all history (issue 16).

    python benchmarks/stats.py [--db URL] [--small 10000] [--large 1000000] [--repeat 30]

Two databases from the data builder (common.generate): `small` cases, all created this year, and `large`
cases of which the same number are this year's and the rest spread over the 30 years before. So this year's
activity is the same in both and only the history grows. Printed side by side, requests interleaved:
- p95 of `/stats` (staff1, the union's whole tree, this year) and of each annual report's figures
  (reports.annual_values, what the PDF prints), large vs small: target ratio ≤ 2;
- `/stats` against a bare Flask + Jinja page with one GROUP BY (this year's cases by kind and state, the
  dashboard's first table) on the same database: target ratio ≤ 3.
With --db postgresql://…/NAME the two databases are NAME_small and NAME_large on that server (created afresh).
The builder's time is printed; `--check` also proves the small database's built aggregate equals
`casework stats-rebuild --check`.
"""
from __future__ import annotations

import time
from datetime import date

from common import args, generate, make_app, percentile

BARE = """<!doctype html><html lang="zh"><head><meta charset="utf-8"><title>stats</title></head><body><main>
<h1>stats</h1><table>{% for row in rows %}<tr>{% for v in row %}<td>{{ v }}</td>{% endfor %}</tr>{% endfor %}
</table></main></body></html>"""


def _database(url: str, suffix: str) -> str:
    if not url.startswith("postgresql"):
        return ""
    import sqlalchemy as sa
    u = sa.engine.make_url(url)
    name = f"{u.database}_{suffix}"
    admin = sa.create_engine(u.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}"')
        conn.exec_driver_sql(f'CREATE DATABASE "{name}"')
    admin.dispose()
    return u.set(database=name).render_as_string(hide_password=False)


def bare_app(engine, lo, hi):
    from flask import Flask, render_template_string
    from sqlalchemy import text
    app = Flask("bare")

    @app.get("/bare/stats")
    def page():
        with engine.connect() as conn:
            rows = conn.execute(text("SELECT kind, state, count(*) FROM cases WHERE created_at >= :lo AND "
                                     "created_at < :hi GROUP BY kind, state ORDER BY kind, state"),
                                {"lo": lo, "hi": hi}).all()
        return render_template_string(BARE, rows=rows)
    return app


class Side:
    def __init__(self, app):
        from sqlalchemy import select
        from casework.accounts.models import Unit
        from casework.clock import today
        from casework.extensions import db
        from casework.stats import reports
        self.app = app
        self.web = app.test_client()
        page = self.web.get("/login").get_data(as_text=True)
        csrf = page.split('name="csrf_token" value="')[1].split('"')[0]
        self.web.post("/login", data={"csrf_token": csrf, "login": "staff1", "password": "demo-password"})
        day = today()
        self.url = f"/stats?from={day.year}-01-01&to={day.isoformat()}"
        with app.app_context():
            hq = db.session.scalar(select(Unit).where(Unit.parent_id.is_(None)))
            self.hq_id = hq.id
            scope = reports.year_scope(hq, day.year)
            self.bare = bare_app(db.engine, scope.lo, scope.hi).test_client()
        self.year = day.year

    def stats(self):
        r = self.web.get(self.url)
        assert r.status_code == 200, r.status_code

    def bare_stats(self):
        assert self.bare.get("/bare/stats").status_code == 200

    def annual(self, kind):
        from casework.accounts.models import Unit
        from casework.extensions import db
        from casework.stats import reports
        with self.app.test_request_context():
            reports.annual_values(kind, reports.year_scope(db.session.get(Unit, self.hq_id), self.year))
            db.session.remove()


def main():
    opts = args(__doc__, small=(int, 10_000, "cases in the small database (all this year)"),
                large=(int, 1_000_000, "cases in the large database (as many this year, the rest before)"),
                repeat=(int, 30, "requests per probe and side"), check=(int, 1, "1: check the small aggregate"))
    small = make_app(_database(opts.db, "small") or opts.db)
    large = make_app(_database(opts.db, "large"))
    built = {}
    for app, n in ((small, opts.small), (large, opts.large)):
        t = time.perf_counter()
        generate(app, n, recent=opts.small)
        built[n] = time.perf_counter() - t
    dialect = "PostgreSQL" if opts.db.startswith("postgres") else "SQLite"
    print(f"{dialect}: built {opts.small:,} cases in {built[opts.small]:.0f} s and {opts.large:,} cases in "
          f"{built[opts.large]:.0f} s ({opts.small:,} of them this year in both)")
    if opts.check:
        from casework.stats import aggregates
        with small.app_context():
            kept, fresh, differ = aggregates.differences()
        print(f"small database: built aggregate {'equals' if not differ else 'DIFFERS FROM'} the recomputation "
              f"({kept} stays kept, {fresh} recomputed, {differ} differ)")
    sides = {n: Side(app) for app, n in ((small, opts.small), (large, opts.large))}
    probes = {"/stats (this year, whole union)": lambda s: s.stats(),
              "bare Flask + Jinja, one GROUP BY": lambda s: s.bare_stats(),
              **{f"annual report figures: {k}": (lambda s, k=k: s.annual(k)) for k in ("aid", "proposal", "motion")}}
    times = {(name, n): [] for name in probes for n in sides}
    for side in sides.values():  # warm-up
        for fn in probes.values():
            fn(side)
    for _ in range(opts.repeat):
        for name, fn in probes.items():
            for n, side in sides.items():
                t = time.perf_counter()
                fn(side)
                times[name, n].append(time.perf_counter() - t)
    p95 = {key: percentile(v, 95) for key, v in times.items()}
    a, b = opts.small, opts.large
    print(f"p95 over {opts.repeat} interleaved requests each; targets: {b:,} vs {a:,} ratio <= 2, "
          f"/stats vs bare <= 3")
    for name in probes:
        print(f"  {name:<40} {p95[name, a] * 1000:8.1f} ms at {a:>9,}  {p95[name, b] * 1000:8.1f} ms at {b:>9,}"
              f"  ratio {p95[name, b] / p95[name, a]:5.2f}")
    for n in (a, b):
        ours, bare = p95["/stats (this year, whole union)", n], p95["bare Flask + Jinja, one GROUP BY", n]
        print(f"  /stats vs the bare page at {n:>9,}: {ours * 1000:.1f} ms vs {bare * 1000:.1f} ms, "
              f"ratio {ours / bare:.2f}")


if __name__ == "__main__":
    main()
