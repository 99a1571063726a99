"""The production path: gunicorn with several workers on the suite's database, then a graceful stop."""
from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_gunicorn_workers_serve_and_stop_gracefully(app, demo, database_url, tmp_path):
    port = _free_port()
    env = {**os.environ, "CASEWORK_DATABASE_URL": database_url, "CASEWORK_INSTANCE": str(tmp_path),
           "CASEWORK_SECRET_KEY": "a-shared-secret-for-all-workers"}
    proc = subprocess.Popen([sys.executable, "-m", "gunicorn", "-w", "2", "-b", f"127.0.0.1:{port}",
                             "--graceful-timeout", "10", "wsgi:app"], cwd=ROOT, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(150):
            try:
                with urllib.request.urlopen(base + "/healthz", timeout=2) as r:
                    assert json.load(r)["status"] == "ok"
                break
            except OSError:
                time.sleep(0.2)
        else:
            raise AssertionError("gunicorn did not answer")
        # Tokens issued by one worker work on the others: one key, one database.
        req = urllib.request.Request(base + "/api/v1/tokens", method="POST",
                                     data=json.dumps({"username": "worker1", "password": "demo-password"}).encode(),
                                     headers={"Content-Type": "application/json"})
        with urllib.request.urlopen(req, timeout=10) as r:
            token = json.load(r)["token"]
        for _ in range(6):
            req = urllib.request.Request(base + "/api/v1/me", headers={"Authorization": f"Bearer {token}"})
            with urllib.request.urlopen(req, timeout=10) as r:
                assert json.load(r)["username"] == "worker1"
    finally:
        proc.send_signal(signal.SIGTERM)
        out, _ = proc.communicate(timeout=30)
    assert proc.returncode == 0, out
    assert '"event": "request"' in out and "Traceback" not in out
