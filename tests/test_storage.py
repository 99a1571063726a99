"""The file store on both backends: the local folder, and S3-compatible object storage (moto's standalone server,
started here as a real HTTP server on 127.0.0.1 and spoken to by boto3 over HTTP, as MinIO or OSS would be)."""
from __future__ import annotations

import secrets
import tarfile
from pathlib import Path

import pytest
from sqlalchemy import select

from casework.config import ConfigError, from_env
from casework.core.models import Attachment
from casework.extensions import db as _db
from casework.ops import backup
from casework.storage import FolderStore, S3Store, from_config

from .factories import aid_to, fire, new_case
from .test_attachments import EN, PDF, _upload
from .test_backup import _close, _installation, _new_database

from .conftest import S3_BUCKET as BUCKET, free_port as _free_port


def _s3(prefix: str | None = None) -> S3Store:
    return S3Store(BUCKET, prefix or f"t-{secrets.token_hex(6)}")


@pytest.fixture(params=["folder", "s3"])
def backend(request, tmp_path):
    """A fresh, empty store of each kind."""
    if request.param == "folder":
        return FolderStore(tmp_path / "uploads")
    request.getfixturevalue("s3_server")
    return _s3()


@pytest.fixture(params=["folder", "s3"])
def app_store(request, app, tmp_path):
    """The app's store for the test: its upload folder, or a fresh prefix in the bucket."""
    saved = app.extensions.get("casework_store")
    if request.param == "folder":
        chosen = FolderStore(app.config["CASEWORK_UPLOAD_DIR"])
    else:
        request.getfixturevalue("s3_server")
        chosen = _s3()
    app.extensions["casework_store"] = chosen
    yield chosen
    if saved is None:
        app.extensions.pop("casework_store", None)
    else:
        app.extensions["casework_store"] = saved


# -- the interface ---------------------------------------------------------------------------------------------

def test_put_get_exists_list_delete(backend):
    assert backend.keys() == [] and backend.get("a1") is None and not backend.exists("a1")
    backend.put("a1", b"one", exclusive=True)
    backend.put("sub/b2", b"two")
    assert backend.get("a1") == b"one" and backend.exists("sub/b2")
    assert backend.keys() == ["a1", "sub/b2"]
    backend.put("a1", b"again")
    assert backend.get("a1") == b"again"
    backend.delete("a1")
    backend.delete("a1")  # deleting what is gone is no error
    assert backend.keys() == ["sub/b2"] and backend.get("a1") is None


@pytest.mark.parametrize("key", ["", "/etc/passwd", "../x", "a/../b", "a//b", "a\\b"])
def test_keys_never_leave_the_store(backend, key):
    with pytest.raises(ValueError):
        backend.put(key, b"x")


def test_the_folder_keeps_todays_layout(tmp_path):
    store = FolderStore(tmp_path / "uploads")
    store.put("0123456789abcdef0123456789abcdef", b"%PDF")
    path = tmp_path / "uploads" / "0123456789abcdef0123456789abcdef"
    assert path.read_bytes() == b"%PDF" and (path.stat().st_mode & 0o777) == 0o600


def test_s3_prefixes_keep_apart(s3_server):
    one, two = _s3(), _s3()
    one.put("k", b"1")
    assert two.keys() == [] and two.get("k") is None and one.keys() == ["k"]


# -- configuration -----------------------------------------------------------------------------------------------

def test_storage_url_is_read_into_bucket_and_prefix(tmp_path):
    config = from_env(str(tmp_path), {"CASEWORK_STORAGE_URL": "s3://union-files/casework/prod/"})
    assert config["CASEWORK_STORAGE"] == ("s3", "union-files", "casework/prod")
    store = from_config(config)
    assert isinstance(store, S3Store) and repr(store) == "s3://union-files/casework/prod"
    default = from_config(from_env(str(tmp_path), {}))
    assert isinstance(default, FolderStore) and default.root == tmp_path / "uploads"


@pytest.mark.parametrize("env,says", [
    ({"CASEWORK_STORAGE_URL": "s3://"}, "names no bucket"),
    ({"CASEWORK_STORAGE_URL": "s3:///prefix"}, "names no bucket"),
    ({"CASEWORK_STORAGE_URL": "ftp://files/x"}, "only s3://bucket/prefix is supported"),
    ({"CASEWORK_STORAGE_URL": "/srv/files"}, "only s3://bucket/prefix is supported"),
    ({"CASEWORK_STORAGE_URL": "s3://Bad_Bucket/x"}, "is not a bucket name"),
    ({"CASEWORK_STORAGE_URL": "s3://files/a/../b"}, "dot parts"),
    ({"CASEWORK_STORAGE_URL": "s3://files", "AWS_ENDPOINT_URL": "minio:9000"}, "AWS_ENDPOINT_URL"),
    ({"CASEWORK_STORAGE_URL": "s3://files", "AWS_ACCESS_KEY_ID": "k"}, "must be set together"),
])
def test_bad_storage_settings_get_one_clear_line(tmp_path, env, says):
    with pytest.raises(ConfigError) as err:
        from_env(str(tmp_path), env)
    assert says in str(err.value) and "\n" not in str(err.value)


def test_the_folder_default_imports_no_boto3(tmp_path):
    import subprocess
    import sys
    code = ("import sys; from casework.config import from_env; from casework.storage import from_config; "
            f"s = from_config(from_env({str(tmp_path)!r}, {{}})); s.put('k', b'x'); assert s.get('k') == b'x'; "
            "assert 'boto3' not in sys.modules and 'botocore' not in sys.modules")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr


# -- through the app ---------------------------------------------------------------------------------------------

def test_upload_download_and_access_refused(app_store, api, demo, client):
    case = new_case("aid", demo["worker1"])
    r = _upload(api.as_("worker1"), case, PDF)
    assert r.status_code == 201, r.get_json()
    body = r.get_json()
    row = _db.session.get(Attachment, body["id"])
    assert app_store.get(row.stored_name) == PDF
    got = api.as_("worker1").get(body["url"])
    assert got.status_code == 200 and got.data == PDF and got.headers["Cache-Control"] == "private, no-store"
    assert "amazonaws" not in str(body) and "127.0.0.1:" not in str(body)  # never a bucket address
    other = api.as_("worker2").get(body["url"])
    assert other.status_code == 404 and other.data != PDF
    assert client.get(body["url"]).status_code == 401


def test_a_file_gone_from_the_store_is_a_clear_404(app_store, api, demo):
    case = new_case("aid", demo["worker1"])
    body = _upload(api.as_("worker1"), case, PDF).get_json()
    app_store.delete(_db.session.get(Attachment, body["id"]).stored_name)
    r = api.as_("worker1").get(body["url"], headers=EN)
    assert r.status_code == 404 and r.get_json()["error"]["code"] == "file_missing"


def test_an_unreachable_store_is_a_503_with_nothing_saved(app, api, demo):
    saved = app.extensions.get("casework_store")
    app.extensions["casework_store"] = S3Store(BUCKET, "x", client=_unreachable_client())
    try:
        case = new_case("aid", demo["worker1"])
        r = _upload(api.as_("worker1"), case, PDF)
    finally:
        app.extensions.pop("casework_store")
        if saved is not None:
            app.extensions["casework_store"] = saved
    assert r.status_code == 503 and r.get_json()["error"]["code"] == "store_unavailable"
    assert _db.session.scalars(select(Attachment).where(Attachment.case_id == case.id)).all() == []


def _unreachable_client():
    import boto3
    from botocore.config import Config
    port = _free_port()  # nothing listens there
    return boto3.client("s3", endpoint_url=f"http://127.0.0.1:{port}", region_name="us-east-1",
                        aws_access_key_id="x", aws_secret_access_key="x",
                        config=Config(retries={"max_attempts": 1}, connect_timeout=2, read_timeout=2))


def test_withdrawn_consent_deletes_the_files_from_the_store(app_store, demo):
    case = aid_to(demo, "pending_approval")
    names = [a.stored_name for a in
             _db.session.scalars(select(Attachment).where(Attachment.case_id == case.id))]
    for n in names:  # the factory writes rows only: give them their files
        app_store.put(n, PDF)
    assert names and all(app_store.exists(n) for n in names)
    fire(case, "withdraw_consent", demo["worker1"])
    _db.session.commit()
    assert not any(app_store.exists(n) for n in names)


# -- backup and restore ------------------------------------------------------------------------------------------

@pytest.mark.parametrize("app_store", ["s3"], indirect=True)  # the folder's is tests/test_backup.py's
def test_backup_and_restore_round_trip_with_files_in_s3(app, app_store, api, demo, database_url, tmp_path):
    case = new_case("aid", demo["worker1"])
    stored = []
    for i in range(3):
        body = _upload(api.as_("worker1"), case, PDF + str(i).encode(), name=f"证明{i}.pdf").get_json()
        stored.append(_db.session.get(Attachment, body["id"]).stored_name)
    archive = tmp_path / "s3.tar.gz"
    counts = backup.dump(archive)
    with tarfile.open(archive) as tar:
        archived = {m.name[len(backup.UPLOADS):] for m in tar.getmembers() if m.name.startswith(backup.UPLOADS)}
    assert archived == set(stored) and counts["attachments"] == 3
    target = _s3()
    other = _installation(app, _new_database(database_url, tmp_path, "s3restore"), tmp_path)
    other.extensions["casework_store"] = target
    try:
        with other.app_context():
            backup.restore(archive)
            rows = _db.session.scalars(select(Attachment.stored_name)).all()
        assert sorted(rows) == sorted(stored) and target.keys() == sorted(stored)
        assert [target.get(n) for n in stored] == [PDF + str(i).encode() for i in range(3)]
        assert not Path(other.config["CASEWORK_UPLOAD_DIR"]).exists()  # nothing went to the local folder
        with other.app_context():
            # Restoring again over the same store: its files are those of the archive, so only the rows refuse.
            with pytest.raises(backup.Refused) as err:
                backup.restore(archive)
            assert err.value.reason == "not_empty"
    finally:
        _close(other)


@pytest.mark.parametrize("app_store", ["s3"], indirect=True)
def test_restore_refuses_a_store_holding_other_bytes(app, app_store, api, demo, database_url, tmp_path):
    case = new_case("aid", demo["worker1"])
    body = _upload(api.as_("worker1"), case, PDF).get_json()
    name = _db.session.get(Attachment, body["id"]).stored_name
    archive = tmp_path / "s3.tar.gz"
    backup.dump(archive)
    target = _s3()
    target.put(name, b"%PDF-1.4 something else")
    other = _installation(app, _new_database(database_url, tmp_path, "s3busy"), tmp_path)
    other.extensions["casework_store"] = target
    try:
        with other.app_context():
            with pytest.raises(backup.Refused) as err:
                backup.restore(archive)
            said = str(err.value)
            assert err.value.reason == "uploads_not_empty" and name in said
            assert "file store" in said or "文件存储" in said  # the store, not an upload directory, is named
            assert _db.session.scalars(select(Attachment)).all() == []
        assert target.keys() == [name] and target.get(name) == b"%PDF-1.4 something else"
    finally:
        _close(other)


def test_backup_with_the_store_unreachable_is_one_clear_line(app, demo, tmp_path):
    saved = app.extensions.get("casework_store")
    app.extensions["casework_store"] = S3Store(BUCKET, "x", client=_unreachable_client())
    try:
        with pytest.raises(backup.Refused) as err:
            backup.dump(tmp_path / "b.tar.gz")
    finally:
        app.extensions.pop("casework_store")
        if saved is not None:
            app.extensions["casework_store"] = saved
    assert err.value.reason == "store" and "s3://casework-test/x" in str(err.value)
    assert "\n" not in str(err.value) and not (tmp_path / "b.tar.gz").exists()
