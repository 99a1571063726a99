"""Start-up: the CPU time of importing the app and of `casework demo`, each beside its bare baseline.

    python benchmarks/startup.py [--repeat 5] [--demo-repeat 3]

Targets (issue 16): importing the app (`import wsgi`, `flask --app wsgi --help`) ≤ 1 s CPU; `casework demo`
with its history ≤ 2.5× a bare `db upgrade` on a fresh SQLite database. Every figure is the CPU time (user +
system) of a whole child process, exit included, median of interleaved repetitions; the children may write
bytecode caches, as a deployed app does (a warm-up round writes them first).
"""
from __future__ import annotations

import argparse
import os
import resource
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PY = sys.executable
FLASK = str(Path(PY).with_name("flask"))
BARE_APP = "from flask import Flask\napp = Flask('bare')\n"


def cpu(cmd: list[str], env: dict) -> float:
    """CPU seconds of one child process, from start to exit."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    subprocess.run(cmd, cwd=ROOT, env=env, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--repeat", type=int, default=5, help="repetitions of the import measures")
    p.add_argument("--demo-repeat", type=int, default=3, help="repetitions of demo vs db upgrade")
    opts = p.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="casework-startup-"))
    (tmp / "bare.py").write_text(BARE_APP)
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    env.update(CASEWORK_INSTANCE=str(tmp / "instance"), CASEWORK_SECRET_KEY="startup-benchmark-key-0123456789",
               CASEWORK_DATABASE_URL=f"sqlite:///{tmp / 'import.sqlite'}",
               PYTHONPATH=os.pathsep.join([str(tmp), str(ROOT)]))
    imports = {
        "import wsgi (the app)": [PY, "-c", "import wsgi"],
        "import bare Flask app": [PY, "-c", "import bare"],
        "flask --app wsgi --help": [FLASK, "--app", "wsgi", "--help"],
        "flask --app bare --help": [FLASK, "--app", "bare", "--help"],
    }
    for cmd in imports.values():  # warm-up: bytecode caches
        cpu(cmd, env)
    times: dict[str, list[float]] = {name: [] for name in imports}
    for _ in range(opts.repeat):
        for name, cmd in imports.items():
            times[name].append(cpu(cmd, env))

    demo = {"db upgrade (fresh SQLite)": [], "casework demo (with history)": []}
    for i in range(opts.demo_repeat):
        run_env = {**env, "CASEWORK_DATABASE_URL": f"sqlite:///{tmp / f'demo{i}.sqlite'}"}
        demo["db upgrade (fresh SQLite)"].append(cpu([FLASK, "--app", "wsgi", "db", "upgrade"], run_env))
        demo["casework demo (with history)"].append(cpu([FLASK, "--app", "wsgi", "casework", "demo"], run_env))

    med = {name: statistics.median(v) for name, v in {**times, **demo}.items()}
    print(f"CPU seconds, median of {opts.repeat} (imports) and {opts.demo_repeat} (demo) interleaved runs")
    for name, value in med.items():
        print(f"  {name:34} {value:6.2f} s")
    app, cli = med["import wsgi (the app)"], med["flask --app wsgi --help"]
    ratio = med["casework demo (with history)"] / med["db upgrade (fresh SQLite)"]
    print(f"import wsgi: {app:.2f} s CPU ({app / med['import bare Flask app']:.1f}x a bare Flask app), "
          f"target <= 1 s: {'ok' if app <= 1 else 'MISSED'}")
    print(f"flask --app wsgi --help: {cli:.2f} s CPU ({cli / med['flask --app bare --help']:.1f}x bare), "
          f"target <= 1 s: {'ok' if cli <= 1 else 'MISSED'}")
    print(f"casework demo: {ratio:.2f}x a bare db upgrade, target <= 2.5x: {'ok' if ratio <= 2.5 else 'MISSED'}")


if __name__ == "__main__":
    main()
