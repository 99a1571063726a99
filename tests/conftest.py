"""Fixtures: one app and schema per test process (built by the migrations), a clean database per test.

The suite runs on SQLite unless CASEWORK_TEST_DATABASE_URL names a PostgreSQL server
(scripts/with-postgres.sh sets it); each xdist worker then gets its own database.
"""
from __future__ import annotations

import os
import re
import shutil
import socket
import subprocess
import threading

import pytest
import sqlalchemy as sa
import time_machine
from argon2 import PasswordHasher

import casework.accounts.models as account_models

from .databases import new_database

# Real argon2 costs ~50 ms a hash; tests hash hundreds of passwords.
account_models._hasher = PasswordHasher(time_cost=1, memory_cost=64, parallelism=1)

PG_URL = os.environ.get("CASEWORK_TEST_DATABASE_URL", "")
# Every test starts at the same moment (a Wednesday morning in Beijing); tests that need another
# moment travel there themselves.
START = "2026-11-25 09:00:00 +08:00"


@pytest.fixture(autouse=True)
def clock():
    with time_machine.travel(START, tick=True) as traveller:
        yield traveller


def _worker() -> str:
    return os.environ.get("PYTEST_XDIST_WORKER", "main")


@pytest.fixture(scope="session")
def database_url(tmp_path_factory) -> str:
    if not PG_URL:
        return new_database("sqlite://", tmp_path_factory.mktemp("db"), "casework")
    return new_database(PG_URL, tmp_path_factory.mktemp("db"), _worker())


@pytest.fixture(scope="session")
def redis_url(tmp_path_factory):
    """A throwaway Debian redis-server on a free port in a temp dir, stopped after the run (or
    CASEWORK_TEST_REDIS_URL, if given)."""
    given = os.environ.get("CASEWORK_TEST_REDIS_URL")
    if given:
        yield given
        return
    binary = shutil.which("redis-server")
    if binary is None:
        pytest.skip("redis-server is not installed (scripts/install-system.sh installs it)")
    folder = tmp_path_factory.mktemp("redis")
    for _attempt in range(3):
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
        proc = subprocess.Popen([binary, "--port", str(port), "--bind", "127.0.0.1", "--dir", str(folder),
                                 "--save", "", "--appendonly", "no", "--daemonize", "no"],
                                stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        seen = []
        for line in proc.stdout:  # its own log says when it listens, or why it stopped
            seen.append(line)
            if "Ready to accept connections" in line:
                # keep draining its log, so that a full pipe never stalls it
                drain = threading.Thread(target=proc.stdout.read, daemon=True)
                drain.start()
                break
        else:
            proc.wait()
            proc.stdout.close()
            if any("Address already in use" in line for line in seen):
                continue
            raise AssertionError("redis-server did not start:\n" + "".join(seen))
        break
    else:
        raise AssertionError("redis-server found no free port in three tries")
    try:
        yield f"redis://127.0.0.1:{port}/0"
    finally:
        proc.terminate()
        proc.wait(timeout=30)
        drain.join(timeout=30)
        proc.stdout.close()


@pytest.fixture(scope="session")
def app(database_url, tmp_path_factory):
    instance = tmp_path_factory.mktemp("instance")
    os.environ["CASEWORK_INSTANCE"] = str(instance)
    from casework import create_app
    app = create_app({"SQLALCHEMY_DATABASE_URI": database_url, "TESTING": True,
                      "SECRET_KEY": "test-secret-key-not-for-production",
                      "CASEWORK_UPLOAD_DIR": str(instance / "uploads"),
                      # A failed job's retries follow at once: tests wait on events, not on backoff.
                      "CASEWORK_JOB_RETRY_SECONDS": [0, 0, 0]})
    with app.app_context():
        from flask_migrate import upgrade
        upgrade(revision="heads")
    yield app
    with app.app_context():
        from casework.extensions import db as _db
        _db.engine.dispose()  # close pooled connections before the interpreter does


@pytest.fixture()
def db(app):
    """A clean database for the test; rows are removed after it."""
    from casework.extensions import db as _db, limiter
    ctx = app.app_context()
    ctx.push()
    limiter.reset()  # each test starts with fresh rate limits
    yield _db
    _db.session.rollback()
    _db.session.remove()
    _wipe(_db)
    ctx.pop()


def _wipe(_db):
    tables = [t.name for t in reversed(_db.metadata.sorted_tables)]
    with _db.engine.begin() as conn:
        if conn.dialect.name == "postgresql":
            conn.exec_driver_sql("TRUNCATE " + ", ".join(f'"{t}"' for t in tables) + " RESTART IDENTITY CASCADE")
        else:
            for t in tables:
                conn.exec_driver_sql(f'DELETE FROM "{t}"')


@pytest.fixture()
def demo(db):
    """The demo union (see casework/demo.py); returns a lookup of its users by name."""
    from casework import demo as demo_data
    demo_data.load()
    db.session.commit()
    return Users(db)


class Users:
    def __init__(self, _db):
        self._db = _db

    def __getitem__(self, username):
        from casework.accounts.models import User
        return self._db.session.scalar(sa.select(User).where(User.username == username))


@pytest.fixture()
def client(app, db):
    return app.test_client()


def _fresh_request_globals():
    """Tests keep an app context pushed, which requests then share: drop what they cache in `g`."""
    from flask import g, has_app_context
    from flask_babel import refresh
    if has_app_context():
        for key in ("_login_user", "csrf_token", "log_username", "_casework_settings"):
            g.pop(key, None)
        refresh()  # the locale Flask-Babel cached for the previous request


CSRF_RE = re.compile(r'name="csrf_token" value="([^"]+)"')


class Browser:
    """A test client that signs in and submits forms with their CSRF token, as a person would."""

    def __init__(self, client):
        self.client = client

    def csrf(self, path: str) -> str:
        page = self.get(path)
        match = CSRF_RE.search(page.get_data(as_text=True))
        assert match, f"no CSRF token on {path} ({page.status_code})"
        return match.group(1)

    def login(self, username: str, password: str = "demo-password"):
        token = self.csrf("/login")
        _fresh_request_globals()
        return self.client.post("/login", data={"csrf_token": token, "login": username, "password": password})

    def post(self, path: str, data: dict, form_page: str | None = None, **kw):
        token = self.csrf(form_page or path)
        _fresh_request_globals()
        return self.client.post(path, data={"csrf_token": token, **data}, **kw)

    def get(self, path: str, **kw):
        _fresh_request_globals()
        return self.client.get(path, **kw)


@pytest.fixture()
def web(client):
    return Browser(client)


@pytest.fixture()
def api(client):
    """Calls the JSON API as a given user: api.as_("worker1").post(...)."""
    return Api(client)


class Api:
    def __init__(self, client, token=None):
        self.client = client
        self.token = token

    def as_(self, username: str, password: str = "demo-password") -> Api:
        r = self.client.post("/api/v1/tokens", json={"username": username, "password": password})
        assert r.status_code == 201, r.get_json()
        return Api(self.client, r.get_json()["token"])

    def _headers(self, kw):
        _fresh_request_globals()
        headers = dict(kw.pop("headers", {}) or {})
        if self.token:
            headers["Authorization"] = f"Bearer {self.token}"
        return headers

    def get(self, path, **kw):
        return self.client.get(path, headers=self._headers(kw), **kw)

    def post(self, path, **kw):
        return self.client.post(path, headers=self._headers(kw), **kw)

    def delete(self, path, **kw):
        return self.client.delete(path, headers=self._headers(kw), **kw)


# -- S3-compatible object storage ------------------------------------------------------------------------

S3_BUCKET = "casework-test"
S3_ENV = {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing", "AWS_DEFAULT_REGION": "us-east-1"}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="session")
def s3_server():
    """moto's S3 server on a free local port; boto3 finds it through its own AWS_ENDPOINT_URL."""
    from moto.server import ThreadedMotoServer
    port = free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    env = {**S3_ENV, "AWS_ENDPOINT_URL": f"http://127.0.0.1:{port}"}
    saved = {k: os.environ.get(k) for k in env}
    os.environ.update(env)
    import boto3
    boto3.client("s3").create_bucket(Bucket=S3_BUCKET)
    yield env["AWS_ENDPOINT_URL"]
    for k, v in saved.items():
        if v is None:
            os.environ.pop(k, None)
        else:
            os.environ[k] = v
    server.stop()
