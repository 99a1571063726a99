"""Backup and restore as an auditor would try them: the demo history round-trips into a freshly migrated database
table for table, and every kind of tampering is refused with nothing written. On PostgreSQL, pg_dump/pg_restore
as the documented alternative."""
from __future__ import annotations

import gzip
import hashlib
import io
import json
import subprocess
import tarfile
from datetime import date
from pathlib import Path
from types import SimpleNamespace

import pytest
import sqlalchemy as sa
import time_machine

from casework.extensions import db as _db
from casework.ops import backup

from .conftest import PG_URL, START, _wipe
from .databases import new_database



def _seeded() -> set[str]:
    return {t.name for t in _db.metadata.sorted_tables if t.info.get("seeded")}


def _snapshot() -> dict[str, list[bytes]]:
    """Every table's rows, as the archive writes them."""
    return {t.name: list(backup.table_lines(t)) for t in _db.metadata.sorted_tables}


def _files(folder: Path) -> dict[str, str]:
    return {f.relative_to(folder).as_posix(): hashlib.sha256(f.read_bytes()).hexdigest()
            for f in sorted(folder.rglob("*")) if f.is_file()} if folder.is_dir() else {}


def _new_database(database_url: str, folder: Path, suffix: str) -> str:
    return new_database(database_url, folder, suffix, force=True)


def _installation(app, url: str, folder: Path, migrate: bool = True):
    """A second installation holding the same secret key: its own database and upload folder."""
    from casework import create_app
    other = create_app({"SQLALCHEMY_DATABASE_URI": url, "TESTING": True, "SECRET_KEY": app.config["SECRET_KEY"],
                        "CASEWORK_UPLOAD_DIR": str(folder / "uploads")})
    if migrate:
        with other.app_context():
            from flask_migrate import upgrade
            upgrade(revision="heads")  # what `flask db upgrade` does
    return other


def _close(other):
    with other.app_context():
        _db.engine.dispose()


def _add_register():
    """A registered household with members, the committee's votes and a re-check (the demo has no register)."""
    from casework.accounts.models import Unit, User
    from casework.core.models import Vote
    from casework.register.models import Household, HouseholdMember, HouseholdReview, ReviewReminder

    def user(name):
        return _db.session.scalar(sa.select(User).where(User.username == name))
    worker, staff = user("worker2"), user("staff1")
    home = Household(user_id=worker.id, unit_id=worker.unit_id, grade="special", causes=["illness"],
                     status="registered", circumstances="爱人长期透析", visited_on=date(2026, 10, 9),
                     visitor_ids=[staff.id], findings="属实", proposed_by_id=staff.id, registered_on=date(2026, 10, 20),
                     next_review_on=date(2027, 10, 20))
    home.members = [HouseholdMember(name="李秀英", relation="self", monthly_income=210000),
                    HouseholdMember(name="王小明", relation="child", note="在读初二")]
    _db.session.add(home)
    _db.session.flush()
    for name in ("committee1", "committee2", "committee3"):
        voter = user(name)
        _db.session.add(Vote(subject_kind="register", subject_id=home.id, round=1, user_id=voter.id,
                             seat_id=voter.id, trigger="approve", position="approve", comment="同意"))
    _db.session.add(HouseholdReview(household_id=home.id, due_on=date(2026, 10, 20), reviewed_on=date(2026, 10, 21),
                                    outcome="kept", old_grade="special", reviewed_by_id=staff.id))
    _db.session.add(ReviewReminder(household_id=home.id, year=2027, due_on=date(2027, 10, 20), recipients=1))
    assert _db.session.scalar(sa.select(Unit.id).where(Unit.id == worker.unit_id))
    _db.session.commit()


@pytest.fixture(scope="module")
def history(app, tmp_path_factory):
    """The demo union with its year of history and a register, backed up once for the module."""
    folder = tmp_path_factory.mktemp("backup")
    with app.app_context(), time_machine.travel(START, tick=True):
        out = app.test_cli_runner().invoke(args=["casework", "demo"])
        assert out.exit_code == 0, out.output
        _add_register()
        snapshot = _snapshot()
        archive = folder / "demo.tar.gz"
        counts = backup.dump(archive)
        with tarfile.open(archive) as tar:
            manifest = json.loads(tar.extractfile(backup.MANIFEST).read())
        _db.session.remove()
        _wipe(_db)
    # What the history must hold for the round trip to prove anything.
    assert counts["audit_entries"] > 200 and counts["attachments"] and counts["case_co_departments"]
    assert counts["hardship_households"] and counts["hardship_household_members"] and counts["disclosure_items"]
    notices = [json.loads(line) for line in snapshot["notices"]]
    assert any(n["superseded_by_id"] and n["superseded_by_id"] > n["id"] for n in notices)
    return SimpleNamespace(archive=archive, counts=counts, snapshot=snapshot, manifest=manifest)


@pytest.fixture(scope="module")
def fresh(app, database_url, tmp_path_factory):
    """A freshly migrated database of another installation; refused restores must leave it so."""
    folder = tmp_path_factory.mktemp("fresh")
    other = _installation(app, _new_database(database_url, folder, "fresh"), folder)
    yield other
    _close(other)


def _state(other) -> tuple[dict, dict]:
    with other.app_context():
        rows = _snapshot()
        _db.session.rollback()
        return rows, _files(Path(other.config["CASEWORK_UPLOAD_DIR"]))


def _assert_freshly_migrated(other):
    rows, files = _state(other)
    assert {name for name, lines in rows.items() if lines} <= _seeded() and files == {}
    leftovers = [p for p in Path(other.config["CASEWORK_UPLOAD_DIR"]).parent.iterdir()
                 if p.name.startswith(".casework-restore-")]
    assert leftovers == []


# -- the round trip ------------------------------------------------------------------------------------------

def _stored(store) -> dict[str, str]:
    return {name: hashlib.sha256(store.get(name)).hexdigest() for name in store.keys()}


@pytest.mark.parametrize("kind", ["folder", "s3"])
def test_demo_history_round_trips_into_a_freshly_migrated_database(app, history, database_url, tmp_path, kind,
                                                                   request):
    from casework.storage import FolderStore, S3Store
    other = _installation(app, _new_database(database_url, tmp_path, "roundtrip"), tmp_path)
    if kind == "s3":
        request.getfixturevalue("s3_server")
        from .conftest import S3_BUCKET
        other.extensions["casework_store"] = S3Store(S3_BUCKET, f"roundtrip-{tmp_path.name}")
    else:
        other.extensions["casework_store"] = FolderStore(other.config["CASEWORK_UPLOAD_DIR"])
    try:
        with other.app_context():
            seeded = {name: lines for name, lines in _snapshot().items() if lines}
            assert set(seeded) == _seeded()  # `db upgrade` leaves the grants token row
            _db.session.rollback()
            runner = other.test_cli_runner()
            out = runner.invoke(args=["casework", "restore", str(history.archive)])
            assert out.exit_code == 0, out.output
            assert runner.invoke(args=["casework", "verify-audit"]).exit_code == 0
            # The statistics' aggregate comes back equal to a recomputation from the restored audit history.
            check = runner.invoke(args=["casework", "stats-rebuild", "--check"])
            assert check.exit_code == 0 and "equals" in check.output, check.output
            assert history.counts["stat_stays"] > 100
            restored = _snapshot()
            for name, lines in history.snapshot.items():
                if name in _seeded():
                    continue
                assert restored[name] == lines, name
            # The grants token is renewed, so that no grant cached before the restore is ever served.
            assert len(restored["grants_version"]) == 1 and restored["grants_version"] != history.snapshot[
                "grants_version"]
            assert _stored(other.extensions["casework_store"]) == {
                name: f["sha256"] for name, f in history.manifest["files"].items()}
            if kind == "s3":
                assert not Path(other.config["CASEWORK_UPLOAD_DIR"]).exists()  # nothing on the local disk
            # New rows get fresh ids (PostgreSQL's sequences were moved past the restored rows).
            from casework.core.models import Case

            from .factories import new_case
            top = max(json.loads(line)["id"] for line in history.snapshot["cases"])
            from casework.accounts.models import User
            worker = _db.session.scalar(sa.select(User).where(User.username == "worker1"))
            assert new_case("proposal", worker).id > top
            assert _db.session.scalar(sa.select(sa.func.count()).select_from(Case)) == history.counts["cases"] + 1
            _db.session.rollback()
    finally:
        _close(other)


def test_restore_into_a_wiped_database_too(app, history, db):
    """Without the seeded row (a database emptied by hand) the archive's row is taken."""
    assert backup.restore(history.archive) == history.counts
    restored = _snapshot()
    assert all(restored[name] == lines for name, lines in history.snapshot.items() if name not in _seeded())


def test_a_database_with_rows_is_refused(app, history, db, demo):
    with pytest.raises(backup.Refused) as err:
        backup.restore(history.archive)
    assert err.value.reason == "not_empty" and "\n" not in err.value.message


# -- tampering -----------------------------------------------------------------------------------------------

_MEMBERS: dict[Path, dict[str, bytes]] = {}


def _members(archive: Path) -> dict[str, bytes]:
    if archive not in _MEMBERS:
        with tarfile.open(archive) as tar:
            _MEMBERS[archive] = {m.name: tar.extractfile(m).read() for m in tar.getmembers() if m.isfile()}
    return dict(_MEMBERS[archive])


def _write(members: dict[str, bytes], path: Path):
    with tarfile.open(path, "w:gz", compresslevel=1) as tar:
        for name, data in members.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))


def _tampered(archive: Path, path: Path, edit, *, manifest: bool, sign: bool, app=None) -> Path:
    """The archive with `edit(members)` applied; `manifest`: its digests made to match again; `sign`: signed
    again with the installation's key (an insider holding it)."""
    members = _members(archive)
    edit(members)
    listing = json.loads(members[backup.MANIFEST])
    if manifest:
        for name, data in members.items():
            digest = hashlib.sha256(data).hexdigest()
            if name.startswith(backup.TABLES):
                listing["tables"][name[len(backup.TABLES):-len(".jsonl")]]["sha256"] = digest
            elif name.startswith(backup.UPLOADS):
                listing["files"][name[len(backup.UPLOADS):]] = {"size": len(data), "sha256": digest}
        members[backup.MANIFEST] = json.dumps(listing, sort_keys=True, ensure_ascii=False, indent=1).encode()
    if sign:
        with app.app_context():
            members[backup.SIGNATURE] = backup._signature(members[backup.MANIFEST]).encode()
    _write(members, path)
    return path


def _edit_rows(table: str, change):
    """An edit of the first row of `table` for which change(row) returns True (it changes the row in place)."""
    def edit(members):
        name = f"{backup.TABLES}{table}.jsonl"
        rows = [json.loads(line) for line in members[name].splitlines()]
        assert any(change(row) for row in rows), f"nothing to change in {table}"
        members[name] = b"".join(json.dumps(r, sort_keys=True, ensure_ascii=False, separators=(",", ":")).encode()
                                 + b"\n" for r in rows)
    return edit


def _bump(key, by=100):
    def change(row):
        row[key] += by
        return True
    return change


def _rename_posted(members):
    """The masked name of an item on a posted board version (one with its posting notice)."""
    notices = [json.loads(line) for line in members[f"{backup.TABLES}notices.jsonl"].splitlines()]
    posted = {int(n["subject"].split(":")[1]) for n in notices if (n["subject"] or "").startswith("disclosure:")}

    def change(row):
        if row["disclosure_id"] in posted and row["masked_name"] != "王*":
            row["masked_name"] = "王*"
            return True
        return False
    _edit_rows("disclosure_items", change)(members)


def _restate(row):
    row["state"] = "closed" if row["state"] != "closed" else "rejected"
    return True


def _reword(row):
    row["comment"] = (row["comment"] or "") + "（已改）"
    return True


def _swap_file(history):
    def edit(members):
        stored = json.loads(members[f"{backup.TABLES}attachments.jsonl"].splitlines()[0])["stored_name"]
        members[f"{backup.UPLOADS}{stored}"] = b"%PDF-1.4 forged"
    return edit


TAMPERING = {
    # kind: (edit, why it is refused when an insider with the key rebuilt and re-signed the manifest)
    "balance": (lambda h: _edit_rows("funds", _bump("balance")), "fund"),
    "ledger line": (lambda h: _edit_rows("ledger_entries", _bump("amount")), "fund"),
    "case state": (lambda h: _edit_rows("cases", _restate), "state"),
    "masked name": (lambda h: _rename_posted, "board"),
    "audit entry": (lambda h: _edit_rows("audit_entries", _reword), "audit"),
    "file": (_swap_file, "file"),
}


@pytest.mark.parametrize("kind", TAMPERING)
@pytest.mark.parametrize("how", ["as is", "manifest rebuilt", "manifest rebuilt and signed"])
def test_tampering_is_refused_with_nothing_written(app, history, fresh, tmp_path, kind, how):
    edit, reason = TAMPERING[kind]
    path = _tampered(history.archive, tmp_path / "t.tar.gz", edit(history), manifest=how != "as is",
                     sign=how.endswith("signed"), app=fresh)
    before = _state(fresh)
    with fresh.app_context():
        with pytest.raises(backup.Refused) as err:
            backup.restore(path)
        _db.session.rollback()
    expected = {"as is": "manifest", "manifest rebuilt": "signature"}.get(how, reason)
    assert err.value.reason == expected and "\n" not in err.value.message
    assert _state(fresh) == before
    _assert_freshly_migrated(fresh)


def test_the_command_refuses_with_one_line_in_the_users_language(app, history, fresh, tmp_path):
    path = _tampered(history.archive, tmp_path / "t.tar.gz", _rename_posted,
                     manifest=True, sign=True, app=fresh)
    line = _cli_refusal(fresh, path)
    assert "公示" in line and "未恢复任何内容" in line
    _assert_freshly_migrated(fresh)


def test_a_backup_signed_by_another_installation_is_refused(app, history, database_url, tmp_path):
    from casework import create_app
    other = create_app({"SQLALCHEMY_DATABASE_URI": _new_database(database_url, tmp_path, "otherkey"),
                        "TESTING": True, "SECRET_KEY": "another-installations-secret-key",
                        "CASEWORK_UPLOAD_DIR": str(tmp_path / "uploads")})
    try:
        with other.app_context():
            from flask_migrate import upgrade
            upgrade(revision="heads")
            with pytest.raises(backup.Refused) as err:
                backup.restore(history.archive)
            _db.session.rollback()
        assert err.value.reason == "signature"
        _assert_freshly_migrated(other)
    finally:
        _close(other)


def test_another_schema_revision_is_refused(app, history, fresh, tmp_path):
    def edit(members):
        listing = json.loads(members[backup.MANIFEST])
        listing["revisions"] = ["0123456789ab"]
        members[backup.MANIFEST] = json.dumps(listing).encode()
    path = _tampered(history.archive, tmp_path / "r.tar.gz", edit, manifest=False, sign=True, app=fresh)
    with fresh.app_context():
        with pytest.raises(backup.Refused) as err:
            backup.restore(path)
        _db.session.rollback()
    assert err.value.reason == "revision" and "0123456789ab" in err.value.message
    _assert_freshly_migrated(fresh)


# -- unreadable archives -------------------------------------------------------------------------------------

def _cli_refusal(other, path: Path) -> str:
    with other.app_context():
        out = other.test_cli_runner().invoke(args=["casework", "restore", str(path)])
        _db.session.rollback()
    assert out.exit_code != 0, out.output
    assert "Aborted" not in out.output and "Traceback" not in out.output
    assert out.exception is None or isinstance(out.exception, SystemExit)
    lines = out.output.strip().splitlines()
    assert len(lines) == 1, out.output
    return lines[0]


@pytest.mark.parametrize("cut", [0.5, 0.999])
def test_a_truncated_archive_gets_one_clear_line(app, history, fresh, tmp_path, cut):
    data = history.archive.read_bytes()
    path = tmp_path / "cut.tar.gz"
    path.write_bytes(data[:int(len(data) * cut)])
    line = _cli_refusal(fresh, path)
    assert "cut.tar.gz" in line and "损坏或不完整" in line
    _assert_freshly_migrated(fresh)


def test_a_foreign_file_gets_one_clear_line(app, fresh, tmp_path):
    junk = tmp_path / "junk.tar.gz"
    junk.write_bytes(b"not a tarball")
    assert "不是 casework 备份" in _cli_refusal(fresh, junk)
    other = tmp_path / "other.tar.gz"
    _write({"photos/a.jpg": b"\xff\xd8\xff"}, other)
    assert "不是 casework 备份" in _cli_refusal(fresh, other)
    plain = tmp_path / "plain.gz"
    plain.write_bytes(gzip.compress(b"hello"))
    assert "不是 casework 备份" in _cli_refusal(fresh, plain)
    _assert_freshly_migrated(fresh)


# -- the PostgreSQL alternative --------------------------------------------------------------------------------

def _pg_bin(tool: str) -> str:
    found = sorted(Path("/usr/lib/postgresql").glob(f"*/bin/{tool}"), key=lambda p: int(p.parts[4]))
    if not found:
        pytest.skip(f"no {tool} under /usr/lib/postgresql")
    return str(found[-1])


@pytest.mark.skipif(not PG_URL, reason="pg_dump and pg_restore are the PostgreSQL path")
def test_pg_dump_and_pg_restore_into_a_new_database(app, history, db, database_url, tmp_path):
    backup.restore(history.archive)  # the demo history, back in the suite's database
    source = sa.engine.make_url(database_url)
    dump = tmp_path / "casework.dump"
    plain = source.set(drivername="postgresql").render_as_string(hide_password=False)
    subprocess.run([_pg_bin("pg_dump"), "-Fc", "--no-owner", "-f", str(dump), plain], check=True, timeout=300)
    target_url = _new_database(database_url, tmp_path, "pgrestore")
    target = sa.engine.make_url(target_url).set(drivername="postgresql").render_as_string(hide_password=False)
    subprocess.run([_pg_bin("pg_restore"), "--no-owner", "--exit-on-error", "-d", target, str(dump)], check=True,
                   timeout=300)
    other = _installation(app, target_url, tmp_path, migrate=False)
    try:
        with other.app_context():
            runner = other.test_cli_runner()
            verify = runner.invoke(args=["casework", "verify-audit"])
            assert verify.exit_code == 0 and "intact" in verify.output
            restored = _snapshot()
            assert all(restored[name] == lines for name, lines in history.snapshot.items() if name not in _seeded())
            _db.session.rollback()
    finally:
        _close(other)


def test_backup_refuses_an_upload_store_missing_a_file(app, db, demo, tmp_path):
    from .factories import attach, new_case
    case = new_case("aid", demo["worker1"])
    attach(case, "other", demo["worker1"])  # a row whose file is not in the store
    with pytest.raises(backup.Refused) as err:
        backup.dump(tmp_path / "b.tar.gz")
    assert err.value.reason == "file" and not (tmp_path / "b.tar.gz").exists()


def test_seeded_tables_are_the_ones_migrations_fill(app, database_url, tmp_path):
    """`info={"seeded": True}` must name exactly the tables a fresh `db upgrade` leaves rows in: a migration
    that seeds a row elsewhere would make every fresh database look not empty to restore."""
    other = _installation(app, _new_database(database_url, tmp_path, "seeded"), tmp_path)
    try:
        rows, _files_ = _state(other)
        assert {name for name, lines in rows.items() if lines} == _seeded()
    finally:
        _close(other)
