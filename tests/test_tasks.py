"""The task queue on the embedded default (no Redis): jobs run in the process's worker thread, report their
progress on the page and the API, are retried after a failure, and make each part once when re-run."""
from __future__ import annotations

import subprocess
import sys
from datetime import timedelta

import pytest
from sqlalchemy import select

from casework import tasks
from casework.clock import utcnow
from casework.config import ConfigError, from_env
from casework.extensions import db as _db
from casework.notices import batch
from casework.scheduler.sweep import TASKS
from casework.tasks.models import Job, JobPart

from .conftest import Browser
from .factories import aid_to


def drain():
    """Waits until the worker thread has run everything handed to it (it runs one job at a time, in order)."""
    _db.session.rollback()  # hold no SQLite read lock while the worker writes
    tasks.drain(300)
    _db.session.expire_all()


def _job(kind: str, user, **fields) -> Job:
    job = Job(kind=kind, args=fields.pop("args", {}), created_by_id=user.id, **fields)
    _db.session.add(job)
    _db.session.commit()
    return job


def _dead_pid() -> int:
    proc = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True,
                          text=True, check=True)
    return int(proc.stdout)


def test_a_notice_batch_runs_on_the_queue_and_reaches_100_percent(demo, web, api, app, monkeypatch):
    monkeypatch.setitem(app.config, "CASEWORK_NOTICE_WORKERS", 0)
    monkeypatch.setattr(batch, "CHUNK", 1)
    cases = [aid_to(demo, "posting") for _ in range(2)]
    web.login("staff1")
    r = web.post("/notices/batches", {"kind": "aid_approval", "cases": "\n".join(c.number for c in cases)})
    assert r.status_code == 302
    drain()
    job = _db.session.scalar(select(Job).order_by(Job.id.desc()))
    assert (job.kind, job.state, job.done, job.total, job.attempts) == ("notice_batch", "done", 2, 2, 1)
    assert job.args["chunk"] == 1 and job.result.startswith("notice_batch:")
    parts = _db.session.scalars(select(JobPart).where(JobPart.job_id == job.id).order_by(JobPart.part)).all()
    assert [p.part for p in parts] == ["chunk-0", "chunk-1"] and all(p.data is None for p in parts)
    status = web.get(f"/jobs/{job.id}.json").get_json()
    assert status["status"] == "done" and status["percent"] == 100 and status["url"].endswith(".pdf")
    assert web.get(status["url"]).status_code == 200
    page = web.get(r.headers["Location"]).get_data(as_text=True)
    assert "PDF" in page and 'http-equiv="refresh"' not in page
    # The API gives the same record to its owner, and nothing to anyone else.
    mine = api.as_("staff1").get(f"/api/v1/jobs/{job.id}")
    assert mine.status_code == 200 and mine.get_json() == status
    assert api.as_("committee1").get(f"/api/v1/jobs/{job.id}").status_code == 404
    other = Browser(app.test_client())
    other.login("committee1")
    assert other.get(f"/jobs/{job.id}.json").status_code == 404


def test_a_failing_job_is_retried_then_shown_failed_in_chinese(demo, web, app, monkeypatch):
    calls = []

    def flaky(ctx):
        calls.append(ctx.attempt)
        ctx.total(4)
        ctx.progress(1)
        if ctx.attempt < 2:
            raise OSError("磁盘暂时不可用")
        return "ok"

    def hopeless(ctx):
        calls.append(ctx.attempt)
        raise tasks.JobError("名册文件无法读取")

    monkeypatch.setitem(tasks.KINDS, "flaky", flaky)
    monkeypatch.setitem(tasks.KINDS, "hopeless", hopeless)
    first = tasks.enqueue("flaky", {}, demo["staff1"])
    drain()
    job = _db.session.get(Job, first)
    assert calls == [1, 2] and (job.state, job.attempts, job.done, job.total, job.result) == ("done", 2, 4, 4, "ok")
    assert job.error == ""  # the failed attempt's reason is gone once a retry succeeded
    calls.clear()
    second = tasks.enqueue("hopeless", {}, demo["staff1"])
    drain()
    job = _db.session.get(Job, second)
    # A JobError says retrying will not help: failed at once, with its reason.
    assert calls == [1] and (job.state, job.attempts) == ("failed", 1) and job.finished_at
    web.login("staff1")
    status = web.get(f"/jobs/{job.id}.json").get_json()
    assert status == {"id": job.id, "kind": "hopeless", "status": "failed", "done": 0, "total": 0, "percent": 0,
                      "attempts": 1, "error": "名册文件无法读取", "url": None}
    # Any other failure: one attempt and the retries that CASEWORK_JOB_RETRY_SECONDS allows, then failed.
    calls.clear()
    monkeypatch.setitem(tasks.KINDS, "broken", lambda ctx: calls.append(ctx.attempt) or 1 / 0)
    third = tasks.enqueue("broken", {}, demo["staff1"])
    drain()
    job = _db.session.get(Job, third)
    assert calls == [1, 2, 3, 4] and (job.state, job.attempts, job.error) == ("failed", 4, "division by zero")


def test_the_batch_page_says_why_it_failed_in_chinese(demo, web, app, monkeypatch):
    monkeypatch.setitem(app.config, "CASEWORK_NOTICE_WORKERS", 0)

    def broken(pages):
        raise tasks.JobError("版面过大，无法排版")

    monkeypatch.setattr(batch, "render_chunk", broken)
    case = aid_to(demo, "posting")
    web.login("staff1")
    r = web.post("/notices/batches", {"kind": "aid_approval", "cases": case.number})
    drain()
    page = web.get(r.headers["Location"]).get_data(as_text=True)
    assert "任务未能完成" in page and "版面过大，无法排版" in page
    assert "重新开始" in page  # and a way to start it again


def test_a_job_re_run_after_its_process_died_makes_each_part_once(demo, app, monkeypatch):
    made = []

    def parts(ctx):
        ctx.total(3)
        have = ctx.made()
        for k in range(3):
            if f"p{k}" not in have:
                made.append((ctx.attempt, k))
                ctx.save(f"p{k}", b"x" * (k + 1))
            ctx.progress(k + 1)
        return ",".join(ctx.load(f"p{k}").decode() for k in range(3))

    monkeypatch.setitem(tasks.KINDS, "parts", parts)
    # A first attempt stored part 0 and then its process (on this host) was killed.
    job = _job("parts", demo["staff1"], state="running", attempts=1, total=3, done=1,
               holder=f"{tasks.socket.gethostname()}:{_dead_pid()}", heartbeat_at=utcnow())
    _db.session.add(JobPart(job_id=job.id, part="p0", attempt=1, size=1, data=b"x"))
    alive = _job("parts", demo["staff1"], state="running", attempts=1, holder=tasks.holder(), heartbeat_at=utcnow())
    _db.session.commit()
    assert tasks.requeue_abandoned() == 1  # the dead one only: this process still runs the other
    drain()
    job = _db.session.get(Job, job.id)
    assert made == [(2, 1), (2, 2)] and (job.state, job.done, job.attempts, job.result) == ("done", 3, 2, "x,xx,xxx")
    rows = _db.session.execute(select(JobPart.part, JobPart.attempt).where(JobPart.job_id == job.id)
                               .order_by(JobPart.part)).all()
    assert rows == [("p0", 1), ("p1", 2), ("p2", 2)]
    # Handed out twice (a retry racing a re-queue), it runs once: the claim is conditional.
    job_id = job.id
    _db.session.rollback()  # (reading job.id after this would open a write transaction on SQLite)
    assert tasks.perform(job_id, app) is None and made == [(2, 1), (2, 2)]
    assert _db.session.get(Job, alive.id).state == "running"


def test_the_sweep_hands_out_again_a_job_whose_heartbeat_stopped(demo, app, web, monkeypatch, clock):
    monkeypatch.setitem(tasks.KINDS, "quick", lambda ctx: "fine")
    job = _job("quick", demo["staff1"], state="running", attempts=1, holder="elsewhere:1", heartbeat_at=utcnow())
    assert tasks.requeue_abandoned() == 0  # another machine's worker, beating: left alone
    web.login("staff1")
    clock.shift(timedelta(minutes=11))
    assert web.get(f"/jobs/{job.id}.json").get_json()["status"] == "interrupted"
    assert TASKS["requeue_jobs"](utcnow()) == 1
    drain()
    job = _db.session.get(Job, job.id)
    assert (job.state, job.attempts, job.result) == ("done", 2, "fine")


def test_retry_waits_are_a_setting(tmp_path):
    assert from_env(str(tmp_path), {})["CASEWORK_JOB_RETRY_SECONDS"] == [10, 60, 300]
    assert from_env(str(tmp_path), {"CASEWORK_JOB_RETRY_SECONDS": "5, 30"})["CASEWORK_JOB_RETRY_SECONDS"] == [5, 30]
    for bad in ("soon", "10,-1", ",".join(["1"] * 11)):
        with pytest.raises(ConfigError, match="CASEWORK_JOB_RETRY_SECONDS"):
            from_env(str(tmp_path), {"CASEWORK_JOB_RETRY_SECONDS": bad})


def test_the_worker_command_needs_redis(app):
    r = app.test_cli_runner().invoke(args=["casework", "worker", "--burst"])
    assert r.exit_code != 0 and "CASEWORK_REDIS_URL" in r.output


def test_a_case_list_above_the_size_is_exported_by_a_job(demo, web, monkeypatch):
    import csv
    import io

    from casework.exports import views as exports
    for _ in range(3):
        aid_to(demo, "submitted")
    web.login("staff1")
    small = web.get("/export/cases.csv")
    assert small.status_code == 200  # below the size: straight from the request
    monkeypatch.setattr(exports, "QUEUE_ABOVE", 2)
    monkeypatch.setattr(exports, "CHUNK", 2)
    r = web.get("/export/cases.csv?kind=aid")
    assert r.status_code == 302 and "/jobs/" in r.headers["Location"]
    drain()
    job = _db.session.scalar(select(Job).order_by(Job.id.desc()))
    assert (job.kind, job.state, job.done, job.total) == ("export_cases", "done", 3, 3)
    page = web.get(r.headers["Location"]).get_data(as_text=True)
    assert "下载" in page
    status = web.get(f"/jobs/{job.id}.json").get_json()
    assert status["percent"] == 100 and status["url"] == f"/jobs/{job.id}/file"
    got = web.get(status["url"])
    assert got.status_code == 200 and "filename*=UTF-8''" in got.headers["Content-Disposition"]
    assert got.data == small.data  # the same file the request would have streamed
    rows = list(csv.reader(io.StringIO(got.data.decode("utf-8-sig"))))
    assert rows[0][0] == "编号" and len(rows) == 4
    other = Browser(web.client.application.test_client())
    other.login("committee1")
    assert other.get(status["url"]).status_code == 404
