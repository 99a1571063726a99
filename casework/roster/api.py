"""POST /api/v1/roster/imports (API.md "Roster"): admins upload the roster; dry_run=true only checks."""
from __future__ import annotations

from apiflask import Schema
from apiflask.fields import Boolean, Dict, File, Integer, List, Nested, String
from flask import Response, request
from flask_babel import gettext as _

from ..api.base import make_blueprint, user as _user
from ..core.errors import BadRequest, Forbidden, Invalid, NotFound
from ..core.permissions import has_role
from ..extensions import db
from .models import RosterImport
from .operations import import_now, refusal_file, refused_rows

bp = make_blueprint("roster_api", __name__, tag="roster")
TRUE = ("1", "true", "yes", "on")


class UploadIn(Schema):
    file = File(required=True, metadata={
        "description": "the roster, .xlsx or .csv; columns by Chinese header: 姓名, 工号, 手机, 单位, 身份证号, 角色"})
    dry_run = String(metadata={"description": "true: check and report only", "example": "true"})
    create_units = String(metadata={"description": "true: create units the file names that do not exist"})
    deactivate_missing = String(metadata={"description": "true: deactivate members of the file's units that "
                                                          "the file no longer lists (never deleted)"})


class Refusal(Schema):
    row = Integer(required=True, metadata={"description": "1-based data row (the row below the header is 1)"})
    reason = String(required=True)
    employee_no = String()
    name = String()


class ReportOut(Schema):
    import_id = Integer()
    dry_run = Boolean()
    total = Integer()
    created = Integer(required=True)
    updated = Integer(required=True)
    unchanged = Integer(required=True)
    refused = List(Nested(Refusal), required=True)
    missing_units = List(Dict())
    units_created = List(String())
    deactivated = List(Dict())
    activations = Integer(metadata={"description": "new accounts waiting for activation"})
    refused_file = String(metadata={"description": "where to download the refused rows (?format=xlsx|csv)"})


def _admin():
    if not has_role(_user(), "admin"):
        raise Forbidden(_("Only administrators may import the roster."))


def _flag(name: str) -> bool:
    return str(request.form.get(name, request.args.get(name, ""))).strip().lower() in TRUE


def _out(job: RosterImport, report) -> dict:
    return _body(job, report.as_dict(), bool(report.refused))


def _body(job: RosterImport, report: dict, refused: bool) -> dict:
    """An import's report as the API answers it: without the planned changes, with a link to refused rows."""
    body = dict(report)
    body.pop("planned", None)
    body["import_id"] = job.id
    if refused:
        body["refused_file"] = f"/api/v1/roster/imports/{job.id}/refused"
    return body


@bp.post("/roster/imports")
@bp.input(UploadIn, location="form_and_files", validation=False)
@bp.output(ReportOut, status_code=201)
@bp.doc(summary="Import the member roster (or check it with dry_run=true)",
        description="Rows are matched by 工号: the same file again changes nothing. 200 for a dry run, 201 for "
                    "an import. A file that is not .xlsx/.csv gets 422, a broken one 400.",
        responses={200: {"description": "dry run report", "content": {
                             "application/json": {"schema": {"$ref": "#/components/schemas/ReportOut"}}}},
                   400: "broken file", 403: "not an administrator", 413: "too large",
                   422: "not an .xlsx or .csv roster"})
def create_import(form_and_files_data=None):
    _admin()
    upload = request.files.get("file")
    if upload is None:
        raise BadRequest(_("Send the roster as the multipart field 'file'."), code="no_file",
                         fields={"file": _("This field is required.")})
    data = upload.read()
    if not data:
        raise Invalid(_("The uploaded file is empty."), fields={"file": _("empty")})
    dry_run = _flag("dry_run")
    job, report = import_now(data, upload.filename or "", _user(), dry_run=dry_run,
                             create_units=_flag("create_units"),
                             deactivate_missing=_flag("deactivate_missing"))
    return _out(job, report), (200 if dry_run else 201)


@bp.get("/roster/imports/<int:import_id>")
@bp.output(ReportOut)
@bp.doc(summary="The report of one roster import or dry run")
def get_import(import_id: int):
    _admin()
    job = db.session.get(RosterImport, import_id)
    if job is None:
        raise NotFound(_("There is no such import."))
    return _body(job, job.report or {}, bool(job.refused_rows))


@bp.get("/roster/imports/<int:import_id>/refused")
@bp.doc(summary="The refused rows with a reason column, to fix and upload again (?format=xlsx|csv)",
        description="Cells a spreadsheet would run as formulas are prefixed with ' (OWASP CSV injection).",
        responses={200: {"description": "the refused rows as a spreadsheet (default) or CSV",
                         "content": {t: {"schema": {"type": "string", "format": "binary"}} for t in (
                             "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                             "text/csv")}},
                   404: "no such import, or it refused no rows"})
def get_refused(import_id: int):
    _admin()
    job = db.session.get(RosterImport, import_id)
    body = refused_rows(job) if job is not None else None
    if body is None:
        raise NotFound(_("This import has no refused rows."))
    fmt = "csv" if request.args.get("format") == "csv" else "xlsx"
    blob, mimetype = refusal_file(body, fmt)
    return Response(blob, mimetype=mimetype, headers={
        "Content-Disposition": f"attachment; filename=roster-{job.id}-refused.{fmt}"})
