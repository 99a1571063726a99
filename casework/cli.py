"""`flask --app wsgi casework ...`: operator commands. Bad input ends with a clear line, exit 2."""
from __future__ import annotations

from collections.abc import Iterator
from contextlib import nullcontext

import click
from flask import Flask
from flask.cli import AppGroup
from sqlalchemy import select
from sqlalchemy.exc import OperationalError, ProgrammingError

from .extensions import db

casework_cli = AppGroup("casework", help="casework operator commands.")


def _schema_missing(exc) -> click.ClickException:
    return click.ClickException(f"the database has no casework tables yet; run `flask --app wsgi db upgrade` "
                                f"first ({exc.orig.__class__.__name__})")


@casework_cli.command("demo")
@click.option("--no-history", is_flag=True,
              help="Only the union itself: no cases, postings or ledger lines.")
def demo_command(no_history):
    """Load the demo union (units, accounts, funds, a congress session) and a year of its casework.

    Safe to run twice: what exists is kept, and the history is added only to a database without cases."""
    import time

    from . import demo, demo_history
    from .clock import travel
    try:
        fresh = not no_history and not demo_history.has_cases()
        # With a history to follow, the union is dated at its start (its accounts, funds and first income).
        with travel(demo_history.base_moment()) if fresh else nullcontext():
            created = demo.load()
        db.session.commit()
    except (OperationalError, ProgrammingError) as exc:
        db.session.rollback()
        raise _schema_missing(exc) from None
    made = ", ".join(f"{v} {k}" for k, v in created.items() if v) or "nothing new"
    click.echo(f"demo data loaded: {made}. Every demo account's password is '{demo.PASSWORD}'.")
    if no_history:
        return
    started = time.perf_counter()
    try:
        history = demo_history.load_history()
    except demo_history.HistoryError as exc:
        db.session.rollback()
        raise click.ClickException(f"demo history stopped: {exc}") from None
    if history is None:
        click.echo("demo history: the database already has cases; nothing added.")
        return
    click.echo(f"demo history {history['from']} to {history['to']}: {history['aid']} aid requests, "
               f"{history['proposals']} proposals, {history['motions']} motions, {history['postings']} board "
               f"postings, {history['steps']} steps in {time.perf_counter() - started:.1f} s.")


def audit_breaks() -> Iterator[tuple[str, int | None]]:
    """(what, first bad entry) for every broken audit chain: the one list of chains that `verify-audit` and
    `restore` check, so a chain added here is checked by both."""
    from .core.models import Case, Subject, verify_chain
    for case_id, number in db.session.execute(select(Case.id, Case.number).order_by(Case.id)):
        ok, seq = verify_chain(case_id)
        if not ok:
            yield number, seq
    for model in Subject.__subclasses__():  # the register's households, the board's postings
        for subject in db.session.scalars(select(model).order_by(model.id)):
            ok, seq = verify_chain(subject)
            if not ok:
                yield subject.label, seq
    from .privacy.models import chains, verify_access_chain
    for chain in chains():
        ok, seq = verify_access_chain(chain)
        if not ok:
            yield f"reads log {chain}", seq


@casework_cli.command("verify-audit")
def verify_audit_command():
    """Check every audit hash chain; exit 1 naming the broken ones."""
    broken = 0
    for what, seq in audit_breaks():
        broken += 1
        click.echo(f"{what}: audit chain broken at entry {seq}", err=True)
    if broken:
        raise SystemExit(1)
    click.echo("audit chains intact")


def register(app: Flask):
    app.cli.add_command(casework_cli)
