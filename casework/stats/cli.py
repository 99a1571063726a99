"""`flask --app wsgi casework stats-rebuild`: recompute the statistics' aggregate from the audit history."""
from __future__ import annotations

import time

import click
from sqlalchemy.exc import OperationalError, ProgrammingError

from ..cli import _schema_missing, casework_cli
from ..extensions import db


@casework_cli.command("stats-rebuild")
@click.option("--check", is_flag=True, help="Only compare the kept aggregate with a recomputation; exit 1 "
                                            "when they differ. Changes nothing.")
def stats_rebuild_command(check):
    """Recompute the stays the statistics read from every case's audit history (safe to run again).

    The engine keeps them at each step; this is for a database filled by other means, or to prove them."""
    from . import aggregates
    started = time.perf_counter()
    try:
        if check:
            kept, fresh, differ = aggregates.differences()
            db.session.rollback()
        else:
            made = aggregates.rebuild()
            db.session.commit()
    except (OperationalError, ProgrammingError) as exc:
        db.session.rollback()
        raise _schema_missing(exc) from None
    took = time.perf_counter() - started
    if check:
        if differ:
            click.echo(f"statistics aggregate differs from the audit history: {differ} of {kept} kept / {fresh} "
                       f"recomputed stays differ; run `flask --app wsgi casework stats-rebuild`", err=True)
            raise SystemExit(1)
        click.echo(f"statistics aggregate equals the audit history ({kept} stays, checked in {took:.1f} s)")
        return
    click.echo(f"statistics rebuilt from the audit history: {made['stays']} stays (there were "
               f"{made['removed']}) in {took:.1f} s")
