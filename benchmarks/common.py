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


_PAYLOAD = ('{"actor":"generator","at":"%s","case_id":%d,"changes":{},"comment":"","from":"%s","prev":"%s",'
            '"seq":%d,"to":"%s","trigger":"%s"}')  # AuditEntry.payload as compute_hash serialises it, for these rows


def _hash(cid, seq, at, frm, to, trig, prev) -> str:
    return hashlib.sha256((_PAYLOAD % (at.isoformat(), cid, frm, prev, seq, to, trig)).encode()).hexdigest()


def generate(app, n: int, seed: int = 7, due_today: int = 0, chunk: int = 20000, recent: int | None = None) -> None:
    """n cases across kinds and states, each with a two-entry audit trail (hash-chained), with the
    statistics' stays of those trails (the rows `casework stats-rebuild` computes) and a home visit for aid
    requests past intake. `due_today` of them get today's deadline (for the reminder sweep); the rest are
    spread far from it: over the last 700 days, or, with `recent`, that many in this year until nine days
    ago and the rest in the 30 years before (history that a year's statistics skip).

    Rows go in as tuples through the driver's executemany (SQLAlchemy Core's per-row processing costs more
    than the database does at a million cases), in the values SQLAlchemy itself would send."""
    from sqlalchemy import select, text
    from casework.accounts.models import User
    from casework.clock import local, to_utc, today, utcnow
    from casework.core.models import GENESIS, AuditEntry, Case, CongressSession
    from casework.extensions import db
    rnd = random.Random(seed)
    with app.app_context():
        users = db.session.execute(select(User.id, User.unit_id)).all()
        session_id = db.session.scalar(select(CongressSession.id))
        start = (db.session.scalar(select(db.func.max(Case.id))) or 0) + 1
        now, day = utcnow(), today()
        year_start = to_utc(datetime(day.year, 1, 1))
        sqlite = db.engine.dialect.name == "sqlite"
        mark = "?" if sqlite else "%s"
        if sqlite:
            ts = lambda v: v.strftime("%Y-%m-%d %H:%M:%S.%f")  # noqa: E731  (SQLAlchemy's SQLite format)
            iso = lambda v: v.isoformat() if v is not None else None  # noqa: E731
            empty, no_ids = "{}", "[]"
        else:
            from psycopg.types.json import Json
            ts = iso = lambda v: v  # noqa: E731
            empty, no_ids = Json({}), Json([])
        tables = {
            "cases": ("id", "kind", "number", "state", "version", "unit_id", "applicant_id", "created_by_id", "title",
                      "state_seq", "state_entered_at", "deadline", "created_at", "updated_at", "audit_seq",
                      "audit_hash"),
            "aid_requests": ("id", "category", "amount_requested", "circumstances", "details"),
            "proposals": ("id", "problem", "suggestion", "expected_benefit", "reply"),
            "motions": ("id", "session_id", "reasons", "proposal_text", "co_department_ids", "reopened", "reply"),
            "audit_entries": ("case_id", "seq", "at", "actor_label", "trigger", "from_state", "to_state", "comment",
                              "changes", "prev_hash", "hash"),
            "stat_stays": ("case_id", "unit_id", "kind", "state", "entered_at", "deadline", "left_at", "left_by",
                           "left_to", "rating", "seconds"),
            "aid_visits": ("case_id", "visited_on", "visitor_ids", "findings", "recorded_by_id", "at"),
        }
        sql = {t: f'INSERT INTO {t} ({", ".join(chr(34) + c + chr(34) for c in cols)}) '
                  f'VALUES ({", ".join([mark] * len(cols))})' for t, cols in tables.items()}
        for base in range(0, n, chunk):
            rows = {t: [] for t in tables}
            for i in range(base, min(n, base + chunk)):
                cid = start + i
                kind = ("aid", "proposal", "motion")[i % 3]
                state = rnd.choice(STATES[kind])
                uid, unit_id = users[rnd.randrange(len(users))]
                if recent is None:
                    created = now - timedelta(days=rnd.randrange(1, 700))
                elif i < recent:
                    created = year_start + timedelta(days=rnd.randrange(0, max(1, (now - year_start).days - 9)),
                                                     seconds=rnd.randrange(86400))
                else:
                    created = year_start - timedelta(days=rnd.randrange(1, 30 * 365), seconds=rnd.randrange(86400))
                moved = created + timedelta(hours=rnd.randrange(1, 200))
                if i < due_today:
                    deadline = day
                elif state in ("submitted", "verifying", "evaluating", "handling", "replied"):
                    deadline = day + timedelta(days=rnd.randrange(30, 400))
                else:
                    deadline = None
                first = _hash(cid, 1, created, "draft", "draft", "create", GENESIS)
                head = _hash(cid, 2, moved, "draft", state, "bulk", first)
                if i == base:  # the shortcut serialises exactly as the model does
                    probe = AuditEntry(case_id=cid, seq=2, at=moved, actor_label="generator", trigger="bulk",
                                       from_state="draft", to_state=state, comment="", changes={}, prev_hash=first)
                    assert probe.compute_hash() == head
                rows["cases"].append((cid, kind, f"{kind[0].upper()}B-{cid:08d}", state, 2, unit_id, uid, uid,
                                      "hardship" if kind == "aid" else f"关于改进工作的建议{cid}", 1, ts(moved),
                                      iso(deadline), ts(created), ts(moved), 2, head))
                if kind == "aid":
                    rows["aid_requests"].append((cid, "hardship", 300000, "", empty))
                    if state not in ("draft", "submitted", "withdrawn"):
                        rows["aid_visits"].append((cid, iso(local(moved).date()), no_ids, "", uid, ts(moved)))
                elif kind == "proposal":
                    rows["proposals"].append((cid, "问题描述", "改进建议", "", ""))
                else:
                    rows["motions"].append((cid, session_id, "理由", "建议", no_ids, False, ""))
                rows["audit_entries"].append((cid, 1, ts(created), "generator", "create", "draft", "draft", "", empty,
                                              GENESIS, first))
                rows["audit_entries"].append((cid, 2, ts(moved), "generator", "bulk", "draft", state, "", empty,
                                              first, head))
                if state != "draft":  # the bulk step ended the draft stay
                    rows["stat_stays"].append((cid, unit_id, kind, "draft", ts(created), None, ts(moved), "bulk",
                                               state, None, round((moved - created).total_seconds())))
            conn = db.session.connection()
            for table, batch in rows.items():
                if batch:
                    conn.exec_driver_sql(sql[table], batch)
            db.session.commit()
        if db.engine.dialect.name == "postgresql":
            db.session.execute(text("SELECT setval(pg_get_serial_sequence('cases', 'id'), (SELECT MAX(id) FROM cases))"))
            db.session.execute(text("ANALYZE"))
        else:
            db.session.execute(text("ANALYZE"))
        db.session.commit()


def activity(app, n: int, seed: int = 16) -> dict[str, int]:
    """What the board, fund and inbox pages show, in proportion to n cases: n/100 disclosures of the units
    (posted, ended, a few awaiting sign-off with their cases pending) with an item each, n/20 income lines on
    the union's aid fund and n/20 notifications to staff1. Returns the ids the page benchmark asks for."""
    from sqlalchemy import insert, select
    from casework.accounts.models import Unit, User
    from casework.clock import utcnow
    from casework.core.models import Case
    from casework.disclosure.models import Disclosure, DisclosureItem, PendingItem
    from casework.extensions import db
    from casework.funds.models import Fund, LedgerEntry
    from casework.notifications.models import Notification
    rnd = random.Random(seed)
    with app.app_context():
        units = db.session.scalars(select(Unit.id)).all()
        users = db.session.scalars(select(User.id)).all()
        staff = db.session.scalar(select(User.id).where(User.username == "staff1"))
        fund = db.session.scalar(select(Fund).where(Fund.code == "AID"))
        cases = db.session.execute(select(Case.id, Case.number).where(Case.kind == "aid")
                                   .order_by(Case.id).limit(max(n // 20, 10))).all()
        now = utcnow()
        d_id = (db.session.scalar(select(db.func.max(Disclosure.id))) or 0) + 1
        disclosures, items, pending = [], [], []
        for i in range(max(n // 100, 3)):
            status = "awaiting_signoff" if i < 3 else ("posted", "ended")[i % 2]
            started = None if status == "awaiting_signoff" else now - timedelta(days=rnd.randrange(1, 600))
            disclosures.append({"id": d_id + i, "unit_id": rnd.choice(units), "kind": "aid", "title": f"困难补助公示{i}",
                                "status": status, "version": 1, "correction": "", "period_days": 5,
                                "created_at": now, "starts_at": started, "signers": [],
                                "ends_on": (started + timedelta(days=7)).date() if started else None})
            case_id, number = cases[i % len(cases)]
            if status == "awaiting_signoff":
                pending.append({"case_id": case_id, "kind": "aid", "unit_id": disclosures[-1]["unit_id"],
                                "disclosure_id": d_id + i, "at": now})
            else:
                items.append({"disclosure_id": d_id + i, "seq": 1, "case_id": case_id, "case_number": number,
                              "masked_name": "张*", "unit_name": "一车间", "category": "困难补助", "amount": 200000,
                              "note": "", "withdrawn": False})
        db.session.execute(insert(Disclosure.__table__), disclosures)
        db.session.execute(insert(DisclosureItem.__table__), items)
        if pending:
            db.session.execute(insert(PendingItem.__table__), pending)
        lines = [{"fund_id": fund.id, "kind": "income", "amount": 10000 + i, "source": "donation", "note": "一日捐",
                  "actor_id": rnd.choice(users), "at": now - timedelta(minutes=i)} for i in range(n // 20)]
        if lines:
            db.session.execute(insert(LedgerEntry.__table__), lines)
            fund.balance += sum(line["amount"] for line in lines)
        notes = [{"user_id": staff, "case_id": cases[i % len(cases)][0], "at": now - timedelta(minutes=i),
                  "subject": f"{cases[i % len(cases)][1]} 待核实", "body": ""} for i in range(n // 20)]
        if notes:
            db.session.execute(insert(Notification.__table__), notes)
        db.session.commit()
        return {"staff": staff, "fund": fund.id, "case": cases[-1][0]}


def report(title: str, rows: list[tuple[str, float, float, str]]) -> None:
    """rows: (what, casework, baseline, target) → prints the ratio for each."""
    print(f"\n{title}")
    for what, ours, base, target in rows:
        print(f"  {what:<58} {ours * 1000:9.2f} ms vs {base * 1000:9.2f} ms  ratio {ours / base:6.2f}  ({target})")


__all__ = ["args", "make_app", "generate", "activity", "timed", "percentile", "report", "statistics", "json", "hashlib",
           "datetime"]
