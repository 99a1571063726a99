"""The grants cache shared through Redis: two app instances (two machines) over one database and one
redis-server; grants one computed the other serves without reading role rows, and a grant changed through one
counts on the other from its very next request."""
from __future__ import annotations

import pytest
from sqlalchemy import delete, event

from casework.accounts.models import RoleAssignment
from casework.extensions import db as _db

from .conftest import Api
from .factories import aid_to


@pytest.fixture()
def instances(app, db, redis_url, demo):
    import redis

    from casework import create_app
    shared = redis.Redis.from_url(redis_url)
    shared.flushdb()
    made = [create_app({"SQLALCHEMY_DATABASE_URI": app.config["SQLALCHEMY_DATABASE_URI"], "TESTING": True,
                        "SECRET_KEY": app.config["SECRET_KEY"], "CASEWORK_REDIS_URL": redis_url,
                        "RATELIMIT_STORAGE_URI": redis_url,
                        "CASEWORK_UPLOAD_DIR": app.config["CASEWORK_UPLOAD_DIR"]}) for _ in range(2)]
    yield made, shared
    for other in made:
        with other.app_context():
            _db.engine.dispose()
    shared.flushdb()


def _get(instance, token, url, seen=None):
    with instance.app_context():
        record = (lambda conn, cursor, statement, *rest: seen.append(statement)) if seen is not None else None
        if record:
            event.listen(_db.engine, "before_cursor_execute", record)
        try:
            return Api(instance.test_client(), token).get(url).status_code
        finally:
            if record:
                event.remove(_db.engine, "before_cursor_execute", record)
            _db.session.remove()


def test_a_grant_changed_on_one_instance_counts_on_the_other_at_once(instances, demo):
    (one, two), shared = instances
    case = aid_to(demo, "submitted")
    url = f"/api/v1/cases/aid/{case.id}"
    staff1 = demo["staff1"].id
    _db.session.commit()  # this test's own transaction holds no lock while the instances work
    with one.app_context():
        token = Api(one.test_client()).as_("staff1").token
        _db.session.remove()
    assert _get(one, token, url) == 200
    assert any(k.decode().endswith(f":{staff1}:2026-11-25") for k in shared.keys("casework:grants:*"))
    seen: list[str] = []
    assert _get(two, token, url, seen) == 200
    assert not [s for s in seen if "FROM role_assignments" in s or "FROM delegations" in s]  # from Redis
    with two.app_context():
        _db.session.execute(delete(RoleAssignment).where(RoleAssignment.user_id == staff1,
                                                         RoleAssignment.role == "union_staff"))
        _db.session.commit()
        _db.session.remove()
    assert _get(one, token, url) == 404
    assert _get(two, token, url) == 404


def test_redis_gone_the_database_answers(instances, demo):
    """A Redis that stops answering costs speed, never a request."""
    (one, _two), _shared = instances
    url = f"/api/v1/cases/aid/{aid_to(demo, 'submitted').id}"
    _db.session.commit()
    with one.app_context():
        token = Api(one.test_client()).as_("staff1").token
        _db.session.remove()
    import redis
    one.extensions["casework_redis"] = redis.Redis(host="127.0.0.1", port=1, socket_connect_timeout=1)
    assert _get(one, token, url) == 200
