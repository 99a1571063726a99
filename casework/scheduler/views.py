"""Admin page: who runs the scheduler, its jobs' last and next runs, failures, the e-mail outbox."""
from __future__ import annotations

from flask import Blueprint, abort, current_app, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from sqlalchemy import delete, func, select

from ..admin.access import admin_required
from ..clock import utcnow
from ..extensions import db
from ..notifications.mail import retry
from ..notifications.models import MailOutbox
from .lease import NAME
from .models import SchedulerFailure, SchedulerJob, SchedulerLease

bp = Blueprint("scheduler", __name__, url_prefix="/admin/scheduler")


@bp.route("")
@admin_required
def index():
    lease = db.session.get(SchedulerLease, NAME)
    counts = dict(db.session.execute(select(MailOutbox.status, func.count())
                                     .group_by(MailOutbox.status)).all())
    waiting = db.session.scalars(select(MailOutbox).where(MailOutbox.status != "sent")
                                 .order_by(MailOutbox.id.desc()).limit(100)).all()
    sent = db.session.scalars(select(MailOutbox).where(MailOutbox.status == "sent")
                              .order_by(MailOutbox.id.desc()).limit(20)).all()
    stale = lease is None or lease.holder is None or lease.renewed_at is None or \
        (utcnow() - lease.renewed_at).total_seconds() > 120
    return render_template(
        "scheduler/admin.html", lease=lease, stale=stale, counts=counts, waiting=waiting, sent=sent,
        jobs=db.session.scalars(select(SchedulerJob).order_by(SchedulerJob.id)).all(),
        failures=db.session.scalars(select(SchedulerFailure).order_by(SchedulerFailure.last_at.desc())
                                    .limit(100)).all(),
        smtp=current_app.config.get("CASEWORK_SMTP_HOST") and
        f"{current_app.config['CASEWORK_SMTP_HOST']}:{current_app.config['CASEWORK_SMTP_PORT']}")


@bp.route("/outbox/<int:row_id>/retry", methods=["POST"])
@admin_required
def outbox_retry(row_id: int):
    row = db.session.get(MailOutbox, row_id) or abort(404)
    if row.status == "sent":
        flash(_("This e-mail was sent already."), "error")
    else:
        retry(row)
        db.session.commit()
        flash(_("The e-mail will be sent at the scheduler's next run."), "success")
    return redirect(url_for("scheduler.index"))


@bp.route("/outbox/retry-failed", methods=["POST"])
@admin_required
def outbox_retry_failed():
    rows = db.session.scalars(select(MailOutbox).where(MailOutbox.status == "failed")).all()
    for row in rows:
        retry(row)
    db.session.commit()
    flash(_("%(n)s e-mails will be sent again at the scheduler's next run.", n=len(rows)), "success")
    return redirect(url_for("scheduler.index"))


@bp.route("/failures/clear", methods=["POST"])
@admin_required
def failures_clear():
    db.session.execute(delete(SchedulerFailure))
    db.session.commit()
    flash(_("Failures cleared."), "success")
    return redirect(url_for("scheduler.index"))
