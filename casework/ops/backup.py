"""`casework backup FILE` and `casework restore FILE`: every table (cases, ledger, audit, people, …) and
the uploaded files in one .tar.gz; restore only into an empty, migrated database, then verify the audit chains."""
from __future__ import annotations

import base64
import io
import json
import tarfile
from datetime import date, datetime
from pathlib import Path

import click
from flask import current_app
from sqlalchemy import DateTime, Date, LargeBinary, func, insert, select, text

from ..cli import casework_cli
from ..extensions import db

FORMAT = 1


def _plain(value):
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, bytes):
        return base64.b64encode(value).decode()
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
    return [t for t in db.metadata.sorted_tables]


def dump(path: Path) -> dict[str, int]:
    counts, data = {}, {"format": FORMAT, "tables": {}}
    for table in _tables():
        rows = db.session.execute(select(table).order_by(*table.primary_key.columns)).mappings().all()
        data["tables"][table.name] = [{k: _plain(v) for k, v in row.items()} for row in rows]
        counts[table.name] = len(rows)
    uploads = Path(current_app.config["CASEWORK_UPLOAD_DIR"])
    with tarfile.open(path, "w:gz") as tar:
        blob = json.dumps(data, ensure_ascii=False).encode()
        info = tarfile.TarInfo("casework/data.json")
        info.size = len(blob)
        tar.addfile(info, io.BytesIO(blob))
        if uploads.is_dir():
            for file in sorted(uploads.rglob("*")):
                if file.is_file():
                    tar.add(file, arcname=f"casework/uploads/{file.relative_to(uploads)}")
    return counts


def restore(path: Path) -> dict[str, int]:
    for table in _tables():
        if db.session.scalar(select(func.count()).select_from(table)):
            raise click.ClickException(f"the database is not empty (table {table.name} has rows); "
                                       "restore only into a freshly migrated database")
    uploads = Path(current_app.config["CASEWORK_UPLOAD_DIR"])
    try:
        tar = tarfile.open(path, "r:gz")
    except (OSError, tarfile.TarError) as exc:
        raise click.ClickException(f"{path} is not a casework backup: {exc}") from None
    with tar:
        try:
            data = json.loads(tar.extractfile("casework/data.json").read())
        except (KeyError, ValueError) as exc:
            raise click.ClickException(f"{path} is not a casework backup: {exc}") from None
        if data.get("format") != FORMAT:
            raise click.ClickException(f"{path} has backup format {data.get('format')}, expected {FORMAT}")
        counts = {}
        for table in _tables():
            rows = data["tables"].get(table.name, [])
            if rows:
                cols = table.columns
                db.session.execute(insert(table), [{k: _typed(cols[k], v) for k, v in row.items() if k in cols}
                                                   for row in rows])
            counts[table.name] = len(rows)
        from ..motions.models import rebuild_co_department_index
        rebuild_co_department_index()  # a backup from before the index existed
        _reset_sequences()
        uploads.mkdir(parents=True, exist_ok=True)
        for member in tar.getmembers():
            if member.isfile() and member.name.startswith("casework/uploads/"):
                name = Path(member.name).name  # stored names are flat random tokens
                (uploads / name).write_bytes(tar.extractfile(member).read())
    return counts


def _reset_sequences():
    if db.engine.dialect.name != "postgresql":
        return
    for table in _tables():
        pk = list(table.primary_key.columns)
        if len(pk) == 1 and pk[0].autoincrement in (True, "auto") and isinstance(pk[0].type.python_type, type) \
                and pk[0].type.python_type is int:
            db.session.execute(text(
                f"SELECT setval(pg_get_serial_sequence('{table.name}', '{pk[0].name}'), "
                f"COALESCE((SELECT MAX({pk[0].name}) FROM {table.name}), 0) + 1, false)"))


@casework_cli.command("backup")
@click.argument("file", type=click.Path(dir_okay=False, writable=True, path_type=Path))
def backup_command(file: Path):
    """Write every table and the uploaded files to FILE (.tar.gz)."""
    counts = dump(file)
    click.echo(f"backup written to {file}: {sum(counts.values())} rows in {len(counts)} tables")


@casework_cli.command("restore")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
def restore_command(file: Path):
    """Load FILE (from `casework backup`) into an empty, migrated database; then verify the audit chains."""
    from ..core.models import Case, verify_chain
    counts = restore(file)
    broken = [cid for (cid,) in db.session.execute(select(Case.id)) if not verify_chain(cid)[0]]
    if broken:
        db.session.rollback()
        raise click.ClickException(f"audit chains broken for cases {broken[:10]}; nothing restored")
    db.session.commit()
    click.echo(f"restored {sum(counts.values())} rows; audit chains intact")


def register(app):
    return None  # the commands join the casework group on import
