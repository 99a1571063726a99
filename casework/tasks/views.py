"""The progress of a job, polled by the page that started it (every kind of job, one endpoint)."""
from __future__ import annotations

from flask import Blueprint, abort, jsonify
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
