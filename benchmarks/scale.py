"""Page latency at scale: the same requests at 10,000 and at 1,000,000 cases (p95 of each, and the ratio).

    python benchmarks/scale.py [--db-small URL --db-large URL] [--large 1000000] [--small 10000]

Target (issue 9): queue page, board page and dashboard p95 at 1,000,000 cases ≤ 2× that at 10,000.
Generating 1,000,000 cases with their audit trails takes a few minutes on SQLite.
"""
from __future__ import annotations

import time

from common import args, generate, make_app, percentile


def measure(app, repeat: int) -> dict[str, float]:
    client = app.test_client()
    tokens = {u: client.post("/api/v1/tokens", json={"username": u, "password": "demo-password"}).get_json()["token"]
              for u in ("staff1", "worker1")}
    web = app.test_client()
    page = web.get("/login").get_data(as_text=True)
    csrf = page.split('name="csrf_token" value="')[1].split('"')[0]
    web.post("/login", data={"csrf_token": csrf, "login": "staff1", "password": "demo-password"})
    probes = {
        "queue API (staff, GET /api/v1/queue)": lambda: client.get(
            "/api/v1/queue", headers={"Authorization": f"Bearer {tokens['staff1']}"}),
        "queue page (staff, GET /work)": lambda: web.get("/work"),
        "my cases (worker, GET /api/v1/cases/aid)": lambda: client.get(
            "/api/v1/cases/aid", headers={"Authorization": f"Bearer {tokens['worker1']}"}),
        "public board (GET /board)": lambda: client.get("/board"),
    }
    out = {}
    for name, fn in probes.items():
        assert fn().status_code == 200, name
        times = []
        for _ in range(repeat):
            t = time.perf_counter()
            fn()
            times.append(time.perf_counter() - t)
        out[name] = percentile(times, 95)
    return out


def main():
    opts = args(__doc__, small=(int, 10_000, "cases in the small database"),
                large=(int, 1_000_000, "cases in the large database"), repeat=(int, 40, "requests per probe"),
                **{"db-large": (str, "", "URL of the large database (default: scratch SQLite)")})
    small, large = make_app(opts.db), make_app(getattr(opts, "db_large"))
    t = time.perf_counter()
    generate(small, opts.small)
    generate(large, opts.large)
    print(f"generated {opts.small:,} and {opts.large:,} cases in {time.perf_counter() - t:.0f} s")
    a, b = measure(small, opts.repeat), measure(large, opts.repeat)
    print(f"p95 over {opts.repeat} requests each; target: ratio <= 2")
    for name in a:
        print(f"  {name:<46} {a[name] * 1000:8.1f} ms at {opts.small:>9,}  {b[name] * 1000:8.1f} ms at "
              f"{opts.large:>9,}  ratio {b[name] / a[name]:5.2f}")


if __name__ == "__main__":
    main()
