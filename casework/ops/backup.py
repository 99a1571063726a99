"""`casework backup FILE` and `casework restore FILE`: every table and the uploaded files in one signed .tar.gz;
restore keeps nothing (rows or files) unless the archive passes every check.

The archive holds one JSON Lines file per table (rows in primary-key order), the files of the store
(casework/storage.py: the upload directory or the object store's prefix), and a
manifest with the SHA-256 and row count of each table and the SHA-256 and size of each file, signed with an HMAC
under a key derived from SECRET_KEY. Restore goes into a freshly migrated database at the backup's schema
revision: every table empty except those marked `info={"seeded": True}` (rows a migration inserts, which the
archive's rows replace). Before anything is kept it checks the archive against its manifest and signature, the
funds' totals against their ledger lines, every attachment's file, then (inside the one transaction that loads
the rows) every audit chain `verify-audit` checks, each case's state against its chain, each issued notice
against its bytes and each posted board item against its posting notice. Files are staged (beside the upload
directory, for the folder) and put into the store only after the commit.
"""
from __future__ import annotations

import base64
import hashlib
import hmac
import json
import os
import shutil
import tarfile
import tempfile
import zlib
from collections import defaultdict
from collections.abc import Iterator
from datetime import date, datetime
from pathlib import Path, PurePosixPath

import click
from flask_babel import gettext as _
from sqlalchemy import Date, DateTime, LargeBinary, and_, bindparam, delete, func, insert, or_, select, text, update
from sqlalchemy.exc import DataError, IntegrityError, OperationalError, ProgrammingError

from ..cli import casework_cli
from ..extensions import db

FORMAT = 2
ROOT = "casework"
MANIFEST, SIGNATURE = f"{ROOT}/manifest.json", f"{ROOT}/manifest.sig"
TABLES, UPLOADS = f"{ROOT}/tables/", f"{ROOT}/uploads/"
CHUNK = 1000  # rows per INSERT batch, and per fetch while dumping


class Refused(click.ClickException):
    """A backup or restore stopped with one line saying why; `reason` names the check (for tests and logs)."""

    def __init__(self, reason: str, message: str):
        super().__init__(" ".join(str(message).split()))
        self.reason = reason


# -- rows as lines ------------------------------------------------------------------------------------------

def _plain(value):
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, bytes | memoryview):
        return base64.b64encode(bytes(value)).decode()
    return value


def _typed(column, value):
    if value is None:
        return None
    if isinstance(column.type, DateTime):
        return datetime.fromisoformat(value)
    if isinstance(column.type, Date):
        return date.fromisoformat(value)
    if isinstance(column.type, LargeBinary):
        return base64.b64decode(value)
    return value


def _tables():
    return list(db.metadata.sorted_tables)


def table_lines(table) -> Iterator[bytes]:
    """The table's rows as the archive stores them: one canonical JSON line each, in primary-key order."""
    result = db.session.execute(select(table).order_by(*table.primary_key.columns)
                                .execution_options(yield_per=CHUNK))
    for row in result.mappings():
        yield json.dumps({k: _plain(v) for k, v in row.items()}, sort_keys=True, ensure_ascii=False,
                         separators=(",", ":")).encode() + b"\n"


def _signature(blob: bytes) -> str:
    from ..roster.crypto import derived_key
    return hmac.new(derived_key(b"backup/manifest"), blob, hashlib.sha256).hexdigest()


def _revisions() -> list[str]:
    try:
        return sorted(db.session.execute(text("SELECT version_num FROM alembic_version")).scalars())
    except (OperationalError, ProgrammingError):
        db.session.rollback()
        raise Refused("schema", _("The database has no casework tables yet; run `flask --app wsgi db upgrade` "
                                  "first.")) from None


class _Checked:
    """The file store, with its failures as one-line refusals."""

    def __init__(self, inner):
        self.inner = inner

    def __getattr__(self, name):
        from ..storage import StoreError
        method = getattr(self.inner, name)

        def call(*args, **kwargs):
            try:
                return method(*args, **kwargs)
            except StoreError as exc:
                raise Refused("store", _("The file store cannot be reached (%(store)s): %(error)s",
                                         store=repr(self.inner), error=str(exc))) from None
        return call


def _store() -> _Checked:
    from ..storage import store
    return _Checked(store())


# -- backup -------------------------------------------------------------------------------------------------

def dump(path: Path) -> dict[str, int]:
    """Write the archive; returns the row count of each table."""
    if db.engine.dialect.name == "postgresql" and not db.session().in_transaction():
        # One snapshot for every table, so the ledger and the funds' totals are of the same moment.
        db.session.connection(execution_options={"isolation_level": "REPEATABLE READ"})
    revisions = _revisions()
    try:
        return _write(path, revisions)
    except BaseException:
        Path(path).unlink(missing_ok=True)  # never leave half an archive under the name
        raise


def _write(path: Path, revisions: list[str]) -> dict[str, int]:
    uploads = _store()
    manifest = {"format": FORMAT, "revisions": revisions, "tables": {}, "files": {}}
    with tempfile.TemporaryDirectory() as work, tarfile.open(path, "w:gz", compresslevel=6) as tar:
        for table in _tables():
            staged, digest, rows = Path(work) / f"{table.name}.jsonl", hashlib.sha256(), 0
            with staged.open("wb") as out:
                for line in table_lines(table):
                    digest.update(line)
                    out.write(line)
                    rows += 1
            tar.add(staged, arcname=f"{TABLES}{table.name}.jsonl")
            manifest["tables"][table.name] = {"rows": rows, "sha256": digest.hexdigest()}
        for name in uploads.keys():
            data = uploads.get(name)  # read once: what is hashed is what is archived
            if data is None:
                continue  # deleted since the listing (its row went with it)
            manifest["files"][name] = {"size": len(data), "sha256": hashlib.sha256(data).hexdigest()}
            _add_bytes(tar, f"{UPLOADS}{name}", data)
        _attachments_have_files(_attachment_rows(db.session.execute(
            select(_attachments().c.id, _attachments().c.stored_name, _attachments().c.sha256)).mappings()),
            manifest["files"])
        blob = json.dumps(manifest, sort_keys=True, ensure_ascii=False, indent=1).encode()
        _add_bytes(tar, MANIFEST, blob)
        _add_bytes(tar, SIGNATURE, _signature(blob).encode())
    return {name: t["rows"] for name, t in manifest["tables"].items()}


def _add_bytes(tar, name: str, data: bytes):
    import io
    info = tarfile.TarInfo(name)
    info.size, info.mode = len(data), 0o600
    tar.addfile(info, io.BytesIO(data))


def _attachments():
    from ..core.models import Attachment
    return Attachment.__table__


def _attachment_rows(rows) -> Iterator[tuple[int, str, str]]:
    for r in rows:
        yield r["id"], r["stored_name"], r["sha256"]


def _attachments_have_files(rows, files: dict):
    for att_id, stored, sha in rows:
        if files.get(stored, {}).get("sha256") != sha:
            raise Refused("file", _("The file of attachment %(id)s (%(name)s) is missing or differs from its "
                                    "recorded SHA-256.", id=att_id, name=stored))


# -- restore ------------------------------------------------------------------------------------------------

def restore(path: Path) -> dict[str, int]:
    """Check the archive, load it into this (freshly migrated) database and commit, then move its files into
    the upload directory; returns the row count of each table. Raises Refused, having kept nothing."""
    uploads = _store()
    parent = uploads.staging_dir()  # beside the folder: the move is a rename
    stage = Path(tempfile.mkdtemp(prefix=".casework-restore-", dir=parent))
    try:
        manifest = _unpack(path, stage)
        try:
            _check_target(manifest, stage, uploads)
            _check_funds(stage)
            _attachments_have_files(_attachment_rows(_rows(stage, _attachments())), manifest["files"])
            counts = _load(stage)
            _check_loaded()
            _reset_sequences()
            db.session.commit()
        except BaseException:
            db.session.rollback()
            raise
        _move_files(stage / "uploads", uploads, manifest["files"])
        return counts
    finally:
        shutil.rmtree(stage, ignore_errors=True)


def _unpack(path: Path, stage: Path) -> dict:
    """Stage every member of the archive, then check them against the manifest and its signature."""
    foreign = Refused("foreign", _("%(file)s is not a casework backup.", file=path.name))
    damaged = Refused("truncated", _("%(file)s is damaged or incomplete (cut short or altered); nothing was "
                                     "restored.", file=path.name))
    found: dict[str, str] = {}
    manifest_blob = signature = None
    try:
        tar = tarfile.open(path, "r|gz")  # a stream: members are read once, in order
    except (tarfile.TarError, OSError, EOFError, zlib.error):
        raise foreign from None
    try:
        with tar:
            for member in tar:
                name = member.name
                if member.isdir() and name.startswith(ROOT):
                    continue
                if not member.isfile() or not name.startswith(f"{ROOT}/"):
                    raise foreign
                stream = tar.extractfile(member)
                if name == MANIFEST:
                    manifest_blob = stream.read()
                elif name == SIGNATURE:
                    signature = stream.read().decode("ascii", "replace").strip()
                else:
                    found[name] = _stage_member(name, stream, stage, foreign)
    except Refused:
        raise
    except (tarfile.TarError, OSError, EOFError, zlib.error):
        raise (damaged if found else foreign) from None
    if manifest_blob is None:
        raise damaged if found else foreign
    try:
        manifest = json.loads(manifest_blob)
        listed = ({f"{TABLES}{n}.jsonl": t["sha256"] for n, t in manifest["tables"].items()}
                  | {f"{UPLOADS}{n}": f["sha256"] for n, f in manifest["files"].items()})
    except (ValueError, KeyError, TypeError, AttributeError):
        raise damaged from None
    if manifest.get("format") != FORMAT:
        raise Refused("format", _("%(file)s was made by another version of casework (backup format %(found)s, "
                                  "this version reads %(expected)s).", file=path.name,
                                  found=manifest.get("format"), expected=FORMAT))
    for name in sorted(set(listed) | set(found)):
        if name not in found:
            raise Refused("manifest", _("The backup lacks %(name)s, which its manifest lists; nothing was "
                                        "restored.", name=name))
        if name not in listed:
            raise Refused("manifest", _("The backup holds %(name)s, which its manifest does not list; nothing "
                                        "was restored.", name=name))
        if found[name] != listed[name]:
            raise Refused("manifest", _("%(name)s in the backup differs from its manifest (SHA-256): the archive "
                                        "was changed after it was made; nothing was restored.", name=name))
    if not signature or not hmac.compare_digest(signature, _signature(manifest_blob)):
        raise Refused("signature", _("The backup's manifest does not carry this installation's signature: it was "
                                     "changed after it was made, or made by an installation with another "
                                     "secret key; nothing was restored."))
    return manifest


def _stage_member(name: str, stream, stage: Path, foreign: Refused) -> str:
    """Copy one member into the staging folder; its SHA-256."""
    if name.startswith(TABLES) and name.endswith(".jsonl") and "/" not in name[len(TABLES):]:
        target = stage / "tables" / name[len(TABLES):]
    elif name.startswith(UPLOADS):
        rel = PurePosixPath(name[len(UPLOADS):])
        if rel.is_absolute() or not rel.parts or any(p in ("", ".", "..") for p in rel.parts):
            raise foreign
        target = stage / "uploads" / Path(*rel.parts)
    else:
        raise foreign
    target.parent.mkdir(parents=True, exist_ok=True)
    digest = hashlib.sha256()
    with target.open("wb") as out:
        while chunk := stream.read(1 << 20):
            digest.update(chunk)
            out.write(chunk)
    return digest.hexdigest()


def _rows(stage: Path, table) -> Iterator[dict]:
    with (stage / "tables" / f"{table.name}.jsonl").open("rb") as lines:
        for line in lines:
            yield json.loads(line)


def _check_target(manifest: dict, stage: Path, uploads: Path):
    ours, theirs = _revisions(), manifest.get("revisions")
    if ours != theirs:
        theirs_text = ", ".join(theirs or []) or "?"
        raise Refused("revision", _("The backup is of schema revision %(theirs)s and this database is at "
                                    "%(ours)s: migrate an empty database to the backup's revision (flask --app "
                                    "wsgi db upgrade %(theirs)s), restore, then upgrade.",
                                    theirs=theirs_text, ours=", ".join(ours) or "?"))
    tables = {t.name for t in _tables()}
    if tables != set(manifest["tables"]):
        odd = sorted(tables ^ set(manifest["tables"]))
        raise Refused("schema", _("The backup's tables do not match this version's (%(tables)s).",
                                  tables=", ".join(odd[:5])))
    for table in _tables():
        if not table.info.get("seeded") and db.session.scalar(select(func.count()).select_from(table)):
            raise Refused("not_empty", _("The database is not empty (table %(table)s has rows): restore only into "
                                         "a freshly migrated database.", table=table.name))
    held = set(uploads.keys())
    for name, entry in manifest["files"].items():
        there = uploads.get(name) if name in held else None
        if there is not None and hashlib.sha256(there).hexdigest() != entry["sha256"]:
            if uploads.staging_dir() is None:
                raise Refused("uploads_not_empty", _("The file store already holds another file named "
                                                     "%(name)s: restore into an empty store.", name=name))
            raise Refused("uploads_not_empty", _("The upload directory already holds another file named "
                                                 "%(name)s: restore into an empty upload directory.", name=name))


def _check_funds(stage: Path):
    """balance = income − debits, reserved = the cases' open reservations, free ≥ 0: from the archived rows."""
    from ..funds.models import EFFECT, Fund, LedgerEntry, totals
    funds = {r["id"]: r for r in _rows(stage, Fund.__table__)}
    sums: dict[int, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    held: dict[tuple[int, int], int] = defaultdict(int)
    for r in _rows(stage, LedgerEntry.__table__):
        if r["kind"] not in EFFECT or r["fund_id"] not in funds:
            raise Refused("fund", _("Ledger line %(id)s in the backup is of no known kind or fund.", id=r["id"]))
        sums[r["fund_id"]][r["kind"]] += r["amount"]
        if EFFECT[r["kind"]][1]:
            held[r["fund_id"], r["case_id"]] += EFFECT[r["kind"]][1] * r["amount"]

    def yuan(fen):
        return f"{fen / 100:.2f}"

    for fund_id, fund in funds.items():
        balance, reserved = totals(sums[fund_id])
        if (fund["balance"], fund["reserved"]) != (balance, reserved) or balance < reserved:
            raise Refused("fund", _(
                "Fund %(code)s in the backup does not add up: it shows a balance of %(balance)s and %(reserved)s "
                "reserved, its ledger lines give %(ledger_balance)s and %(ledger_reserved)s (the free balance "
                "may not be negative); nothing was restored.", code=fund["code"], balance=yuan(fund["balance"]),
                reserved=yuan(fund["reserved"]), ledger_balance=yuan(balance), ledger_reserved=yuan(reserved)))
    for (fund_id, case_id), amount in held.items():
        if amount < 0:
            raise Refused("fund", _("In the backup, case %(case)s has more released or paid out of fund %(code)s "
                                    "than was reserved for it; nothing was restored.",
                                    case=case_id, code=funds[fund_id]["code"]))


def _load(stage: Path) -> dict[str, int]:
    """Insert every table's rows; references to rows not inserted yet (a notice superseded by a later one,
    a table further down the order) go in as NULL and are set once every row is in."""
    order = _tables()
    position = {t: i for i, t in enumerate(order)}
    for table in reversed(order):
        if table.info.get("seeded"):
            db.session.execute(delete(table))
    later: dict[tuple, list[dict]] = defaultdict(list)
    counts = {}
    try:
        for table in order:
            deferred = [(fk.parent, fk.column) for fk in table.foreign_keys
                        if position[fk.column.table] >= position[table]]
            seen = {ref.name: set() for _col, ref in deferred if ref.table is table}
            chunk, counts[table.name] = [], 0
            for raw in _rows(stage, table):
                try:
                    row = {k: _typed(table.c[k], v) for k, v in raw.items()}
                except (KeyError, ValueError, TypeError):
                    raise Refused("schema", _("A row of table %(table)s in the backup does not fit this version's "
                                              "schema; nothing was restored.", table=table.name)) from None
                for col, ref in deferred:
                    value = row.get(col.name)
                    if value is not None and not (ref.table is table and value in seen[ref.name]):
                        later[table, col.name].append(
                            {**{f"pk_{c.name}": row[c.name] for c in table.primary_key}, "deferred": value})
                        row[col.name] = None
                for name, values in seen.items():
                    values.add(row.get(name))
                chunk.append(row)
                counts[table.name] += 1
                if len(chunk) >= CHUNK:
                    db.session.execute(insert(table), chunk)
                    chunk = []
            if chunk:
                db.session.execute(insert(table), chunk)
        for (table, column), params in later.items():
            where = and_(*[c == bindparam(f"pk_{c.name}") for c in table.primary_key])
            db.session.execute(update(table).where(where).values({column: bindparam("deferred")}), params)
        db.session.flush()
    except (IntegrityError, DataError) as exc:  # e.g. a duplicate key, a text too long for its column
        first = str(exc.orig).strip().splitlines()[0] if str(exc.orig).strip() else exc.orig.__class__.__name__
        raise Refused("integrity", _("The backup's rows break the database's rules (%(error)s); nothing was "
                                     "restored.", error=first)) from None
    return counts


def _check_loaded():
    """The checks that read the loaded rows, inside the transaction that loaded them."""
    from ..cli import audit_breaks
    from ..core.models import AuditEntry, Case
    from ..disclosure.models import DisclosureItem
    from ..notices.models import Notice
    broken = [f"{what} ({seq})" for what, seq in audit_breaks()]
    if broken:
        raise Refused("audit", _("Audit chains broken in the backup (at entry): %(chains)s; nothing was restored.",
                                 chains=", ".join(broken[:10])))

    cases, audit = Case.__table__, AuditEntry.__table__
    last = select(audit.c.case_id, func.max(audit.c.seq).label("seq")).group_by(audit.c.case_id).subquery()
    odd = db.session.execute(
        select(cases.c.number, cases.c.state, audit.c.to_state)
        .outerjoin(last, last.c.case_id == cases.c.id)
        .outerjoin(audit, and_(audit.c.case_id == cases.c.id, audit.c.seq == last.c.seq))
        .where(or_(audit.c.to_state.is_(None), audit.c.to_state != cases.c.state))
        .order_by(cases.c.id).limit(1)).first()
    if odd is not None:
        raise Refused("state", _("In the backup, case %(number)s is in state %(state)s but its audit trail ends in "
                                 "%(trail)s; nothing was restored.", number=odd.number, state=odd.state,
                                 trail=odd.to_state or "-"))

    notices = Notice.__table__
    for number, sha, size, pdf in db.session.execute(
            select(notices.c.number, notices.c.sha256, notices.c.size, notices.c.pdf)
            .order_by(notices.c.id).execution_options(yield_per=50)):
        if len(pdf) != size or hashlib.sha256(bytes(pdf)).hexdigest() != sha:
            raise Refused("notice", _("Notice %(number)s in the backup does not match its recorded SHA-256; nothing "
                                      "was restored.", number=number))

    # The board: each posted version's items as its issued posting notice printed them.
    items = DisclosureItem.__table__
    posted = defaultdict(dict)
    for subject, fields in db.session.execute(
            select(notices.c.subject, notices.c.fields).where(notices.c.subject.like("disclosure:%"))):
        for item in (fields or {}).get("items", []):
            posted[subject][item.get("seq")] = item
    for row in db.session.execute(select(items).order_by(items.c.id)).mappings():
        printed = posted.get(f"disclosure:{row['disclosure_id']}")
        if printed is None:
            continue  # not posted yet: no notice to hold it against (the signed manifest still does)
        shown = printed.get(row["seq"], {})
        if (shown.get("name"), shown.get("unit"), shown.get("category"), shown.get("amount")) != (
                row["masked_name"], row["unit_name"], row["category"], row["amount"]):
            raise Refused("board", _("Item %(seq)s of board posting %(id)s in the backup differs from the posting "
                                     "notice that was issued for it; nothing was restored.", seq=row["seq"],
                                     id=row["disclosure_id"]))


def _reset_sequences():
    if db.engine.dialect.name != "postgresql":
        return
    for table in _tables():
        pk = list(table.primary_key.columns)
        if len(pk) == 1 and pk[0].autoincrement in (True, "auto") and pk[0].type.python_type is int:
            db.session.execute(text(
                f"SELECT setval(pg_get_serial_sequence('\"{table.name}\"', '{pk[0].name}'), "
                f"COALESCE((SELECT MAX(\"{pk[0].name}\") FROM \"{table.name}\"), 0) + 1, false)"))


def _move_files(staged: Path, uploads, files: dict):
    held = set(uploads.keys())
    for name in files:
        if name in held:
            continue  # the same bytes (checked before loading)
        uploads.put_file(name, staged / Path(*PurePosixPath(name).parts))


# -- commands -----------------------------------------------------------------------------------------------

@casework_cli.command("backup")
@click.argument("file", type=click.Path(dir_okay=False, writable=True, path_type=Path))
def backup_command(file: Path):
    """Write every table and the uploaded files to FILE (.tar.gz), with a signed manifest."""
    counts = dump(file)
    click.echo(_("backup written to %(file)s: %(rows)s rows in %(tables)s tables", file=file,
                 rows=sum(counts.values()), tables=len(counts)))


@casework_cli.command("restore")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
def restore_command(file: Path):
    """Check FILE (from `casework backup`) and load it into a freshly migrated database, or refuse and keep nothing."""
    counts = restore(file)
    click.echo(_("restored %(rows)s rows in %(tables)s tables; manifest, signature, funds, audit chains, notices "
                 "and board intact", rows=sum(counts.values()), tables=len(counts)))


def register(app):
    return None  # the commands join the casework group on import
