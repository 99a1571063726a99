"""The scheduler process: APScheduler 3 in `flask --app wsgi casework scheduler`, never in web workers.

Only the lease holder runs jobs (see lease.py); the jobs live in memory, with explicit ids, and each one
calls `run_due`, whose effects are keyed, so a late, repeated or parallel run is harmless.
"""
from __future__ import annotations

import logging
import threading
import traceback
from dataclasses import dataclass
from datetime import datetime

from apscheduler.executors.pool import ThreadPoolExecutor
from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.triggers.interval import IntervalTrigger
from flask import Flask

from ..clock import to_utc, utcnow, zone
from ..extensions import db
from .lease import make_lease
from .models import SchedulerJob
from .sweep import Report, run_due

log = logging.getLogger("casework.scheduler")


@dataclass(frozen=True)
class Job:
    id: str
    description: str
    parts: tuple[str, ...]


SWEEP = Job("sweep", "Automatic steps, reminders and escalations, timers of other modules, digests, e-mail",
            ("steps", "tasks", "reminders", "digests", "mail"))
MAIL = Job("mail", "Send the e-mail waiting in the outbox", ("mail",))


def record_run(job_id: str, started: datetime, report: Report | None = None, error: str = "",
               next_run: datetime | None = None, description: str = "", trigger: str = "") -> None:
    """Keeps the job's last run for the admin page."""
    try:
        row = db.session.get(SchedulerJob, job_id) or SchedulerJob(id=job_id, runs=0, failed_runs=0)
        db.session.add(row)
        ok = not error and (report is None or report.failures == 0)
        row.description = description or row.description or ""
        row.trigger = trigger or row.trigger or ""
        row.last_started_at, row.last_finished_at, row.last_ok = started, utcnow(), ok
        row.last_error = error[:4000]
        row.last_summary = report.summary() if report else {}
        row.next_run_at = next_run
        row.runs = (row.runs or 0) + 1
        row.failed_runs = (row.failed_runs or 0) + (0 if ok else 1)
        db.session.commit()
    except Exception:  # noqa: BLE001  bookkeeping must not break the job
        db.session.rollback()
        log.exception("could not record the run of %s", job_id)


def _run_job(app: Flask, scheduler: BackgroundScheduler, job: Job):
    with app.app_context():
        started, report, error = utcnow(), None, ""
        try:
            report = run_due(started, parts=job.parts)
        except Exception:  # noqa: BLE001  e.g. the database is away: try again next time
            db.session.rollback()
            error = traceback.format_exc()
            log.exception("job %s failed", job.id)
        planned = scheduler.get_job(job.id)
        nxt = to_utc(planned.next_run_time) if planned and planned.next_run_time else None
        record_run(job.id, started, report, error, nxt, job.description)
        if report and (+report.steps or +report.reminders or +report.mail or report.failures):
            log.info("%s %s", job.id, report)


def start_jobs(app: Flask, interval: int, mail_interval: int) -> BackgroundScheduler:
    # One worker thread: jobs never overlap within the process.
    scheduler = BackgroundScheduler(timezone=zone(), executors={"default": ThreadPoolExecutor(1)})
    now = datetime.now(zone())
    plans = ((SWEEP, interval), (MAIL, mail_interval))
    for job, seconds in plans:
        # A run late by up to one interval still happens; a backlog of missed runs collapses into one
        # (each run does everything due anyway). The first run is immediate: it catches up.
        scheduler.add_job(_run_job, IntervalTrigger(seconds=seconds, timezone=zone()),
                          args=(app, scheduler, job), id=job.id, name=job.description, replace_existing=True,
                          next_run_time=now, misfire_grace_time=seconds, coalesce=True, max_instances=1)
    with app.app_context():
        for job, seconds in plans:
            row = db.session.get(SchedulerJob, job.id) or SchedulerJob(id=job.id, runs=0, failed_runs=0)
            row.description, row.trigger, row.next_run_at = job.description, f"every {seconds} s", to_utc(now)
            db.session.add(row)
        db.session.commit()
    scheduler.start()
    return scheduler


def serve(app: Flask, *, interval: int = 60, mail_interval: int = 15, lease_seconds: int = 30,
          stop: threading.Event | None = None) -> None:
    """Waits for the lease, runs the jobs while holding it, returns when `stop` is set."""
    stop = stop or threading.Event()
    with app.app_context():
        lease = make_lease(db.engine, lease_seconds)
    beat = max(lease_seconds / 3, 0.5)
    log.info("scheduler %s started; waiting for the lease", lease.holder)
    try:
        while not stop.is_set():
            if not _quietly(lease.acquire):
                stop.wait(beat)
                continue
            log.info("scheduler %s holds the lease: running jobs", lease.holder)
            scheduler = start_jobs(app, interval, mail_interval)
            try:
                while not stop.wait(beat):
                    if not _quietly(lease.renew):
                        log.warning("scheduler %s lost the lease: stopping its jobs", lease.holder)
                        break
            finally:
                scheduler.shutdown(wait=True)  # lets a running job finish its transaction
    finally:
        _quietly(lease.release)
        log.info("scheduler %s stopped", lease.holder)


def _quietly(fn) -> bool:
    """Lease calls must survive a database that is briefly away: that counts as 'no'."""
    try:
        return bool(fn())
    except Exception:  # noqa: BLE001
        log.warning("lease %s failed", fn.__name__, exc_info=True)
        return False
