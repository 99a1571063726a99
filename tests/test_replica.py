"""Reads from a PostgreSQL streaming replica (CASEWORK_REPLICA_URL): statistics, reports and exports come from
it, nothing can be written through it, and without the setting everything reads the primary.

The replica tests need the replica that `scripts/with-postgres.sh --replica` starts (CASEWORK_TEST_REPLICA_URL);
each xdist worker's database is replicated with the rest of the server."""
from __future__ import annotations

import os

import pytest
import sqlalchemy as sa
from sqlalchemy.exc import DBAPIError

from casework.accounts.models import User
from casework.extensions import REPLICA, replica, replica_bind

from .conftest import PG_URL, Api, Browser
from .factories import new_case

REPLICA_URL = os.environ.get("CASEWORK_TEST_REPLICA_URL", "")
needs_replica = pytest.mark.skipif(not (PG_URL and REPLICA_URL),
                                   reason="needs a PostgreSQL replica (scripts/with-postgres.sh --replica)")


@pytest.fixture(scope="module")
def replica_url(database_url) -> str:
    """The replica's copy of this worker's database."""
    name = sa.engine.make_url(database_url).database
    return sa.engine.make_url(REPLICA_URL).set(database=name).render_as_string(hide_password=False)


@pytest.fixture(scope="module")
def replica_app(app, database_url, replica_url):
    """A second app on the same primary, configured with the replica (the schema comes from `app`)."""
    from casework import create_app
    from casework.extensions import db as _db
    other = create_app({"SQLALCHEMY_DATABASE_URI": database_url, "CASEWORK_REPLICA_URL": replica_url,
                        "TESTING": True, "SECRET_KEY": app.config["SECRET_KEY"],
                        "CASEWORK_UPLOAD_DIR": app.config["CASEWORK_UPLOAD_DIR"]})
    yield other
    with other.app_context():
        for engine in _db.engines.values():
            engine.dispose()


def caught_up(db):
    """Returns once the replica has applied everything committed on the primary so far: a commit that waits
    for the synchronous standby to apply it (WAL is replayed in order)."""
    with db.engine.connect() as conn:
        conn.exec_driver_sql("SET LOCAL synchronous_commit = remote_apply")
        # A transaction that writes WAL (an id alone does not), so its commit waits for the standby.
        conn.exec_driver_sql("SELECT pg_logical_emit_message(true, 'casework', 'caught up')")
        conn.commit()


def drafts(api) -> int:
    r = api.get("/api/v1/stats")
    assert r.status_code == 200, r.get_json()
    return sum(row["count"] for row in r.get_json()["cases"] if row["kind"] == "aid" and row["state"] == "draft")


def exported(web) -> int:
    """The rows of the worker's case list export (their own drafts)."""
    r = web.get("/export/cases.csv")
    assert r.status_code == 200
    return len(r.get_data(as_text=True).strip().splitlines()) - 1


@needs_replica
def test_statistics_are_read_from_the_replica(demo, db, api, replica_app, replica_url):
    new_case("aid", demo["worker1"])
    caught_up(db)
    on_primary = api.as_("committee1")
    on_replica = Api(replica_app.test_client()).as_("committee1")
    worker = Browser(replica_app.test_client())
    worker.login("worker1")
    before, rows = drafts(on_primary), exported(worker)
    assert drafts(on_replica) == before >= 1 and rows >= 1

    standby = sa.create_engine(replica_url, isolation_level="AUTOCOMMIT")
    try:
        with standby.connect() as conn:
            assert conn.scalar(sa.text("SELECT pg_is_in_recovery()")) is True
            # Replay stops before the next record, so the case below reaches the replica only on resume.
            conn.execute(sa.text("SELECT pg_wal_replay_pause()"))
            try:
                new_case("aid", demo["worker1"])
                assert drafts(on_primary) == before + 1
                assert drafts(on_replica) == before  # the dashboard's numbers are the replica's
                assert exported(worker) == rows  # and so are the exports' rows
            finally:
                conn.execute(sa.text("SELECT pg_wal_replay_resume()"))
        caught_up(db)
        assert drafts(on_replica) == before + 1 and exported(worker) == rows + 1
    finally:
        standby.dispose()


@needs_replica
def test_only_plain_reads_inside_the_switch_go_to_the_replica(demo, replica_app):
    from casework.extensions import db as _db
    in_recovery = sa.select(sa.func.pg_is_in_recovery())
    with replica_app.app_context():
        assert _db.session.scalar(in_recovery) is False
        with replica():
            assert _db.session.scalar(in_recovery) is True
            # Locking reads and flushes stay on the primary, so a write made here is not lost or refused.
            user = _db.session.scalar(sa.select(User).where(User.username == "staff1").with_for_update())
            user.name = user.name + "·"
            _db.session.commit()
        assert _db.session.scalar(in_recovery) is False
        _db.session.remove()


@needs_replica
def test_a_write_through_the_replica_binding_is_refused(demo, database_url, replica_app):
    from casework.extensions import db as _db
    rename = sa.update(User).where(User.username == "staff1").values(name="改名")
    with replica_app.app_context():
        with pytest.raises(DBAPIError, match="read-only transaction"):
            _db.session.execute(rename, bind_arguments={"bind": _db.engines[REPLICA]})
        _db.session.rollback()
        _db.session.remove()
    # Read-only by construction, not only because a standby refuses writes: the same options on the primary.
    options = replica_bind(database_url)
    guarded = sa.create_engine(options.pop("url"), **options)
    try:
        with pytest.raises(DBAPIError, match="read-only transaction"):
            with guarded.begin() as conn:
                conn.execute(rename)
    finally:
        guarded.dispose()
    assert demo["staff1"].name != "改名"


@needs_replica
def test_the_health_check_says_whether_the_replica_answers(db, replica_app, app):
    assert replica_app.test_client().get("/healthz").get_json() == {"status": "ok", "database": "postgresql",
                                                                    "replica": "ok"}
    assert "replica" not in app.test_client().get("/healthz").get_json()


def test_without_the_setting_everything_reads_the_primary(demo, db, api):
    assert db.engines.get(REPLICA) is None
    with replica():
        assert db.session.get_bind(clause=sa.select(User)) is db.engine
        assert db.session.scalar(sa.select(sa.func.count()).select_from(User)) >= 1
    new_case("aid", demo["worker1"])
    assert drafts(api.as_("committee1")) == 1


def test_an_unreachable_replica_is_reported_not_fatal(app, db, demo):
    from casework import create_app
    from casework.extensions import db as _db
    from .conftest import free_port
    other = create_app({**{k: app.config[k] for k in ("SQLALCHEMY_DATABASE_URI", "SECRET_KEY",
                                                      "CASEWORK_UPLOAD_DIR")}, "TESTING": True,
                        "CASEWORK_REPLICA_URL": f"postgresql+psycopg://casework@127.0.0.1:{free_port()}/none"})
    r = other.test_client().get("/healthz")
    assert r.status_code == 200 and r.get_json()["replica"] == "unreachable"
    # Its readers read the primary meanwhile: statistics and exports answer, slower but whole.
    web = Browser(other.test_client())
    web.login("staff1")
    for url in ("/stats", "/export/cases.csv"):
        assert web.get(url).status_code == 200, url
    assert Api(other.test_client()).as_("staff1").get("/api/v1/stats").status_code == 200
    with other.app_context():
        for engine in _db.engines.values():
            engine.dispose()
