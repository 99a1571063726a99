"""The operator commands, run as an operator would, on the database the suite runs against."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from .databases import new_database

ROOT = Path(__file__).resolve().parent.parent


def _fresh_database(database_url: str, tmp_path: Path) -> str:
    return new_database(database_url, tmp_path, "cli")


def _flask(args, url, tmp_path):
    env = {**os.environ, "CASEWORK_DATABASE_URL": url, "CASEWORK_INSTANCE": str(tmp_path / "instance")}
    return subprocess.run([sys.executable, "-m", "flask", "--app", "wsgi", *args], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=300)


def test_upgrade_demo_and_verify_from_empty(database_url, tmp_path):
    url = _fresh_database(database_url, tmp_path)
    before = _flask(["casework", "demo"], url, tmp_path)
    assert before.returncode != 0 and "db upgrade" in before.stderr and "Traceback" not in before.stderr
    early = _flask(["casework", "stats-rebuild"], url, tmp_path)
    assert early.returncode != 0 and "db upgrade" in early.stderr and "Traceback" not in early.stderr
    assert _flask(["db", "upgrade"], url, tmp_path).returncode == 0
    first = _flask(["casework", "demo"], url, tmp_path)
    assert first.returncode == 0 and "19 users" in first.stdout
    second = _flask(["casework", "demo"], url, tmp_path)
    assert second.returncode == 0 and "nothing new" in second.stdout
    verify = _flask(["casework", "verify-audit"], url, tmp_path)
    assert verify.returncode == 0 and "intact" in verify.stdout
    check = _flask(["casework", "stats-rebuild", "--check"], url, tmp_path)
    assert check.returncode == 0 and "equals the audit history" in check.stdout, check.stderr
    rebuilt = [_flask(["casework", "stats-rebuild"], url, tmp_path) for _ in range(2)]
    assert all(r.returncode == 0 and "stays" in r.stdout for r in rebuilt)
    assert rebuilt[0].stdout.split(" stays")[0] == rebuilt[1].stdout.split(" stays")[0]  # the same count again
