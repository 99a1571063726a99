"""The reminder sweep's cost grows with what is due, not with all cases.

    python benchmarks/sweep.py [--small 10000] [--large 1000000] [--due 100]

Target (issue 9): a sweep at 1,000,000 cases with 100 due ≤ 2× a sweep at 10,000 cases with 100 due.
Each side: a first sweep that sends the 100 cases' reminders, then repeated sweeps with nothing new due
(the steady state every minute): both are timed.
"""
from __future__ import annotations

import time

from common import args, generate, make_app, percentile


def sweeps(app, repeat: int) -> tuple[float, float, int]:
    from casework.scheduler.sweep import run_due
    from casework.extensions import db
    with app.app_context():
        t = time.perf_counter()
        report = run_due(parts=("steps", "reminders"))
        db.session.commit()
        first = time.perf_counter() - t
        sent = sum(report.reminders.values())
        times = []
        for _ in range(repeat):
            t = time.perf_counter()
            run_due(parts=("steps", "reminders"))
            db.session.commit()
            times.append(time.perf_counter() - t)
    return first, percentile(times, 95), sent


def main():
    opts = args(__doc__, small=(int, 10_000, "cases in the small database"),
                large=(int, 1_000_000, "cases in the large database"), due=(int, 100, "cases due today"),
                repeat=(int, 20, "steady-state sweeps"))
    small, large = make_app(opts.db), make_app("")
    generate(small, opts.small, due_today=opts.due)
    generate(large, opts.large, due_today=opts.due)
    a, b = sweeps(small, opts.repeat), sweeps(large, opts.repeat)
    print(f"reminder sweep, {opts.due} cases due; target: ratio <= 2")
    print(f"  first sweep (sends reminders)   {a[0] * 1000:8.1f} ms at {opts.small:>9,} ({a[2]} sent)  "
          f"{b[0] * 1000:8.1f} ms at {opts.large:>9,} ({b[2]} sent)  ratio {b[0] / a[0]:5.2f}")
    print(f"  steady sweep p95 (nothing new)  {a[1] * 1000:8.1f} ms at {opts.small:>9,}            "
          f"{b[1] * 1000:8.1f} ms at {opts.large:>9,}            ratio {b[1] / a[1]:5.2f}")


if __name__ == "__main__":
    main()
