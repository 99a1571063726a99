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
from ..notifications import mail
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


class _Runner:
    """Runs the jobs, one at a time, and stops them: once `halt` is set no job starts, a running sweep ends
    before its next unit of work, and `abort` cuts an SMTP conversation that hangs."""

    def __init__(self, app: Flask):
        self.app = app
        self.halt = threading.Event()
        self.idle = threading.Condition()
        self.running = 0
        self.mailer: mail.Mailer | None = None

    def run(self, scheduler: BackgroundScheduler, job: Job):
        with self.idle:
            if self.halt.is_set():
                return
            self.running += 1
        try:
            self._run(scheduler, job)
        finally:
            with self.idle:
                self.running -= 1
                self.idle.notify_all()

    def _run(self, scheduler: BackgroundScheduler, job: Job):
        with self.app.app_context():
            started, report, error = utcnow(), None, ""
            self.mailer = mail.Mailer(stop=self.halt)
            try:
                report = run_due(started, parts=job.parts, mailer=self.mailer, stop=self.halt)
            except Exception:  # noqa: BLE001  e.g. the database is away: try again next time
                db.session.rollback()
                error = traceback.format_exc()
                log.exception("job %s failed", job.id)
            finally:
                self.mailer.close()
                self.mailer = None
            planned = scheduler.get_job(job.id)
            nxt = to_utc(planned.next_run_time) if planned and planned.next_run_time else None
            record_run(job.id, started, report, error, nxt, job.description)
            if report and (+report.steps or +report.reminders or +report.mail or report.failures):
                log.info("%s %s", job.id, report)

    def wait_idle(self, seconds: float) -> bool:
        with self.idle:
            return self.idle.wait_for(lambda: self.running == 0, seconds)

    def abort(self):
        mailer = self.mailer
        if mailer is not None:
            mailer.abort()


def start_jobs(app: Flask, interval: int, mail_interval: int) -> tuple[BackgroundScheduler, _Runner]:
    # One worker thread: jobs never overlap within the process.
    scheduler = BackgroundScheduler(timezone=zone(), executors={"default": ThreadPoolExecutor(1)})
    runner = _Runner(app)
    now = datetime.now(zone())
    plans = ((SWEEP, interval), (MAIL, mail_interval))
    for job, seconds in plans:
        # A run late by up to one interval still happens; a backlog of missed runs collapses into one
        # (each run does everything due anyway). The first run is immediate: it catches up.
        scheduler.add_job(runner.run, IntervalTrigger(seconds=seconds, timezone=zone()),
                          args=(scheduler, job), id=job.id, name=job.description, replace_existing=True,
                          next_run_time=now, misfire_grace_time=seconds, coalesce=True, max_instances=1)
    with app.app_context():
        for job, seconds in plans:
            row = db.session.get(SchedulerJob, job.id) or SchedulerJob(id=job.id, runs=0, failed_runs=0)
            row.description, row.trigger, row.next_run_at = job.description, f"every {seconds} s", to_utc(now)
            db.session.add(row)
        db.session.commit()
    scheduler.start()
    return scheduler, runner


# Stopping: a message in flight gets this long to be answered before its connection is cut, then the job
# gets as long again to roll back; SIGTERM to exit stays under 5 s.
STOP_GRACE = 1.5


def stop_jobs(scheduler: BackgroundScheduler, runner: _Runner) -> bool:
    """Stops the jobs; False if one is still running after the grace (stuck on the database)."""
    runner.halt.set()
    scheduler.shutdown(wait=False)  # no new runs; the one running is ours to wait for, with a bound
    if runner.wait_idle(STOP_GRACE):
        return True
    runner.abort()
    return runner.wait_idle(STOP_GRACE)


def serve(app: Flask, *, interval: int = 60, mail_interval: int = 15, lease_seconds: int = 30,
          stop: threading.Event | None = None) -> bool:
    """Waits for the lease, runs the jobs while holding it, returns when `stop` is set.

    Returns False if a job could not be stopped in time: the caller should then exit at once (its open
    transaction dies with the process, which the keyed effects make harmless)."""
    stop = stop or threading.Event()
    with app.app_context():
        lease = make_lease(db.engine, lease_seconds)
    beat = max(lease_seconds / 3, 0.5)
    log.info("scheduler %s started; waiting for the lease", lease.holder)
    stuck = False
    try:
        while not stop.is_set() and not stuck:
            if not _quietly(lease.acquire):
                stop.wait(beat)
                continue
            log.info("scheduler %s holds the lease: running jobs", lease.holder)
            scheduler, runner = start_jobs(app, interval, mail_interval)
            try:
                while not stop.wait(beat):
                    if not _quietly(lease.renew):
                        log.warning("scheduler %s lost the lease: stopping its jobs", lease.holder)
                        break
            finally:
                if not stop_jobs(scheduler, runner):
                    log.error("scheduler %s: a job did not stop within %.0f s", lease.holder, 2 * STOP_GRACE)
                    stuck = stop.is_set()
    finally:
        if not stuck:  # a stuck job may hold the database: the lease ends with the process anyway
            _quietly(lease.release)
        log.info("scheduler %s stopped", lease.holder)
    return not stuck


def _quietly(fn) -> bool:
    """Lease calls must survive a database that is briefly away: that counts as 'no'."""
    try:
        return bool(fn())
    except Exception:  # noqa: BLE001
        log.warning("lease %s failed", fn.__name__, exc_info=True)
        return False
