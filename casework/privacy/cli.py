"""`flask --app wsgi casework retention [--dry-run] [--at YYYY-MM-DD]`: anonymise the aid requests whose
retention period has ended (what the sweep does), or list them."""
from __future__ import annotations

from datetime import date, datetime, time

import click

from ..cli import casework_cli
from ..extensions import db


def _day(raw: str | None) -> date | None:
    if raw is None:
        return None
    try:
        return date.fromisoformat(raw.strip())
    except ValueError:
        raise click.ClickException(f"--at {raw!r} is not a date: give it as YYYY-MM-DD, e.g. 2031-12-31") from None


@casework_cli.command("retention")
@click.option("--dry-run", is_flag=True, help="List what would be anonymised; change nothing.")
@click.option("--at", "at_raw", metavar="YYYY-MM-DD",
              help="As of this day (default today); a day after today only with --dry-run.")
def retention_command(dry_run: bool, at_raw: str | None):
    """Anonymise aid requests past their category's retention period (legal holds excepted)."""
    from ..clock import local, to_utc, today, utcnow
    from . import retention
    day = _day(at_raw) or today()
    if day > today() and not dry_run:
        raise click.ClickException("--at lies in the future: only a --dry-run may look ahead")
    planned = retention.plan(day)
    db.session.rollback()
    for p in planned:
        removes = p.removes
        click.echo(f"{p.number}: closed {p.closed_on}, retention ended {p.due_on}; removes "
                   f"{removes['attachments']} attachment(s), details and circumstances, "
                   f"{removes['visits']} visit finding(s), free text in the audit, votes and notices, "
                   f"the applicant's link (replaced by a pseudonym)")
    held = retention.held()
    for case in held:
        click.echo(f"{case.number}: under legal hold since {local(case.hold_at):%Y-%m-%d} ({case.hold_reason}); kept")
    if dry_run:
        click.echo(f"dry run as of {day}: {len(planned)} request(s) would be anonymised, {len(held)} on hold; "
                   "nothing changed")
        return
    at = utcnow() if day == today() else to_utc(datetime.combine(day, time(23, 59)))
    done = retention.run(at)
    purged = retention.purge_reads(at)
    db.session.commit()
    click.echo(f"as of {day}: {done} request(s) anonymised, {purged} reads-log entries purged")
