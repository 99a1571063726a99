"""`flask --app wsgi casework scheduler` and `... casework run-due [--at ISO]`."""
from __future__ import annotations

import logging
import os
import signal
import sys
import threading
from contextlib import nullcontext
from datetime import datetime, timedelta

import click
from flask import current_app

from ..cli import casework_cli
from ..clock import to_utc, travel, utcnow
from ..extensions import db
from .jobs import record_run, serve
from .sweep import run_due

log = logging.getLogger("casework.scheduler")


@casework_cli.command("scheduler")
@click.option("--interval", default=60, show_default=True, type=click.IntRange(1, 3600),
              help="Seconds between sweeps (reminders, automatic steps, digests).")
@click.option("--mail-interval", default=15, show_default=True, type=click.IntRange(1, 3600),
              help="Seconds between sends of the e-mail outbox.")
@click.option("--lease-seconds", default=30, show_default=True, type=click.IntRange(2, 600),
              help="How long a dead scheduler keeps the lease (SQLite) before another takes over.")
def scheduler_command(interval, mail_interval, lease_seconds):
    """Run the scheduler until SIGTERM or Ctrl-C. Start as many as you like: one is active, the rest wait."""
    if not logging.getLogger().handlers:
        logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(levelname)s %(message)s")
    logging.getLogger("casework").setLevel(logging.INFO)
    logging.getLogger("apscheduler").setLevel(logging.WARNING)
    stop = threading.Event()

    def on_signal(*_):
        # Set from another thread: Event.set() here could deadlock on the lock of a wait it interrupted.
        threading.Thread(target=stop.set, daemon=True).start()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, on_signal)
    clean = serve(current_app._get_current_object(), interval=interval, mail_interval=mail_interval,
                  lease_seconds=lease_seconds, stop=stop)
    if clean:
        db.engine.dispose()
    else:
        log.error("exiting with a job still running: its transaction dies with the process; its effects "
                  "are keyed, so the next run does them")
    # Everything is released: skip the interpreter's teardown, which on a loaded machine can take longer
    # than the 5 s a stop may take (and, if a job is stuck, would wait for its thread).
    logging.shutdown()
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(0)


def parse_at(text: str) -> datetime:
    """An ISO time; without an offset it is the union's local time. Returns naive UTC."""
    try:
        moment = datetime.fromisoformat(text.strip())
    except ValueError:
        raise click.BadParameter(f"{text!r} is not an ISO time such as 2026-12-07T09:00",
                                 param_hint="--at") from None
    return to_utc(moment)


@casework_cli.command("run-due")
@click.option("--at", "at_text", metavar="ISO-TIME",
              help="The moment to run as of (local time unless an offset is given); default now.")
def run_due_command(at_text):
    """Run, once, every job due as of a moment and exit. Running it twice changes nothing.

    A moment in the future moves the clock for this run only, and only in demo mode (CASEWORK_DEMO=true):
    that is how demo cases age.
    """
    at = parse_at(at_text) if at_text else utcnow()
    future = at > utcnow() + timedelta(minutes=1)
    if future and not current_app.config.get("CASEWORK_DEMO"):
        raise click.UsageError("--at is in the future; only demo mode (CASEWORK_DEMO=true) may move "
                               "the clock forward")
    with travel(at) if future else nullcontext():
        started = utcnow()
        report = run_due(at)
        record_run("run-due", started, report, description="run-due command", trigger="by hand")
    click.echo(f"run-due {report}")
    if report.failures:
        raise click.ClickException(f"{report.failures} item(s) failed; see /admin/scheduler")
