"""Many people at once: no "database is locked", nothing lost, one winner where only one may win."""
from __future__ import annotations

import http.cookiejar
import re
import threading
import urllib.parse
import urllib.request

from sqlalchemy import func, select

from casework.proposals.models import Proposal

from ..browser.conftest import serve

TOKEN = re.compile(r'name="csrf_token" value="([^"]+)"')


def _session(base):
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar()))

    def get(path):
        with opener.open(base + path, timeout=60) as r:
            return r.status, r.read().decode()

    def post(path, data):
        _status, page = get(path)
        data = {"csrf_token": TOKEN.search(page).group(1), **data}
        req = urllib.request.Request(base + path, data=urllib.parse.urlencode(data).encode(), method="POST")
        try:
            with opener.open(req, timeout=60) as r:
                return r.status, r.read().decode()
        except urllib.error.HTTPError as exc:
            return exc.code, exc.read().decode()
    return get, post


def test_fifty_simultaneous_form_posts(app, demo, db):
    users = ["worker1", "worker2", "worker3", "leader1", "rep1"]
    results, errors = [], []
    with serve(app) as base:
        sessions = []
        for i in range(50):
            get, post = _session(base)
            status, _ = post("/login", {"login": users[i % len(users)], "password": "demo-password"})
            assert status == 200  # followed the redirect home
            sessions.append(post)
        barrier = threading.Barrier(50)

        def submit(i, post):
            try:
                barrier.wait(timeout=30)
                status, body = post("/cases/proposal/new", {"title": f"并发建议{i}", "problem": "问题",
                                                           "suggestion": "建议"})
                results.append(status)
                if "database is locked" in body:
                    errors.append(i)
            except Exception as exc:  # a thread must report, not vanish
                errors.append(repr(exc))

        threads = [threading.Thread(target=submit, args=(i, p)) for i, p in enumerate(sessions)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(120)
    assert errors == [] and results == [200] * 50
    db.session.expire_all()
    assert db.session.scalar(select(func.count()).select_from(Proposal)) == 50


APPROVE = r'''
import sys, time
from casework import create_app
from casework.core import engine
from casework.core.errors import CaseworkError
from casework.extensions import db
from casework.accounts.models import User
from casework.aid.models import AidRequest
from sqlalchemy import select
app = create_app()
with app.app_context():
    user = db.session.scalar(select(User).where(User.username == sys.argv[2]))
    case = db.session.get(AidRequest, int(sys.argv[1]))
    db.session.rollback()
    while time.time() < float(sys.argv[3]):
        time.sleep(0.001)
    try:
        engine.fire(case, "approve", user, {"amount": "2000.00"})
        db.session.commit()
        print("moved" if case.state == "posting" else "voted")
    except CaseworkError as exc:
        db.session.rollback()
        print(exc.code)
'''


def test_final_approvals_from_two_processes_move_the_case_once(app, demo, db, database_url, tmp_path):
    import os
    import subprocess
    import sys
    import time
    from pathlib import Path

    from casework.core.models import AuditEntry
    from casework.funds.models import LedgerEntry

    from ..factories import aid_to, fire
    case = aid_to(demo, "pending_approval")
    fire(case, "approve", demo["committee1"], amount="2000.00")
    fire(case, "approve", demo["committee2"], amount="2000.00")
    case_id = case.id
    db.session.commit()
    db.session.remove()
    env = {**os.environ, "CASEWORK_DATABASE_URL": database_url, "CASEWORK_INSTANCE": str(tmp_path),
           "CASEWORK_SECRET_KEY": "x" * 32}
    start = time.time() + 4
    root = Path(__file__).resolve().parents[2]
    procs = [subprocess.Popen([sys.executable, "-c", APPROVE, str(case_id), who, str(start)], cwd=root, env=env,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
             for who in ("committee3", "committee4")]
    outs = [p.communicate(timeout=120) for p in procs]
    answers = sorted(o[0].strip().splitlines()[-1] for o in outs)
    # One vote carries the case; the other finds it changed (stale) or already past the vote.
    assert answers[0] == "moved" or answers[1] == "moved", outs
    assert answers.count("moved") == 1, outs
    assert set(answers) - {"moved"} <= {"stale", "not_possible", "voted"}, outs
    reserves = db.session.scalar(select(func.count()).select_from(LedgerEntry).where(
        LedgerEntry.case_id == case_id, LedgerEntry.kind == "reserve"))
    assert reserves == 1
    moves = db.session.scalar(select(func.count()).select_from(AuditEntry).where(
        AuditEntry.case_id == case_id, AuditEntry.to_state == "posting"))
    assert moves == 1
