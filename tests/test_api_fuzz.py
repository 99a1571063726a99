"""Schema-based fuzzing of the JSON API: schemathesis builds requests for every operation from
/api/v1/openapi.json and checks each answer: never a 5xx, only documented status codes, the documented content
type and the documented shape (API.md "Conventions").

It runs once anonymously (public operations answer, the rest say 401) and once per privileged token. The
generation is derandomised with a fixed seed, and every request starts from the same seeded database: the
tables a request wrote to are restored from the snapshot taken after seeding before the next request goes out.
"""
from __future__ import annotations

import io
import re
from datetime import timedelta

import pytest
import schemathesis
import sqlalchemy as sa
import time_machine
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (content_type_conformance, response_schema_conformance,
                                               status_code_conformance)

import workflows
from casework.clock import utcnow

from .conftest import START, _wipe
from .factories import aid_to, attach, fire, new_case

CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]
# Who calls; how many random requests each operation gets; whether the coverage phase (boundary values and
# invalid inputs, much the same for everybody) runs too; the tags of the operations called (None: all).
# Anonymous calls mostly meet the 401 wall; the roles reach their own operations' logic.
CALLERS = {
    "anonymous": (5, False, None),
    "staff1": (25, True, None),
    "admin": (15, False, None),
    "committee1": (20, False, ["casework", "disclosure"]),
    "fund1": (25, False, ["funds"]),
}
WRITE = re.compile(r'\s*(?:INSERT\s+INTO|UPDATE|DELETE\s+FROM)\s+"?(\w+)', re.IGNORECASE)
# Which table a path parameter names a row of.
ID_TABLES = {"case_id": "cases", "attachment_id": "attachments", "disclosure_id": "disclosures",
             "fund_id": "funds", "entry_id": "ledger_entries", "notice_id": "notices",
             "note_id": "notifications", "import_id": "roster_imports", "session_id": "congress_sessions",
             "token_id": "api_tokens"}
PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
ROSTER = ("\ufeff姓名,工号,手机,单位,身份证号,角色\n"
          "钱多多,T00001,13900000001,示范公司工会委员会/生产车间分会/一车间小组,,职工\n"
          "孙小小,T00002,139,示范公司工会委员会/不存在的小组,,职工\n").encode()


def _config(examples: int, coverage: bool, tags: list[str] | None) -> schemathesis.Config:
    return schemathesis.Config.from_dict({
        "operations": [{"exclude-tag": tags, "enabled": False}] if tags else [],
        "seed": 20261125,
        "cache": {"enabled": False},
        "suppress-health-check": ["too_slow", "filter_too_much", "data_too_large"],
        "generation": {"deterministic": True, "database": "none", "max-examples": examples,
                       # the fuzzer must not invent bearer tokens: the caller's own is sent with every request
                       "with-security-parameters": False},
        "phases": {
            "examples": {"extra-data-sources": {"responses": False}},
            # valid requests reach the operations' logic; the coverage phase sends the invalid ones
            "fuzzing": {"extra-data-sources": {"responses": False}, "generation": {"mode": "positive"}},
            "coverage": {"enabled": coverage, "extra-data-sources": {"responses": False}},
            "stateful": {"enabled": False},
        },
    })


def _seed(demo_users):
    """The demo union plus cases in several states, a posting, notices, an attachment and a roster check."""
    from casework.attachments import operations as attachments
    from casework.core.models import CongressSession
    from casework.disclosure import operations as board
    from casework.extensions import db
    from casework.funds.models import Fund
    from casework.proposals import operations as proposals
    from casework.roster.operations import import_now
    from werkzeug.datastructures import FileStorage

    u = demo_users
    posted = aid_to(u, "posting")  # approved: an approval notice, a pending posting item
    hq = db.session.scalar(sa.select(Fund).where(Fund.code == "AID")).unit
    d = board.make_batch(hq, "aid")
    db.session.commit()
    for i in (1, 2, 3):
        board.sign_off(d, u[f"committee{i}"], "同意公示")
        db.session.commit()
    board.object_to(d.items[0], "金额偏高", True, None)
    aid_to(u, "posting")
    assert board.make_batch(hq, "aid").status == "awaiting_signoff"
    db.session.commit()
    for state in ("pending_approval", "verifying", "submitted"):
        aid_to(u, state)
    draft = new_case("aid", u["worker1"])
    attachments.save(draft, FileStorage(io.BytesIO(PDF), filename="收入证明.pdf"), "income_proof", u["worker1"])
    db.session.commit()
    attach(posted, "visit_photo", u["staff1"], private=True)
    proposal = new_case("proposal", u["worker1"])
    fire(proposal, "submit", u["worker1"])
    fire(proposal, "accept", u["staff1"], evaluators=["evaluator1", "evaluator2"])
    fire(new_case("proposal", u["worker2"], title="食堂增加夜班供餐"), "submit", u["worker2"])
    again = new_case("proposal", u["worker3"], title="冲压车间排班再议")
    fire(again, "submit", u["worker3"])
    proposals.mark_duplicate(again, proposal.id, u["staff1"])
    db.session.commit()
    session = db.session.scalar(sa.select(CongressSession))
    motion = new_case("motion", u["rep1"], session=session.id)
    fire(motion, "open_for_cosigning", u["rep1"])
    for rep in ("rep2", "rep3"):
        fire(motion, "cosign", u[rep])
    fire(motion, "submit", u["rep1"])
    fire(motion, "file", u["motions1"], department="TECH", co_departments=["HR"], deadline="2027-01-15")
    import_now(ROSTER, "roster.csv", u["admin"], dry_run=True)
    db.session.commit()


class Snapshot:
    """Every table's rows after seeding; `restore` puts exactly these back into the tables named and into
    every table that refers to them (their rows go when the rows they point at go)."""

    def __init__(self, db, available: dict):
        self.db = db
        self.available = available  # (caller, case id) -> the triggers the caller may fire on it
        self.tables = {t.name: t for t in db.metadata.sorted_tables}
        with db.engine.connect() as conn:
            self.rows = {t.name: [dict(r._mapping)
                                  for r in conn.execute(sa.select(t).order_by(*t.primary_key))]
                         for t in self.tables.values()}
        self.children = {name: set() for name in self.tables}
        for t in self.tables.values():
            for fk in t.foreign_keys:
                if fk.column.table is not t:
                    self.children[fk.column.table.name].add(t.name)

    def steer(self, case, caller: str):
        """Random ids almost never name a seeded row, random triggers rarely fit the case and random versions
        are stale: point most of them at what exists, so the request gets past the lookups to the logic.
        The smallest ids, huge ids, values of the wrong type and every fourth version stay as generated."""
        params = dict(case.path_parameters or {})
        for name, value in params.items():
            table = ID_TABLES.get(name)
            if isinstance(value, str) and value.isascii() and value.isdigit():
                value = int(value)  # the coverage phase sends path values as text
            if table is None or type(value) is not int or 0 < value <= 12 or not 0 <= value < 10**12:
                continue
            ids = [r["id"] for r in self.rows[table]
                   if table != "cases" or params.get("kind") in (None, r["kind"])]
            if table == "cases" and "trigger" in params:  # the caller's own work first
                ids = [i for i in ids if self.available.get((caller, i))] or ids
            if ids:
                params[name] = ids[value % len(ids)]
        target = next((r for r in self.rows["cases"] if r["id"] == params.get("case_id")), None)
        if target is not None:
            if "trigger" in params:
                wf = workflows.get(target["kind"])
                now = self.available.get((caller, target["id"])) or wf.triggers_from(target["state"])
                if now and params["trigger"] not in wf.triggers:
                    params["trigger"] = now[sum(map(ord, str(params["trigger"]))) % len(now)]
            body = case.body
            if isinstance(body, dict) and type(body.get("version")) is int and body["version"] % 4 != 3:
                case.body = {**body, "version": target["version"]}
        case.path_parameters = params

    def restore(self, names):
        todo, affected = list(names), set()
        while todo:
            name = todo.pop()
            if name in self.tables and name not in affected:
                affected.add(name)
                todo.extend(self.children[name])
        ordered = [t for t in self.tables.values() if t.name in affected]  # parents first
        with self.db.engine.begin() as conn:
            for table in reversed(ordered):
                conn.execute(table.delete())
            for table in ordered:
                self._insert(conn, table, self.rows[table.name])
            if conn.dialect.name == "postgresql":
                for table in ordered:
                    for col in table.primary_key:
                        if isinstance(col.type, sa.Integer):
                            conn.exec_driver_sql(
                                f"SELECT setval(pg_get_serial_sequence('\"{table.name}\"', '{col.name}'), "
                                f"COALESCE(MAX(\"{col.name}\"), 0) + 1, false) FROM \"{table.name}\"")

    @staticmethod
    def _insert(conn, table, rows):
        if not rows:
            return
        # Rows pointing at rows of their own table (a superseding notice, a parent unit) get the pointer once
        # all of them are in.
        own = [fk.parent.name for fk in table.foreign_keys if fk.column.table is table]
        conn.execute(table.insert(), [{**r, **{c: None for c in own}} for r in rows])
        pk = list(table.primary_key)[0]
        for r in rows:
            if any(r[c] is not None for c in own):
                conn.execute(table.update().where(pk == r[pk.name]).values({c: r[c] for c in own}))


@pytest.fixture(scope="module")
def snapshot(app):
    from casework import demo
    from casework.accounts.models import ApiToken, User
    from casework.extensions import db

    with app.app_context():
        _wipe(db)
        with time_machine.travel(START, tick=False):
            demo.load()
            db.session.commit()
            users = {name: db.session.scalar(sa.select(User).where(User.username == name))
                     for name in [u[0] for u in demo.USERS]}
            _seed(users)
            now = utcnow()
            for name in CALLERS:
                if name in users:
                    db.session.add(ApiToken(user=users[name], token_hash=ApiToken.digest(_secret(name)),
                                            label="fuzz", created_at=now, expires_at=now + timedelta(days=30),
                                            last_used_at=now))  # fresh: using it writes nothing
            db.session.commit()
            from casework.core import engine
            from casework.core.models import Case
            available = {(name, c.id): engine.available(c, users[name])
                         for c in db.session.scalars(sa.select(Case)) for name in CALLERS if name in users}
            db.session.remove()  # its transaction holds SQLite's write lock
        snap = Snapshot(db, available)
        db.session.remove()
        _wipe(db)
    yield snap
    with app.app_context():
        _wipe(db)


def _secret(name: str) -> str:
    return f"fuzz-token-of-{name}"


@pytest.fixture(params=list(CALLERS))
def caller(request) -> str:
    # schemathesis's lazy loader renames the item per operation through `_nodeid`, which pytest 9.2 replaced
    # by `_id`: give it the attribute it reads (only the report's labels depend on it).
    request.node._nodeid = request.node.nodeid
    return request.param


@pytest.fixture()
def fresh(app, snapshot):
    """Before each request, restores the tables the previous requests wrote to."""
    from casework.extensions import db

    dirty = set(snapshot.tables)

    def spot_writes(conn, cursor, statement, *args):
        match = WRITE.match(statement)
        if match:
            dirty.add(match.group(1))

    with app.app_context():
        db_engine = db.engine

    def before_request():
        if dirty:
            with app.app_context():
                snapshot.restore(dirty)
            dirty.clear()

    sa.event.listen(db_engine, "before_cursor_execute", spot_writes)
    yield before_request
    sa.event.remove(db_engine, "before_cursor_execute", spot_writes)
    with app.app_context():
        _wipe(db)


@pytest.fixture()
def api_schema(app, caller):
    return schemathesis.openapi.from_wsgi("/api/v1/openapi.json", app, config=_config(*CALLERS[caller]))


schema = schemathesis.pytest.from_fixture("api_schema")


@schema.parametrize()
def test_api_answers_as_documented(case, caller, fresh, snapshot):
    fresh()
    snapshot.steer(case, caller)
    headers = {} if caller == "anonymous" else {"Authorization": f"Bearer {_secret(caller)}"}
    response = case.call_and_validate(headers=headers, checks=CHECKS)
    if caller == "anonymous" and {} not in case.operation.definition.raw["security"]:
        # Only the public operations answer without a token (a path no route matches is a plain 404).
        assert response.status_code == 401 or response.json()["error"]["code"] == "not_found", response.text
