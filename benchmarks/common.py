"""Shared by the benchmark scripts: an app on a scratch database, and a fast generator of realistic data.

Benchmarks print ratios measured side by side in one run; they are not tests (the machines are noisy).
"""
from __future__ import annotations

import argparse
import hashlib
import json
import os
import random
import statistics
import sys
import tempfile
import time
from datetime import datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))


def args(description: str, **extra):
    p = argparse.ArgumentParser(description=description)
    p.add_argument("--db", default="", help="database URL (default: a scratch SQLite file)")
    for name, (kind, default, text) in extra.items():
        p.add_argument(f"--{name}", type=kind, default=default, help=text)
    return p.parse_args()


def make_app(db_url: str = ""):
    """A casework app on a fresh, migrated database with the demo union."""
    tmp = Path(tempfile.mkdtemp(prefix="casework-bench-"))
    os.environ["CASEWORK_INSTANCE"] = str(tmp)
    from casework import create_app
    url = db_url or f"sqlite:///{tmp / 'bench.sqlite'}"
    app = create_app({"SQLALCHEMY_DATABASE_URI": url, "SECRET_KEY": "benchmark-secret-key-0123456789"})
    with app.app_context():
        from flask_migrate import upgrade
        from casework import demo
        from casework.extensions import db
        if url.startswith("postgresql"):
            db.session.execute(db.text("DROP SCHEMA public CASCADE; CREATE SCHEMA public"))
            db.session.commit()
        upgrade(revision="heads")
        demo.load()
        db.session.commit()
    return app


def percentile(values, p):
    values = sorted(values)
    return values[min(len(values) - 1, int(round(p / 100 * (len(values) - 1))))]


def timed(fn, repeat: int) -> list[float]:
    out = []
    for _ in range(repeat):
        t = time.perf_counter()
        fn()
        out.append(time.perf_counter() - t)
    return out


STATES = {
    "aid": ["draft", "submitted", "verifying", "pending_approval", "posting", "approved", "disbursed", "closed",
            "rejected", "withdrawn"],
    "proposal": ["draft", "submitted", "evaluating", "graded", "implementing", "implemented", "rewarded", "closed",
                 "declined", "not_adopted"],
    "motion": ["draft", "cosigning", "submitted", "handling", "replied", "closed", "merged", "not_filed", "lapsed"],
}


def generate(app, n: int, seed: int = 7, due_today: int = 0, chunk: int = 20000) -> None:
    """n cases across kinds and states, each with a two-entry audit trail (hash-chained), bulk-inserted.
    `due_today` of them get today's deadline (for the reminder sweep); the rest are spread far from it."""
    from sqlalchemy import insert, select, text
    from casework.accounts.models import Unit, User
    from casework.clock import today, utcnow
    from casework.core.models import GENESIS, AuditEntry, Case, CongressSession
    from casework.extensions import db
    from casework.aid.models import AidRequest
    from casework.motions.models import Motion
    from casework.proposals.models import Proposal
    rnd = random.Random(seed)
    with app.app_context():
        users = db.session.execute(select(User.id, User.unit_id)).all()
        session_id = db.session.scalar(select(CongressSession.id))
        start = (db.session.scalar(select(db.func.max(Case.id))) or 0) + 1
        now, day = utcnow(), today()
        for base in range(0, n, chunk):
            cases, aid, prop, mot, audit = [], [], [], [], []
            for i in range(base, min(n, base + chunk)):
                cid = start + i
                kind = ("aid", "proposal", "motion")[i % 3]
                state = rnd.choice(STATES[kind])
                uid, unit_id = users[rnd.randrange(len(users))]
                created = now - timedelta(days=rnd.randrange(1, 700))
                if i < due_today:
                    deadline = day
                elif state in ("submitted", "verifying", "evaluating", "handling", "replied"):
                    deadline = day + timedelta(days=rnd.randrange(30, 400))
                else:
                    deadline = None
                cases.append({"id": cid, "kind": kind, "number": f"{kind[0].upper()}B-{cid:08d}", "state": state,
                              "version": 2, "unit_id": unit_id, "applicant_id": uid, "created_by_id": uid,
                              "title": "hardship" if kind == "aid" else f"关于改进工作的建议{cid}", "state_seq": 1,
                              "state_entered_at": created, "deadline": deadline, "created_at": created,
                              "updated_at": created})
                if kind == "aid":
                    aid.append({"id": cid, "category": "hardship", "amount_requested": 300000, "circumstances": "",
                                "details": {}})
                elif kind == "proposal":
                    prop.append({"id": cid, "problem": "问题描述", "suggestion": "改进建议", "expected_benefit": "",
                                 "reply": ""})
                else:
                    mot.append({"id": cid, "session_id": session_id, "reasons": "理由", "proposal_text": "建议",
                                "co_department_ids": [], "reopened": False, "reply": ""})
                prev = GENESIS
                for seq, (trig, frm, to) in enumerate((("create", "draft", "draft"), ("bulk", "draft", state)), 1):
                    entry = AuditEntry(case_id=cid, seq=seq, at=created, actor_label="generator", trigger=trig,
                                       from_state=frm, to_state=to, comment="", changes={}, prev_hash=prev)
                    entry.hash = entry.compute_hash()
                    prev = entry.hash
                    audit.append({c: getattr(entry, c) for c in ("case_id", "seq", "at", "actor_label", "trigger",
                                                                 "from_state", "to_state", "comment", "changes",
                                                                 "prev_hash", "hash")})
                cases[-1].update(audit_seq=2, audit_hash=prev)  # the chain's head, as the engine keeps it
            db.session.execute(insert(Case.__table__), cases)
            for model, rows in ((AidRequest, aid), (Proposal, prop), (Motion, mot)):
                if rows:
                    db.session.execute(insert(model.__table__), rows)
            db.session.execute(insert(AuditEntry.__table__), audit)
            db.session.commit()
        if db.engine.dialect.name == "postgresql":
            db.session.execute(text("SELECT setval(pg_get_serial_sequence('cases', 'id'), (SELECT MAX(id) FROM cases))"))
            db.session.execute(text("ANALYZE"))
        else:
            db.session.execute(text("ANALYZE"))
        db.session.commit()


def report(title: str, rows: list[tuple[str, float, float, str]]) -> None:
    """rows: (what, casework, baseline, target) → prints the ratio for each."""
    print(f"\n{title}")
    for what, ours, base, target in rows:
        print(f"  {what:<58} {ours * 1000:9.2f} ms vs {base * 1000:9.2f} ms  ratio {ours / base:6.2f}  ({target})")


__all__ = ["args", "make_app", "generate", "timed", "percentile", "report", "statistics", "json", "hashlib",
           "datetime"]
