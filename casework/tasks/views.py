"""The progress of a job, polled by the page that started it (every kind of job, one endpoint)."""
from __future__ import annotations

from flask import Blueprint, Response, abort, jsonify, render_template
from flask_login import current_user, login_required

from ..extensions import db
from . import status
from .models import Job

bp = Blueprint("tasks", __name__)


def own_job(job_id: int | None) -> Job:
    """The caller's own job, else 404 (someone else's job is not there for them)."""
    job = db.session.get(Job, job_id) if job_id else None
    if job is None or not current_user.is_authenticated or job.created_by_id != current_user.id:
        abort(404)
    return job


@bp.route("/jobs/<int:job_id>.json")
@login_required
def job_status(job_id: int):
    return jsonify(status(own_job(job_id)))


@bp.route("/jobs/<int:job_id>")
@login_required
def job_page(job_id: int):
    """The page of a job that has no page of its own (an export): its progress, then its file."""
    job = own_job(job_id)
    return render_template("jobs/job.html", job=job, st=status(job))


@bp.route("/jobs/<int:job_id>/file")
@login_required
def job_file(job_id: int):
    """What a finished export job wrote, from the store, to the person who started it."""
    from ..exports.writer import CSV_TYPE, XLSX_TYPE, disposition
    from ..storage import store
    job = own_job(job_id)
    if job.state != "done" or not (job.result or "").startswith("exports/"):
        abort(404)
    data = store().get(job.result)
    if data is None:
        abort(404)
    fmt = job.result.rsplit(".", 1)[-1]
    resp = Response(data, mimetype=CSV_TYPE if fmt == "csv" else XLSX_TYPE)
    resp.headers["Content-Disposition"] = disposition(f"{job.args.get('name') or 'export'}.{fmt}")
    resp.headers["Cache-Control"] = "private, no-store"
    return resp
