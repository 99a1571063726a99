"""`flask --app wsgi casework worker`: an RQ worker for the casework queue."""
from __future__ import annotations

import logging

import click
from flask import current_app
from flask.cli import with_appcontext

log = logging.getLogger("casework.tasks")


@click.command("worker")
@click.option("--burst", is_flag=True, help="Stop once the queue is empty (for tests and one-off runs).")
@click.option("--name", default=None, help="The worker's name in RQ (default: host and pid).")
@with_appcontext
def worker_command(burst: bool, name: str | None):
    """Run queued jobs (PDF batches, exports, roster imports, reports) from CASEWORK_REDIS_URL."""
    url = current_app.config.get("CASEWORK_REDIS_URL") or ""
    if not url:
        raise click.ClickException("CASEWORK_REDIS_URL is not set: without Redis the jobs run inside the web "
                                   "process, and no worker is needed")
    from redis import Redis
    from rq import Queue, SimpleWorker

    from . import QUEUE, requeue_abandoned
    # Its own client without a read timeout: the worker blocks on the queue for minutes at a time.
    conn = Redis.from_url(url.replace("redis+unix://", "unix://", 1))
    again = requeue_abandoned()
    if again:
        click.echo(f"re-queued {again} job(s) whose worker had stopped")
    # SimpleWorker runs each job in this process: forking a process that holds database connections is
    # what PITFALLS warns of, and a job killed with its worker is exactly what the re-queue recovers.
    worker = SimpleWorker([Queue(QUEUE, connection=conn)], connection=conn, name=name)
    worker.work(burst=burst, with_scheduler=True, logging_level="INFO")
