"""The task queue: long work (notice batches, big exports, roster imports, annual reports) off the request.

`enqueue(kind, args, user)` inserts a `jobs` row and hands its id to RQ on CASEWORK_REDIS_URL, where
`flask --app wsgi casework worker` runs it; on the embedded default (no Redis) the same `perform` runs in
one worker thread of this process. Either way `perform` claims the row with a conditional UPDATE, so a job
handed out twice (a retry racing a re-queue) runs once at a time, and the job function stores what it makes
as `job_parts` keyed (job_id, part): a job re-run after its worker died skips the parts already made.

A failure is retried with backoff (CASEWORK_JOB_RETRY_SECONDS; RQ's Retry on Redis) and, after the last
attempt, shown on the page in Chinese. A worker that was killed leaves its job "running": the next worker
starting on that host re-queues it (the holder's pid is gone), and the scheduler's sweep re-queues any job
whose heartbeat is older than STALE.
"""
from __future__ import annotations

import logging
import os
import socket
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Callable

from flask import Flask, current_app
from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError

from ..clock import utcnow
from ..extensions import db, shared_redis
from .models import Job, JobPart

log = logging.getLogger("casework.tasks")
QUEUE = "casework"
RETRY_SECONDS = (10, 60, 300)  # backoff between the attempts; CASEWORK_JOB_RETRY_SECONDS overrides
STALE = timedelta(minutes=10)   # a heartbeat older than this: its process has ended
JOB_TIMEOUT = 3600              # seconds RQ lets one attempt run

# kind -> the function that does the work; each capability registers its own with @task.
KINDS: dict[str, Callable[["Context"], str | None]] = {}
# kind -> (job) -> the address of what a finished job made, for the page and the API.
LINKS: dict[str, Callable[[Job], str | None]] = {}
_here = ThreadPoolExecutor(max_workers=1, thread_name_prefix="casework-job")


def task(kind: str, link: Callable[[Job], str | None] | None = None):
    """Registers a job function; `link` gives the address of its result once it is done."""
    def register(fn):
        KINDS[kind] = fn
        if link is not None:
            LINKS[kind] = link
        return fn
    return register


def holder() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


def retry_seconds(app: Flask | None = None) -> list[int]:
    app = app or current_app
    return list(app.config.get("CASEWORK_JOB_RETRY_SECONDS") or RETRY_SECONDS)


# -- starting a job ------------------------------------------------------------------------------------------

def enqueue(kind: str, args: dict, user, *, total: int = 0, before: Callable[[Job], None] | None = None) -> int:
    """Inserts the job row, commits (with whatever the caller added, `before` seeing the flushed job), and
    hands it to a worker. Returns the job's id."""
    if kind not in KINDS:
        raise KeyError(f"no job kind {kind!r}")
    job = Job(kind=kind, args=args, state="queued", total=total, done=0, attempts=0, error="", holder="",
              created_by_id=user.id, heartbeat_at=utcnow())
    db.session.add(job)
    db.session.flush()
    if before is not None:
        before(job)
    db.session.commit()
    job_id = job.id
    dispatch(job_id)
    return job_id


def dispatch(job_id: int, app: Flask | None = None):
    """Hands a queued job to RQ, or to this process's worker thread when there is no Redis."""
    app = app or current_app._get_current_object()
    with app.app_context():
        conn = shared_redis()
    if conn is None:
        return _here.submit(_run_here, app, job_id)
    from rq import Queue, Retry
    Queue(QUEUE, connection=conn).enqueue(
        "casework.tasks.perform", job_id, retry=Retry(max=len(retry_seconds(app)), interval=retry_seconds(app)),
        job_timeout=JOB_TIMEOUT, result_ttl=3600, failure_ttl=7 * 86400, description=f"job {job_id}")
    return None


def drain(timeout: float = 120) -> None:
    """Waits until this process's worker thread has run what it was handed (it runs jobs in order)."""
    _here.submit(lambda: None).result(timeout=timeout)


def _run_here(app: Flask, job_id: int):
    """The in-process worker: RQ's retries with backoff, done by hand."""
    waits = retry_seconds(app)
    for attempt in range(len(waits) + 1):
        try:
            perform(job_id, app)
            return
        except Exception:  # noqa: BLE001  perform recorded it; raised only when another attempt is due
            if attempt < len(waits):
                time.sleep(waits[attempt])


# -- running a job -------------------------------------------------------------------------------------------

@dataclass
class Context:
    """What a job function gets: its row's id, args and attempt, and the way to store parts and progress."""
    job_id: int
    kind: str
    args: dict
    attempt: int
    user_id: int  # who started it: the job sees what they may see

    def total(self, n: int):
        self._update(total=n)

    def progress(self, done: int):
        """Also the heartbeat: call it at least every few minutes."""
        self._update(done=done)

    def made(self) -> set[str]:
        """The parts already stored (by this attempt or an earlier one)."""
        return set(db.session.scalars(select(JobPart.part).where(JobPart.job_id == self.job_id)))

    def save(self, part: str, data: bytes):
        """Stores one effect once; a second run that made it too keeps the first."""
        try:
            with db.session.begin_nested():
                db.session.add(JobPart(job_id=self.job_id, part=part, attempt=self.attempt, size=len(data),
                                       data=data))
        except IntegrityError:
            log.info("job %s: part %s was already stored", self.job_id, part)
        db.session.commit()

    def load(self, part: str) -> bytes:
        return db.session.scalar(select(JobPart.data).where(JobPart.job_id == self.job_id,
                                                            JobPart.part == part))

    def _update(self, **values):
        db.session.execute(update(Job).where(Job.id == self.job_id).values(heartbeat_at=utcnow(), **values))
        db.session.commit()


def perform(job_id: int, app: Flask | None = None):
    """Runs one attempt of a job (the function RQ calls). Raises only when another attempt should follow."""
    app = app or current_app._get_current_object()
    with app.app_context():
        try:
            return _perform(job_id)
        finally:
            db.session.remove()


def _perform(job_id: int):
    claimed = db.session.execute(
        update(Job).where(Job.id == job_id, Job.state == "queued")
        .values(state="running", holder=holder(), attempts=Job.attempts + 1, heartbeat_at=utcnow(),
                started_at=func.coalesce(Job.started_at, utcnow())))
    db.session.commit()
    if claimed.rowcount != 1:
        return None  # done, failed, or running elsewhere
    job = db.session.get(Job, job_id)
    ctx = Context(job.id, job.kind, dict(job.args or {}), job.attempts, job.created_by_id)
    db.session.rollback()
    try:
        result = KINDS[ctx.kind](ctx)
    except Exception as exc:  # noqa: BLE001  the page must say what happened, never hang
        db.session.rollback()
        log.exception("job %s (%s) attempt %s failed", job_id, ctx.kind, ctx.attempt)
        last = isinstance(exc, JobError) or ctx.attempt > len(retry_seconds())
        db.session.execute(update(Job).where(Job.id == job_id, Job.state == "running").values(
            state="failed" if last else "queued", error=describe(exc), heartbeat_at=utcnow(),
            finished_at=utcnow() if last else None, holder=""))
        db.session.commit()
        if not last:
            raise
        return None
    db.session.execute(update(Job).where(Job.id == job_id).values(
        state="done", done=Job.total, result=result, error="", heartbeat_at=utcnow(), finished_at=utcnow(),
        holder=""))
    # The parts' keys stay as the record of what was made once; their bytes are in the result now.
    db.session.execute(update(JobPart).where(JobPart.job_id == job_id).values(data=None))
    db.session.commit()
    return result


def describe(exc: BaseException) -> str:
    """The reason shown on the page: a JobError's Chinese message, else what the exception says."""
    text = str(getattr(exc, "message", exc)).strip()
    return (text or type(exc).__name__)[:2000]


class JobError(Exception):
    """A job cannot be done and retrying will not help; `message` is for the page (through gettext)."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


# -- jobs whose worker died ----------------------------------------------------------------------------------

def _dead_here(who: str) -> bool:
    host, _, pid = who.rpartition(":")
    if host != socket.gethostname() or not pid.isdigit() or int(pid) == os.getpid():
        return False
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return True
    except PermissionError:
        return False
    return False


def requeue_abandoned(at: datetime | None = None) -> int:
    """Hands out again the jobs whose process ended mid-way: running on this host under a pid that is gone,
    or queued/running with a heartbeat older than STALE. Safe to repeat: the claim in `perform` is
    conditional."""
    at = at or utcnow()
    rows = db.session.execute(select(Job.id, Job.state, Job.holder, Job.heartbeat_at, Job.created_at).where(
        Job.state.in_(("queued", "running")))).all()
    db.session.rollback()
    again = []
    for job_id, state, who, beat, created in rows:
        stale = at - (beat or created) > STALE
        if not (stale or (state == "running" and _dead_here(who))):
            continue
        moved = db.session.execute(update(Job).where(Job.id == job_id, Job.state == state, Job.holder == who)
                                   .values(state="queued", holder="", heartbeat_at=at))
        db.session.commit()
        if moved.rowcount == 1:
            log.warning("job %s was abandoned by %s; handing it out again", job_id, who or "its worker")
            again.append(job_id)
    for job_id in again:
        dispatch(job_id)
    return len(again)


def interrupted(job: Job) -> bool:
    """A job nobody is working on any more (its heartbeat stopped), until the sweep hands it out again."""
    beat = job.heartbeat_at or job.started_at or job.created_at
    return job.state in ("queued", "running") and utcnow() - beat > STALE


def status(job: Job) -> dict:
    """The one progress record every page and the API show: the same keys for every kind of job."""
    state = "interrupted" if interrupted(job) else job.state
    link = LINKS.get(job.kind)
    return {"id": job.id, "kind": job.kind, "status": state, "done": job.done, "total": job.total,
            "percent": 100 if job.state == "done" else (job.done * 100 // job.total if job.total else 0),
            "attempts": job.attempts, "error": job.error or None,
            "url": link(job) if link and job.state == "done" else None}


def register(app: Flask):
    from ..cli import casework_cli
    from ..scheduler.sweep import due_task
    from . import api, views  # noqa: F401  (the API blueprint joins BLUEPRINTS)
    app.register_blueprint(views.bp)
    if "worker" not in casework_cli.commands:
        from .cli import worker_command
        casework_cli.add_command(worker_command)
    due_task("requeue_jobs")(requeue_abandoned)


__all__ = ["Context", "Job", "JobError", "JobPart", "enqueue", "perform", "task"]
