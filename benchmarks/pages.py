"""The pages people use against a bare Flask + Jinja page that renders the same rows from the same database.

    python benchmarks/pages.py [--db URL] [--cases 10000] [--repeat 40]

Target (issue 16): each page's p95 ≤ 3× the bare page's (the medians' ratio is printed beside it). Both sides
run in one process, interleaved request by request (so both see the same machine noise), on the data builder's
cases plus board, fund and inbox rows (common.activity). The bare side signs nobody in, checks no roles and
uses no ORM: one Core SELECT per table the page shows (one GROUP BY for /stats), then a Jinja table.
Statements per request are printed for both.
"""
from __future__ import annotations

import time

from common import activity, args, generate, make_app, percentile

BARE_TEMPLATE = """<!doctype html><html lang="zh"><head><meta charset="utf-8"><title>{{ title }}</title></head>
<body><main><h1>{{ title }}</h1>{% for name, rows in tables %}<h2>{{ name }}</h2><table>
{% for row in rows %}<tr>{% for value in row %}<td>{{ value }}</td>{% endfor %}</tr>{% endfor %}
</table>{% endfor %}</main></body></html>"""


def bare_app(engine, ids: dict):
    """The floor: the same rows, fetched with one plain SELECT each and rendered in a plain template."""
    from flask import Flask, render_template_string
    from sqlalchemy import text
    app = Flask("bare")
    work = ("SELECT c.id, c.number, c.kind, c.state, c.deadline, u.name, n.name FROM cases c "
            "JOIN users u ON u.id = c.applicant_id JOIN units n ON n.id = c.unit_id "
            "WHERE c.state IN ('submitted', 'verifying', 'evaluating', 'handling') AND c.deadline IS NOT NULL "
            "ORDER BY c.deadline, c.id LIMIT :n")
    queries = {
        "home": [("work", work, {"n": 20}),
              ("mine", "SELECT id, number, kind, state, deadline FROM cases WHERE applicant_id = :u "
                       "ORDER BY id DESC LIMIT 20", {"u": ids["staff"]})],
        "work": [("work", work, {"n": 25}), ("units", "SELECT id, name FROM units ORDER BY path", {})],
        "cases": [("cases", "SELECT c.id, c.number, c.kind, c.state, c.deadline, u.name FROM cases c "
                             "JOIN users u ON u.id = c.applicant_id ORDER BY c.id DESC LIMIT 26", {})],
        "case": [("case", "SELECT c.number, c.state, c.title, u.name, n.name FROM cases c JOIN users u ON "
                          "u.id = c.applicant_id JOIN units n ON n.id = c.unit_id WHERE c.id = :c", {"c": ids["case"]}),
                 ("timeline", "SELECT a.seq, a.at, a.\"trigger\", a.to_state, a.comment, u.name FROM audit_entries a "
                              "LEFT JOIN users u ON u.id = a.actor_id WHERE a.case_id = :c ORDER BY a.seq",
                  {"c": ids["case"]}),
                 ("attachments", "SELECT doc_type, original_name, size FROM attachments WHERE case_id = :c",
                  {"c": ids["case"]})],
        "board": [("posted", "SELECT d.id, d.title, n.name, d.ends_on FROM disclosures d JOIN units n ON "
                              "n.id = d.unit_id WHERE d.status = 'posted' ORDER BY d.ends_on, d.id", {}),
                   ("past", "SELECT d.id, d.title, n.name, d.starts_at, d.ends_on FROM disclosures d JOIN units n "
                            "ON n.id = d.unit_id WHERE d.status = 'ended' ORDER BY d.starts_at DESC LIMIT 500", {}),
                   ("units", "SELECT id, name FROM units ORDER BY path", {})],
        "stats": [("cases", "SELECT kind, state, count(*) FROM cases GROUP BY kind, state", {})],
        "funds": [("funds", "SELECT f.id, f.name, f.code, n.name, f.balance, f.reserved FROM funds f "
                             "JOIN units n ON n.id = f.unit_id ORDER BY f.code", {})],
        "fund": [("ledger", "SELECT e.id, e.kind, e.amount, e.source, e.note, e.at, u.name FROM ledger_entries e "
                            "LEFT JOIN users u ON u.id = e.actor_id WHERE e.fund_id = :f ORDER BY e.id DESC "
                            "LIMIT 51", {"f": ids["fund"]})],
        "disclosures": [("disclosures", "SELECT d.id, d.title, n.name, d.status, d.version FROM disclosures d "
                                         "JOIN units n ON n.id = d.unit_id ORDER BY d.id DESC LIMIT 200", {})],
        "notifications": [("inbox", "SELECT n.id, n.at, n.subject, n.read_at, c.number FROM notifications n "
                                     "LEFT JOIN cases c ON c.id = n.case_id WHERE n.user_id = :u "
                                     "ORDER BY n.id DESC LIMIT 51", {"u": ids["staff"]})],
    }

    @app.get("/bare/<page>")
    def page(page):
        with engine.connect() as conn:
            tables = [(name, conn.execute(text(sql), params).all()) for name, sql, params in queries[page]]
        return render_template_string(BARE_TEMPLATE, title=page, tables=tables)
    return app


def main():
    opts = args(__doc__, cases=(int, 10_000, "cases to generate"), repeat=(int, 40, "requests per page and side"))
    app = make_app(opts.db)
    t = time.perf_counter()
    generate(app, opts.cases)
    ids = activity(app, opts.cases)
    print(f"generated {opts.cases:,} cases with board, fund and inbox rows in {time.perf_counter() - t:.0f} s")
    from sqlalchemy import event
    from casework.extensions import db
    with app.app_context():
        engine = db.engine
    statements = [0]
    event.listen(engine, "before_cursor_execute", lambda *_a: statements.__setitem__(0, statements[0] + 1))

    web = app.test_client()
    page = web.get("/login").get_data(as_text=True)
    csrf = page.split('name="csrf_token" value="')[1].split('"')[0]
    web.post("/login", data={"csrf_token": csrf, "login": "staff1", "password": "demo-password"})
    public = app.test_client()
    bare = bare_app(engine, ids).test_client()
    pages = [("home (/)", web, "/", "home"), ("queue (/work)", web, "/work", "work"),
             ("cases (/cases)", web, "/cases", "cases"),
             ("a case page", web, f"/cases/aid/{ids['case']}", "case"),
             ("public board (/board)", public, "/board", "board"), ("statistics (/stats)", web, "/stats", "stats"),
             ("funds (/funds)", web, "/funds", "funds"), ("a fund's ledger", web, f"/funds/{ids['fund']}", "fund"),
             ("disclosures (/disclosures)", web, "/disclosures", "disclosures"),
             ("inbox (/notifications)", web, "/notifications", "notifications")]
    times = {name: ([], []) for name, *_ in pages}
    counts = {}
    for name, client, url, bare_page in pages:  # warm both sides, and count statements once each
        for side, (c, u) in enumerate(((client, url), (bare, f"/bare/{bare_page}"))):
            assert c.get(u).status_code == 200, (name, u)
            before = statements[0]
            c.get(u)
            counts[name, side] = statements[0] - before
    for _ in range(opts.repeat):
        for name, client, url, bare_page in pages:
            for side, (c, u) in enumerate(((client, url), (bare, f"/bare/{bare_page}"))):
                t = time.perf_counter()
                c.get(u)
                times[name][side].append(time.perf_counter() - t)
    dialect = "PostgreSQL" if opts.db.startswith("postgres") else "SQLite"
    print(f"pages vs a bare Flask + Jinja page with the same rows, {dialect}, {opts.cases:,} cases, "
          f"p95 over {opts.repeat} interleaved requests each; target: ratio <= 3")
    for name, *_ in pages:
        ours, theirs = percentile(times[name][0], 95), percentile(times[name][1], 95)
        # The median's ratio too: on a shared machine one stall moves a p95 of a few dozen requests.
        mid = percentile(times[name][0], 50) / percentile(times[name][1], 50)
        print(f"  {name:<28} {ours * 1000:8.1f} ms vs {theirs * 1000:7.1f} ms  ratio {ours / theirs:6.2f}  "
              f"(median {mid:5.2f})  statements {counts[name, 0]:3d} vs {counts[name, 1]:2d}")


if __name__ == "__main__":
    main()
