"""Admin pages for the roster: upload → dry-run report → confirm → progress → final report, the refused rows
as a file, the activation lists per unit; and the public page where a member activates their account.

Progress: the confirmed import runs as a job on the task queue (casework.tasks: a worker, or the web
process's worker thread without Redis) and commits a progress row every 500 members; the page polls it. Chosen over a streamed page because a gunicorn sync worker that
streams one long response stops heartbeating and is killed after its timeout (30 s), and a streamed import
would stop when the admin closes the tab. A worker that dies mid-import leaves the written chunks; the job
is handed out again and the re-run finishes it (rows are matched by employee number, so each member is
written once).
"""
from __future__ import annotations

from datetime import timedelta

from flask import (Blueprint, Response, abort, current_app, flash, jsonify, redirect, render_template,
                   request, url_for)
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required
from flask_wtf.file import FileField
from sqlalchemy import select, update
from wtforms import BooleanField, PasswordField, StringField

from .. import tasks
from ..accounts.models import Unit, User
from ..accounts import auth
from ..accounts.forms import new_password
from ..admin.access import admin_required
from ..clock import utcnow
from ..config import public_url
from ..core.errors import CaseworkError
from ..core.permissions import has_role
from ..extensions import db, limited
from ..forms import REQUIRED, BaseForm
from ..core.inputs import Reader, record_id
from . import crypto
from .models import RosterImport, UserIdentity
from ..labels import ROSTER_FIELD_LABELS
from .operations import (activate, import_roster, pending_codes, refusal_file, refused_rows,
                         reissue, run_saved, save_upload)

bp = Blueprint("roster", __name__)
admin_bp = Blueprint("roster_admin", __name__, url_prefix="/admin/roster")
STALLED_AFTER = timedelta(minutes=2)


class UploadForm(BaseForm):
    file = FileField(_l("Roster file (.xlsx or .csv)"), render_kw=REQUIRED,
                     description=_l("Columns: 姓名, 工号, 手机, 单位, 身份证号, 角色. Nothing is written before you "
                                    "confirm the report."))
    create_units = BooleanField(_l("Create missing units"))
    deactivate_missing = BooleanField(
        _l("Deactivate members missing from the file"),
        description=_l("Only members of the units the file covers; accounts are deactivated, never deleted, "
                       "and keep their cases."))


def read_upload(data: dict) -> dict:
    r = Reader(data)
    values = {"file": r.upload("file"), "create_units": bool(data.get("create_units")),
              "deactivate_missing": bool(data.get("deactivate_missing"))}
    r.done()
    return values


class ActivateForm(BaseForm):
    login = StringField(_l("Employee number or mobile phone"), render_kw=REQUIRED)
    code = StringField(_l("Activation code"),
                       render_kw={**REQUIRED, "autocomplete": "one-time-code", "autocapitalize": "characters"})
    password = PasswordField(_l("New password"), render_kw=REQUIRED)
    repeat = PasswordField(_l("Repeat new password"), render_kw=REQUIRED)


def read_activation(data: dict) -> dict:
    r = Reader(data)
    values = {"login": r.text("login", max_len=60), "code": r.text("code", max_len=40),
              "password": new_password(r)}
    r.done()
    return values


# -- upload, dry run, confirm ------------------------------------------------------------------------------

@admin_bp.route("")
@admin_required
def upload():
    return _upload_page(UploadForm())


@admin_bp.route("/uploads", methods=["POST"])
@admin_required
def check_upload():
    """The dry run: nothing is written but the (encrypted) file and its report."""
    form = UploadForm()
    if form.is_submitted() and (values := form.read(read_upload)) is not None:
        data = values["file"].read()
        try:
            if not data:
                raise CaseworkError(_("The uploaded file is empty."))
            job, _report = save_upload(data, values["file"].filename or "", current_user,
                                       values["create_units"], values["deactivate_missing"])
        except CaseworkError as exc:
            db.session.rollback()
            form.file.errors = [str(exc.message)]
        else:
            return redirect(url_for("roster_admin.report", import_id=job.id))
    return _upload_page(form), 422


def _upload_page(form: UploadForm):
    jobs = db.session.scalars(select(RosterImport).order_by(RosterImport.id.desc()).limit(20)).all()
    return render_template("roster/upload.html", form=form, jobs=jobs)


def _job(import_id: int) -> RosterImport:
    return db.session.get(RosterImport, import_id) or abort(404)


def _stalled(job: RosterImport) -> bool:
    return job.status == "running" and (job.heartbeat_at or job.created_at) < utcnow() - STALLED_AFTER


@admin_bp.route("/imports/<int:import_id>")
@admin_required
def report(import_id: int):
    job = _job(import_id)
    return render_template("roster/report.html", job=job, report=job.report or {}, stalled=_stalled(job),
                           field_labels=ROSTER_FIELD_LABELS, can_confirm=job.status == "checked" and job.content is not None)


@admin_bp.route("/imports/<int:import_id>/progress")
@admin_required
def progress(import_id: int):
    job = _job(import_id)
    percent = int(100 * job.done / job.total) if job.total else (100 if job.status == "done" else 0)
    return jsonify({"status": job.status, "done": job.done, "total": job.total, "stalled": _stalled(job),
                    "percent": percent, "error": job.error})


@admin_bp.route("/imports/<int:import_id>/confirm", methods=["POST"])
@admin_required
def confirm(import_id: int):
    job = _job(import_id)
    create_units = bool(request.form.get("create_units"))
    deactivate = bool(request.form.get("deactivate_missing"))
    if job.status != "checked" or job.content is None:
        flash(_("This upload was already imported or has expired. Upload the file again."), "error")
        return redirect(url_for("roster_admin.report", import_id=job.id))
    changed = (create_units, deactivate) != (job.create_units, job.deactivate_missing)
    if request.form.get("recheck") or changed:
        # Different options, different outcome: show the new report before anything is written.
        _recheck(job, create_units, deactivate)
        flash(_("Checked again with the chosen options. Review the report, then import."), "info")
        return redirect(url_for("roster_admin.report", import_id=job.id))
    busy = db.session.scalar(select(RosterImport.id).where(
        RosterImport.status == "running", RosterImport.heartbeat_at > utcnow() - STALLED_AFTER))
    if busy:
        flash(_("Another roster import is running. Wait until it has finished."), "error")
        return redirect(url_for("roster_admin.report", import_id=busy))
    # A conditional UPDATE: a double click or a second admin starts the import once.
    job_id, actor_id = job.id, current_user.id
    claimed = db.session.execute(update(RosterImport).where(RosterImport.id == job_id,
                                                            RosterImport.status == "checked")
                                 .values(status="running", heartbeat_at=utcnow(), done=0),
                                 execution_options={"synchronize_session": False}).rowcount
    db.session.commit()
    if claimed:
        start(current_app._get_current_object(), job_id, actor_id)
    return redirect(url_for("roster_admin.report", import_id=job_id))


def _recheck(job: RosterImport, create_units: bool, deactivate: bool):
    data = crypto.decrypt_bytes(job.content)
    if data is None:
        abort(410)
    scratch = RosterImport(filename=job.filename)
    rep = import_roster(data, job.filename, current_user, dry_run=True, create_units=create_units,
                        deactivate_missing=deactivate, job=scratch)
    job = db.session.get(RosterImport, job.id)
    rep.import_id = job.id
    job.create_units, job.deactivate_missing = create_units, deactivate
    job.report, job.total, job.refused_rows = rep.as_dict(), rep.total, scratch.refused_rows
    db.session.commit()


def start(app, import_id: int, actor_id: int):
    with app.app_context():
        tasks.enqueue("roster_import", {"import": import_id, "actor": actor_id}, db.session.get(User, actor_id))


@tasks.task("roster_import")
def _import_job(ctx: tasks.Context) -> str:
    run_saved(ctx.args["import"], ctx.args.get("actor"))
    row = db.session.get(RosterImport, ctx.args["import"])
    if row.status == "failed":
        raise tasks.JobError(row.error)  # run_saved said why on the import's page; retrying will not help
    return f"roster_import:{row.id}"


def wait(import_id: int, timeout: float = 120) -> None:
    """Tests (and a careful shutdown) wait for a started import: the in-process worker runs jobs in order."""
    tasks.drain(timeout)


@admin_bp.route("/imports/<int:import_id>/refused.<fmt>")
@admin_required
def refused_file(import_id: int, fmt: str):
    if fmt not in ("xlsx", "csv"):
        abort(404)
    job = _job(import_id)
    body = refused_rows(job)
    if body is None:
        abort(404)
    blob, mimetype = refusal_file(body, fmt)
    return Response(blob, mimetype=mimetype, headers={
        "Content-Disposition": f"attachment; filename=roster-{job.id}-refused.{fmt}"})


# -- activation lists --------------------------------------------------------------------------------------

@admin_bp.route("/activation")
@admin_required
def activation_units():
    pending = pending_codes()
    counts: dict[int, int] = {}
    for act, _code in pending:
        counts[act.user.unit_id] = counts.get(act.user.unit_id, 0) + 1
    units = db.session.scalars(select(Unit).order_by(Unit.path)).all()
    return render_template("roster/activation_units.html", units=units, counts=counts, total=len(pending),
                           import_id=request.args.get("import", type=record_id))


@admin_bp.route("/activation/<int:unit_id>")
@admin_required
def activation_list(unit_id: int):
    """The list for one unit (and below): one slip per member, to cut and hand out. HTML to print from the
    browser, or ?format=pdf through the notices' one renderer. The template gets plain values only."""
    from ..clock import local
    unit = db.session.get(Unit, unit_id) or abort(404)
    import_id = request.args.get("import", type=record_id)
    groups: dict[int, list] = {}
    for act, code in pending_codes(unit, import_id):
        groups.setdefault(act.user.unit_id, []).append({
            "name": act.user.name, "employee_no": act.user.employee_no or "", "username": act.user.username,
            "phone": _mask_phone(act.user.phone), "code": code,
            "expires": local(act.expires_at).strftime("%Y-%m-%d %H:%M")})
    sections = sorted((db.session.get(Unit, uid).full_name().replace(" / ", "/"), rows)
                      for uid, rows in groups.items())
    pdf = request.args.get("format") == "pdf"
    values = {"unit_name": unit.full_name().replace(" / ", "/"), "sections": sections, "pdf": pdf,
              "activate_url": public_url(url_for("roster.activate_page")),
              "printed_at": local(utcnow()).strftime("%Y-%m-%d %H:%M"),
              "pdf_url": url_for("roster_admin.activation_list", unit_id=unit.id, format="pdf",
                                **({"import": import_id} if import_id else {}))}
    markup = render_template("roster/activation_list.html", **values)
    if pdf:
        try:
            from ..notices.renderer import html_to_pdf
        except ImportError:  # no PDF renderer installed: the page prints from the browser
            return redirect(url_for("roster_admin.activation_list", unit_id=unit.id,
                                    **({"import": import_id} if import_id else {})))
        return Response(html_to_pdf(markup), mimetype="application/pdf",
                        headers={"Content-Disposition": f"inline; filename=activation-{unit.code}.pdf"})
    return markup


def _mask_phone(phone: str | None) -> str:
    return f"{phone[:3]}****{phone[-4:]}" if phone and len(phone) == 11 else (phone or "")


@admin_bp.route("/activation/reissue", methods=["POST"])
@admin_required
def reissue_code():
    """A new code for one member who lost theirs or let it expire; the old one stops working."""
    from ..accounts.models import find_login
    user = find_login(request.form.get("login", ""))
    if user is None or not user.active:
        flash(_("No active member with this employee number, phone or user name."), "error")
        return redirect(url_for("roster_admin.activation_units"))
    if user.password_hash:
        flash(_("%(name)s has already set a password.", name=user.name), "error")
        return redirect(url_for("roster_admin.activation_units"))
    reissue(user)
    db.session.commit()
    flash(_("A new activation code for %(name)s is on the unit's list; the old one no longer works.",
            name=user.name), "success")
    return redirect(url_for("roster_admin.activation_units"))


# -- the member's side ------------------------------------------------------------------------------

@bp.route("/activate")
def activate_page():
    return render_template("roster/activate.html", form=ActivateForm())


@bp.route("/activate/code", methods=["POST"])
@limited("sign-in")
def activate_account():
    form = ActivateForm()
    if form.is_submitted() and (values := form.read(read_activation)) is not None:
        from ..accounts.models import find_login
        target = find_login(values["login"])
        # Codes are guessed like passwords: the same throttle per account and address, and one answer
        # whether the number is unknown, the code wrong or the address must wait.
        account, address = auth.account_key(target, values["login"], "activate"), auth.client_address()
        user = activate(values["login"], values["code"], values["password"]) \
            if auth.reserve(account, address) else None
        if user is None:
            db.session.rollback()
            form.form_errors.append(_("The code does not fit this employee number or phone, was used already, or "
                                      "has expired; after several failed tries, wait a few minutes before the "
                                      "next. Ask your union staff for a new code."))
        else:
            auth.succeeded(account, address)
            from ..privacy.access import note_account
            note_account(None, user, "password set with a one-time code")
            db.session.commit()
            flash(_("Your account is active. Sign in with your new password."), "success")
            return redirect(url_for("accounts.login"))
    return render_template("roster/activate.html", form=form), 422


@bp.route("/roster/identity/<int:user_id>")
@login_required
def identity(user_id: int):
    """A member's resident ID number: in full only to the member and to admins."""
    user = db.session.get(User, user_id) or abort(404)
    if user.id != current_user.id and not has_role(current_user, "admin"):
        abort(404)
    row = db.session.get(UserIdentity, user.id)
    full = crypto.decrypt(row.id_number_encrypted) if row else None
    return render_template("roster/identity.html", person=user, row=row, full=full)
