"""API: a background job's progress (the same record the pages poll)."""
from __future__ import annotations

from apiflask import Schema
from apiflask.fields import Integer, String
from flask_babel import gettext as _

from ..api.base import make_blueprint, user as _user
from ..core.errors import NotFound
from ..extensions import db
from . import status
from .models import Job

bp = make_blueprint("tasks_api", __name__, tag="jobs")


class JobOut(Schema):
    id = Integer(required=True)
    kind = String(required=True, metadata={"example": "notice_batch"})
    status = String(required=True, metadata={"description": "queued, running, done, failed or interrupted "
                                                            "(its worker stopped; it is handed out again)"})
    done = Integer(required=True)
    total = Integer(required=True)
    percent = Integer(required=True, metadata={"example": 100})
    attempts = Integer(required=True)
    error = String(allow_none=True, metadata={"description": "why it failed, in the caller's language"})
    url = String(allow_none=True, metadata={"description": "what the finished job made"})


@bp.get("/jobs/<int:job_id>")
@bp.output(JobOut)
@bp.doc(summary="A background job started by the caller: progress, error, result",
        responses={404: "absent, or started by someone else"})
def get_job(job_id: int):
    job = db.session.get(Job, job_id)
    if job is None or job.created_by_id != _user().id:
        raise NotFound(_("No such job."))
    return status(job)
