"""30 sign-ins at once (29 wrong, 1 right) at gunicorn with 4 workers sharing Redis and the suite's database
(PostgreSQL under scripts/with-postgres.sh): no more passwords are ever checked than one address's budget, and
the per-address limit is counted once for all workers."""
from __future__ import annotations

import http.cookiejar
import json
import os
import re
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from casework.accounts import auth

ROOT = Path(__file__).resolve().parents[2]
TRIES = 30
# Per hour, not the default per minute: on a loaded machine the burst may take longer than a minute, and a
# moving window would then let early tries fall out of it.
PER_HOUR = 20


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kw):
        return None


def test_thirty_parallel_sign_ins_check_at_most_the_budget(app, demo, database_url, redis_url, tmp_path):
    port = _free_port()
    log = tmp_path / "gunicorn.log"
    env = {**os.environ, "CASEWORK_DATABASE_URL": database_url, "CASEWORK_INSTANCE": str(tmp_path),
           "CASEWORK_SECRET_KEY": "a-shared-secret-for-all-workers", "CASEWORK_REDIS_URL": redis_url,
           "CASEWORK_LIMIT_SIGN_IN": f"{PER_HOUR} per hour"}
    with log.open("w") as out:
        proc = subprocess.Popen([sys.executable, "-m", "gunicorn", "-w", "4", "-b", f"127.0.0.1:{port}",
                                 "--graceful-timeout", "10", "--timeout", "180", "wsgi:app"], cwd=ROOT, env=env,
                                stdout=out, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    try:
        ready_by = time.monotonic() + 300  # four workers importing the app on a busy machine
        while time.monotonic() < ready_by:
            try:
                with urllib.request.urlopen(base + "/healthz", timeout=5) as r:
                    assert json.load(r)["status"] == "ok"
                break
            except OSError:
                time.sleep(0.2)
        else:
            raise AssertionError("gunicorn did not answer:\n" + log.read_text())

        # Each caller has its own session and CSRF token, then all post at once.
        openers, tokens = [], []
        for _ in range(TRIES):
            opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar()),
                                                 NoRedirect)
            with opener.open(base + "/login", timeout=30) as r:
                tokens.append(re.search(r'name="csrf_token" value="([^"]+)"', r.read().decode()).group(1))
            openers.append(opener)
        passwords = ["wrong-password"] * TRIES
        passwords[TRIES // 2] = "demo-password"
        barrier = threading.Barrier(TRIES)

        def sign_in(i):
            body = urllib.parse.urlencode({"csrf_token": tokens[i], "login": "worker1",
                                           "password": passwords[i]}).encode()
            barrier.wait(timeout=60)
            try:
                with openers[i].open(base + "/login", data=body, timeout=60) as r:
                    return r.status, r.headers
            except urllib.error.HTTPError as exc:
                return exc.code, exc.headers

        with ThreadPoolExecutor(TRIES) as pool:
            answers = list(pool.map(sign_in, range(TRIES)))
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=30)
    text = log.read_text()
    assert proc.returncode == 0 and "Traceback" not in text, text
    statuses = [status for status, _headers in answers]
    assert set(statuses) <= {302, 422, 429}, statuses
    # One count for all four workers (Redis): exactly the limit gets through, the rest wait, told for how long.
    assert statuses.count(429) == TRIES - PER_HOUR, statuses
    assert all(int(headers["Retry-After"]) > 0 for status, headers in answers if status == 429)
    events = [json.loads(line) for line in text.splitlines() if line.startswith("{") and '"sign_in"' in line]
    assert len(events) == PER_HOUR
    checked = [e for e in events if e["password_checked"]]
    # At most the budget of wrong passwords is checked. The right one, if it came early, gives its try back
    # (a colleague's success costs nothing), so one more may be checked beside it: never a sixth guess.
    wrong = [e for e in checked if e["outcome"] == "wrong"]
    assert 1 <= len(checked) and len(wrong) <= auth.FREE_PER_ADDRESS, events
    assert len(checked) - len(wrong) <= 1, events
    right_checked = statuses[TRIES // 2] == 302
    assert statuses.count(302) == int(right_checked)  # only the right password signs in, if it was checked
    assert len([e for e in events if e["outcome"] == "waiting"]) == PER_HOUR - len(checked)
