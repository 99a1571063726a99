"""`flask --app wsgi casework import-roster FILE.xlsx|FILE.csv [--dry-run]`."""
from __future__ import annotations

import json
from pathlib import Path

import click

from ..cli import casework_cli
from ..core.errors import CaseworkError
from ..extensions import db


@casework_cli.command("import-roster")
@click.argument("path", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--dry-run", is_flag=True, help="Check and report; change nothing.")
@click.option("--create-units", is_flag=True, help="Create units named in the file that do not exist yet.")
@click.option("--deactivate-missing", is_flag=True,
              help="Deactivate active members of the file's units whom the file no longer lists.")
@click.option("--refused-out", type=click.Path(dir_okay=False, path_type=Path),
              help="Write the refused rows with a reason column to this .xlsx or .csv file.")
@click.option("--json", "as_json", is_flag=True, help="Print the report as JSON (the API's shape).")
def import_roster_command(path: Path, dry_run: bool, create_units: bool, deactivate_missing: bool,
                          refused_out: Path | None, as_json: bool):
    """Import the member roster (columns 姓名, 工号, 手机, 单位, 身份证号, 角色), matched by 工号."""
    from .operations import import_now, refusal_file, refused_rows
    try:
        job, report = import_now(path.read_bytes(), path.name, None, dry_run=dry_run,
                                 create_units=create_units, deactivate_missing=deactivate_missing)
    except CaseworkError as exc:
        db.session.rollback()
        raise click.ClickException(str(exc.message)) from None
    if refused_out is not None and report.refused:
        fmt = "csv" if refused_out.suffix.lower() == ".csv" else "xlsx"
        blob, _type = refusal_file(refused_rows(job), fmt)
        refused_out.write_bytes(blob)
    if as_json:
        out = report.as_dict()
        out.pop("planned", None)
        click.echo(json.dumps(out, ensure_ascii=False, indent=2))
        return
    verb = "would be" if dry_run else "were"
    click.echo(f"{path.name}: {report.total} rows; {report.created} {verb} created, "
               f"{report.updated} updated, {report.unchanged} unchanged, {len(report.refused)} refused"
               + (f", {len(report.deactivated)} deactivated" if deactivate_missing else "")
               + (f", units created: {', '.join(report.units_created)}" if report.units_created else ""))
    for item in report.refused:
        click.echo(f"  row {item['row']}: {item['reason']}")
    for unit in report.missing_units:
        if not unit["create"]:
            click.echo(f"  missing unit {unit['path']} ({unit['rows']} rows): "
                       "rerun with --create-units to create it")
    if not dry_run and report.activations:
        click.echo(f"{report.activations} new accounts need activation: "
                   "print the lists at /admin/roster/activation")
