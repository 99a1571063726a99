"""Batch printing off the request: many issued notices laid out again, from the values they were issued with,
into one PDF, as a job on the task queue (casework.tasks) whose row the page polls.

The job hands chunks of notices to a pool of worker processes (WeasyPrint is CPU-bound and holds a layout in
memory: processes give both parallelism and a memory cap) on a machine of 3 cores or more, or renders them
itself on a smaller one. Each rendered chunk is stored as a job part, so a job re-run after its worker died
renders only the chunks still missing; the parts are then merged and stored on the batch.
"""
from __future__ import annotations

import hashlib
import io
import logging
import os
import secrets
import threading
from concurrent.futures import Executor, ProcessPoolExecutor, as_completed
from multiprocessing import get_context

from flask import current_app, url_for
from sqlalchemy import select, update
from sqlalchemy.orm import undefer

from ..extensions import db
from ..tasks import Context, enqueue, task
from . import renderer
from .models import KINDS, Notice, NoticeBatch

log = logging.getLogger("casework.notices")
CHUNK = 40            # notices per worker task: one layout, one font subset, progress steps of 40
CHUNK_TIMEOUT = 600   # seconds one chunk may take before the batch is given up
MAX_NOTICES = 5000

_pool: Executor | None = None
_pool_lock = threading.Lock()
_merge_lock = threading.Lock()  # PDFium is not thread-safe


# Below this many cores a pool loses to rendering in the coordinator: on 2 cores, 100 notices took 64 s with
# 2 worker processes and 40 s serially (the workers compete with the web process and with each other).
POOL_FROM_CORES = 3
MAX_WORKERS = 8  # each worker holds a layout in memory


def cores() -> int:
    """The CPUs this process may run on: its affinity (which containers and taskset narrow), else the
    machine's count."""
    try:
        return len(os.sched_getaffinity(0))
    except (AttributeError, OSError):  # no affinity on this platform
        return os.cpu_count() or 1


def workers(available: int | None = None) -> int:
    """Worker processes for a batch, 0 meaning serial. CASEWORK_NOTICE_WORKERS decides if set; otherwise
    serial below POOL_FROM_CORES cores and one process per core from there. `available` overrides `cores()`."""
    raw = current_app.config.get("CASEWORK_NOTICE_WORKERS", os.environ.get("CASEWORK_NOTICE_WORKERS"))
    if raw not in (None, ""):
        return max(0, int(raw))
    n = cores() if available is None else available
    return 0 if n < POOL_FROM_CORES else min(MAX_WORKERS, n)


def _processes(n: int) -> Executor:
    global _pool
    with _pool_lock:
        if _pool is None:
            # spawn, not fork: the web process has threads and open database connections.
            _pool = ProcessPoolExecutor(max_workers=n, mp_context=get_context("spawn"),
                                        initializer=renderer.worker_init)
        return _pool


def start(notices: list[Notice], user, title: str) -> str:
    """The batch row and its job, committed and handed to a worker; returns the batch's token."""
    row = NoticeBatch(token=secrets.token_urlsafe(16), title=title[:200], requested_by_id=user.id,
                      notice_ids=[n.id for n in notices])
    db.session.add(row)
    db.session.flush()
    token = row.token
    # The chunk size travels with the job: a re-run must cut the same chunks as the run it continues.
    enqueue("notice_batch", {"batch": row.id, "chunk": CHUNK}, user, total=len(notices),
            before=lambda job: setattr(row, "job_id", job.id))
    return token


def render_chunk(pages: list[tuple[str, dict]]) -> bytes:
    """In a worker process: one PDF of several notices."""
    return renderer.render_many([(t, {**v, "qr": renderer.qr_svg(v["verify_url"])}) for t, v in pages])


def merge(parts: list[bytes]) -> bytes:
    import pypdfium2 as pdfium
    with _merge_lock:
        out = pdfium.PdfDocument.new()
        for part in parts:
            src = pdfium.PdfDocument(part)
            out.import_pages(src)
            src.close()
        buffer = io.BytesIO()
        out.save(buffer)
        out.close()
    return buffer.getvalue()


def _link(job) -> str | None:
    row = db.session.scalar(select(NoticeBatch).where(NoticeBatch.job_id == job.id))
    return url_for("notices.batch_pdf", token=row.token) if row is not None else None


@task("notice_batch", link=_link)
def print_batch(ctx: Context) -> str:
    row = db.session.get(NoticeBatch, ctx.args["batch"])
    ids, size = list(row.notice_ids), int(ctx.args.get("chunk") or CHUNK)
    found = {n.id: n for n in db.session.scalars(select(Notice).options(undefer(Notice.fields))
                                                 .where(Notice.id.in_(ids)))}
    pages = [(KINDS[found[i].kind].template, found[i].fields) for i in ids if i in found]
    db.session.rollback()  # no transaction open while rendering
    chunks = [pages[i:i + size] for i in range(0, len(pages), size)]
    ctx.total(len(pages))
    made = ctx.made()
    done = sum(len(c) for k, c in enumerate(chunks) if f"chunk-{k}" in made)
    todo = [k for k in range(len(chunks)) if f"chunk-{k}" not in made]
    if done:
        ctx.progress(done)
    n = workers()
    if n == 0 or len(todo) <= 1:
        for k in todo:
            ctx.save(f"chunk-{k}", render_chunk(chunks[k]))
            done += len(chunks[k])
            ctx.progress(done)
    else:
        pool = _processes(n)
        futures = {pool.submit(render_chunk, chunks[k]): k for k in todo}
        for future in as_completed(futures, timeout=CHUNK_TIMEOUT * len(todo)):
            k = futures[future]
            ctx.save(f"chunk-{k}", future.result())
            done += len(chunks[k])
            ctx.progress(done)
    parts = [ctx.load(f"chunk-{k}") for k in range(len(chunks))]
    pdf = merge(parts) if len(parts) > 1 else parts[0]
    db.session.execute(update(NoticeBatch).where(NoticeBatch.id == row.id)
                       .values(pdf=pdf, sha256=hashlib.sha256(pdf).hexdigest()))
    db.session.commit()
    return f"notice_batch:{row.id}"
