"""The task queue on Redis with real `casework worker` processes: a notice batch whose worker is SIGKILLed
mid-job is handed to another worker, which renders only what is missing; every notice is in the PDF once and
the progress reaches 100%. Runs on SQLite and, through scripts/with-postgres.sh, on PostgreSQL."""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from sqlalchemy import func, select

from casework.extensions import db as _db
from casework.notices import batch
from casework.notices.models import Notice, NoticeBatch
from casework.tasks.models import Job, JobPart

from .factories import aid_to
from .test_notices import pages_of, text_of

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture()
def queue(app, redis_url, monkeypatch, tmp_path):
    """The app enqueues on a clean redis-server; `start(app_module, *args)` runs a worker process."""
    import redis
    shared = redis.Redis.from_url(redis_url)
    shared.flushdb()
    monkeypatch.setitem(app.config, "CASEWORK_REDIS_URL", redis_url)
    monkeypatch.delitem(app.extensions, "casework_redis", raising=False)
    env = {**os.environ, "CASEWORK_DATABASE_URL": app.config["SQLALCHEMY_DATABASE_URI"],
           "CASEWORK_REDIS_URL": redis_url, "CASEWORK_INSTANCE": str(tmp_path / "instance"),
           "CASEWORK_SECRET_KEY": app.config["SECRET_KEY"], "CASEWORK_UPLOAD_DIR": app.config["CASEWORK_UPLOAD_DIR"],
           "CASEWORK_NOTICE_WORKERS": "0", "CASEWORK_JOB_RETRY_SECONDS": "0,0,0"}
    procs = []

    def start(module: str, *args: str) -> subprocess.Popen:
        log = (tmp_path / f"worker-{len(procs)}.log").open("w+")
        # Its own session: at the end the test stops the worker and the scheduler process RQ forks for it.
        proc = subprocess.Popen([sys.executable, "-m", "flask", "--app", module, "casework", "worker", *args],
                                cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, text=True,
                                start_new_session=True)
        proc.log = log
        procs.append(proc)
        return proc

    yield start
    for proc in procs:
        try:
            os.killpg(proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        proc.wait(timeout=60)
        proc.log.close()
    monkeypatch.delitem(app.extensions, "casework_redis", raising=False)
    shared.flushdb()


def _output(proc: subprocess.Popen) -> str:
    proc.log.seek(0)
    return proc.log.read()


def _row(job_id: int) -> Job:
    """A fresh read of the job, detached: no transaction (no SQLite lock) is left open while workers write."""
    _db.session.rollback()
    job = _db.session.get(Job, job_id)
    _db.session.expunge(job)
    _db.session.rollback()
    return job


def _wait_for(job_id: int, proc: subprocess.Popen, ready, seconds: float = 600) -> Job:
    """Waits until the job's row shows `ready` (the worker writes it at each stored chunk)."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        job = _row(job_id)
        if ready(job):
            return job
        if proc.poll() is not None:
            raise AssertionError(f"the worker exited ({proc.returncode}):\n{_output(proc)}")
        time.sleep(0.2)
    raise AssertionError(f"job {job_id} never got there: {job.state} {job.done}/{job.total}")


def test_a_batch_whose_worker_was_killed_mid_job_is_finished_by_another_once(demo, web, app, queue,
                                                                             monkeypatch):
    monkeypatch.setattr(batch, "CHUNK", 1)  # one notice a chunk: the job stops between notices
    cases = [aid_to(demo, "posting") for _ in range(3)]
    issued = [_db.session.scalar(select(Notice).where(Notice.case_id == c.id, Notice.kind == "aid_approval"))
              for c in cases]
    # How often a notice's own PDF prints its 文号: the batch must print each exactly as often.
    numbers = {n.number: text_of(n.pdf).count(n.number) for n in issued}
    notices_before = _db.session.scalar(select(func.count()).select_from(Notice))
    web.login("staff1")
    r = web.post("/notices/batches", {"kind": "aid_approval", "cases": "\n".join(c.number for c in cases)})
    assert r.status_code == 302
    token = r.headers["Location"].rsplit("/", 1)[1]
    job_id = _db.session.scalar(select(NoticeBatch.job_id).where(NoticeBatch.token == token))
    assert _row(job_id).state == "queued"  # on Redis, nothing runs in the web process

    first = queue("tests.queue_worker_app", "--name", "first")
    job = _wait_for(job_id, first, lambda j: j.done >= 1)
    first.send_signal(signal.SIGKILL)
    first.wait(timeout=60)
    job = _row(job_id)
    assert (job.state, job.done, job.total, job.attempts) == ("running", 1, 3, 1)
    assert job.holder.endswith(f":{first.pid}")
    assert web.get(f"/jobs/{job_id}.json").get_json()["percent"] == 33

    second = queue("wsgi", "--burst", "--name", "second")
    second.wait(timeout=600)
    out = _output(second)
    assert second.returncode == 0, out
    assert "re-queued 1 job" in out
    job = _row(job_id)
    assert (job.state, job.done, job.total, job.attempts, job.error) == ("done", 3, 3, 2, ""), out
    status = web.get(f"/jobs/{job_id}.json").get_json()
    assert status["status"] == "done" and status["percent"] == 100
    # Each chunk was made once: the first by the killed worker, the rest by the second.
    parts = _db.session.execute(select(JobPart.part, JobPart.attempt).where(JobPart.job_id == job_id)
                                .order_by(JobPart.part)).all()
    assert parts == [("chunk-0", 1), ("chunk-1", 2), ("chunk-2", 2)]
    pdf = web.get(status["url"])
    assert pdf.status_code == 200 and pages_of(pdf.data) == 3
    text = text_of(pdf.data)
    assert {n: text.count(n) for n in numbers} == numbers and all(numbers.values())
    assert _db.session.scalar(select(func.count()).select_from(Notice)) == notices_before  # none issued again
