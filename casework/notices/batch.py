"""Batch printing off the request: many issued notices laid out again, from the values they were issued with,
into one PDF, with a progress row that the page polls.

A request only inserts the row; one coordinator thread per web process takes it, hands chunks of notices to a
pool of worker processes (WeasyPrint is CPU-bound and holds a layout in memory: processes give both
parallelism and a memory cap) on a machine of 3 cores or more, or renders them itself on a smaller one,
merges the chunks and stores the result. A coordinator that dies (its worker
was recycled) stops renewing `heartbeat_at`; the page then says so and offers to start again.
"""
from __future__ import annotations

import hashlib
import io
import logging
import os
import secrets
import threading
from concurrent.futures import Executor, ProcessPoolExecutor, ThreadPoolExecutor
from datetime import timedelta
from multiprocessing import get_context

from flask import Flask, current_app
from sqlalchemy import select, update
from sqlalchemy.orm import undefer

from ..clock import utcnow
from ..extensions import db
from . import renderer
from .models import KINDS, Notice, NoticeBatch

log = logging.getLogger("casework.notices")
CHUNK = 40            # notices per worker task: one layout, one font subset, progress steps of 40
CHUNK_TIMEOUT = 600   # seconds one chunk may take before the batch is given up
STALE = timedelta(minutes=10)
MAX_NOTICES = 5000

_coordinator = ThreadPoolExecutor(max_workers=1, thread_name_prefix="notice-batch")
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


def create(notices: list[Notice], user, title: str) -> NoticeBatch:
    """The job row; the caller commits and then calls `launch`."""
    row = NoticeBatch(token=secrets.token_urlsafe(16), title=title[:200], requested_by_id=user.id,
                      notice_ids=[n.id for n in notices], total=len(notices), done=0, status="queued")
    db.session.add(row)
    return row


def launch(batch_id: int, app: Flask | None = None):
    app = app or current_app._get_current_object()
    return _coordinator.submit(_run, app, batch_id)


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


def _run(app: Flask, batch_id: int):
    with app.app_context():
        try:
            _work(batch_id)
        except Exception as exc:  # noqa: BLE001  the page must say what happened, never hang
            db.session.rollback()
            log.exception("notice batch %s failed", batch_id)
            db.session.execute(update(NoticeBatch).where(NoticeBatch.id == batch_id).values(
                status="failed", error=str(getattr(exc, "message", exc))[:2000] or type(exc).__name__,
                finished_at=utcnow()))
            db.session.commit()
        finally:
            db.session.remove()


def _progress(batch_id: int, **values):
    db.session.execute(update(NoticeBatch).where(NoticeBatch.id == batch_id).values(heartbeat_at=utcnow(),
                                                                                   **values))
    db.session.commit()


def _work(batch_id: int):
    row = db.session.get(NoticeBatch, batch_id)
    if row is None or row.status != "queued":
        return
    ids = list(row.notice_ids)
    _progress(batch_id, status="running", started_at=utcnow())
    found = {n.id: n for n in db.session.scalars(select(Notice).options(undefer(Notice.fields))
                                                 .where(Notice.id.in_(ids)))}
    pages = [(KINDS[found[i].kind].template, found[i].fields) for i in ids if i in found]
    db.session.rollback()  # no transaction open while rendering
    chunks = [pages[i:i + CHUNK] for i in range(0, len(pages), CHUNK)]
    n = workers()
    parts: list[bytes] = []
    if n == 0 or len(chunks) == 1:
        for chunk in chunks:
            parts.append(render_chunk(chunk))
            _progress(batch_id, done=min(row.total, len(parts) * CHUNK))
    else:
        pool = _processes(n)
        futures = [pool.submit(render_chunk, chunk) for chunk in chunks]
        for k, future in enumerate(futures, start=1):
            parts.append(future.result(timeout=CHUNK_TIMEOUT))
            _progress(batch_id, done=min(row.total, k * CHUNK))
    pdf = merge(parts) if len(parts) > 1 else parts[0]
    _progress(batch_id, status="done", done=row.total, pdf=pdf, sha256=hashlib.sha256(pdf).hexdigest(),
              finished_at=utcnow())


def interrupted(row: NoticeBatch) -> bool:
    """A running batch whose coordinator stopped renewing its heartbeat (its process ended)."""
    beat = row.heartbeat_at or row.started_at or row.created_at
    return row.status in ("queued", "running") and utcnow() - beat > STALE
