"""Upward report API (API.md "Upward reports"): list, draft, correct, fire its steps, audit trail, exports."""
from __future__ import annotations

from apiflask import Schema
from apiflask.fields import Dict, Integer, Raw, String
from flask import request
from flask_babel import gettext as _

from ..api.base import json_body, make_blueprint, step_options, subject_audit, user
from ..api.schemas import AuditList
from ..core import engine
from ..core.errors import BadRequest, Forbidden, NotFound
from ..exports.writer import respond
from ..extensions import db
from . import operations as ops

bp = make_blueprint("upward_api", __name__, tag="upward reports")
FORMATS = ("csv", "xlsx")


class ReportIn(Schema):
    unit = Raw(required=True, metadata={"description": "the reporting union's id or code", "example": 2})
    year = Integer(required=True, metadata={"example": 2026})
    summary = String(metadata={"description": "the union's own account of its year"})


class ReportPatch(Schema):
    summary = String(required=True)
    version = Integer(metadata={"description": "the version you saw; a stale one gets 409"})


class ReportStep(Schema):
    version = Integer(metadata={"description": "the version you saw; a stale one gets 409"})
    reason = String(metadata={"description": "return_report: why it is returned (required there)"})


class ListQuery(Schema):
    box = String(metadata={"enum": ["mine", "inbox"], "description": "mine (default): the unions the caller "
                                                                      "drafts for; inbox: sent to the caller's "
                                                                      "union or below it"})
    year = Integer()


class ReportOut(Schema):
    id = Integer()
    version = Integer()
    unit = Integer()
    unit_name = String()
    upper_unit = Integer()
    upper_unit_name = String()
    year = Integer()
    state = String(metadata={"enum": ["draft", "submitted", "returned", "accepted"]})
    summary = String()
    submissions = Integer()
    submitted_at = String(allow_none=True)
    reviewed_at = String(allow_none=True)
    return_reason = String()
    figures = Dict(allow_none=True, metadata={"description": "frozen at the last submission: the annual "
                                                             "reports' values per kind (aid, proposal, motion)"})
    transitions = Raw(metadata={"description": "the steps the caller may take now"})


class ReportList(Schema):
    items = Raw()


def serialize(report, caller) -> dict:
    return {"id": report.id, "version": report.version, "unit": report.unit_id, "unit_name": report.unit.name,
            "upper_unit": report.upper_unit_id, "upper_unit_name": report.upper_unit.name, "year": report.year,
            "state": report.status, "summary": report.summary, "submissions": report.submissions or 0,
            "submitted_at": report.submitted_at.isoformat() if report.submitted_at else None,
            "reviewed_at": report.reviewed_at.isoformat() if report.reviewed_at else None,
            "return_reason": report.return_reason or "", "figures": report.figures,
            "transitions": engine.available(report, caller)}


def _year():
    raw = request.args.get("year")
    return None if raw in (None, "") else ops.read_year(raw)


@bp.get("/upward-reports")
@bp.input(ListQuery, location="query", validation=False)
@bp.output(ReportList)
@bp.doc(summary="Upward reports: the caller's unions' own, or the inbox of those sent to their union",
        responses={400: "unknown box", 422: "bad year"})
def index(query_data=None):
    box = request.args.get("box") or "mine"
    if box not in ("mine", "inbox"):
        raise BadRequest(_("Please correct the marked parameters."), fields={"box": "mine, inbox"})
    found = (ops.inbox if box == "inbox" else ops.outbox)(user(), _year())
    return {"items": [serialize(r, user()) for r in found]}


@bp.post("/upward-reports")
@bp.input(ReportIn, validation=False)
@bp.output(ReportOut, status_code=201)
@bp.doc(summary="Draft a union's upward report for a year (its own staff or committee)",
        responses={403: "not the union's staff or committee, or a union with none above it",
                   404: "no such unit", 409: "the union already has a report for the year", 422: "bad year"})
def create(json_data=None):
    report = ops.draft(user(), json_body())
    db.session.flush()
    out = serialize(report, user())
    db.session.commit()
    return out


@bp.get("/upward-reports/<int:report_id>")
@bp.output(ReportOut)
@bp.doc(summary="An upward report with its frozen figures", responses={404: "no such report for the caller"})
def show(report_id: int):
    return serialize(ops.load(report_id, user()), user())


@bp.patch("/upward-reports/<int:report_id>")
@bp.input(ReportPatch, validation=False)
@bp.output(ReportOut)
@bp.doc(summary="Correct the summary of a draft or returned report",
        responses={403: "not the union's staff or committee", 409: "stale version or not possible now"})
def correct(report_id: int, json_data=None):
    body = json_body()
    report = ops.load(report_id, user())
    version, _comment = step_options(body)
    ops.correct(report, user(), body, version)
    db.session.flush()
    out = serialize(report, user())
    db.session.commit()
    return out


@bp.post("/upward-reports/<int:report_id>/transitions/<trigger>")
@bp.input(ReportStep, validation=False)
@bp.output(ReportOut)
@bp.doc(summary="Take a step: submit (the union), accept_report or return_report (the upper union's staff)",
        responses={403: "not allowed for this user", 409: "stale version or not possible now",
                   422: "no reason given for a return"})
def fire(report_id: int, trigger: str, json_data=None):
    body = json_body()
    report = ops.load(report_id, user())
    version, comment = step_options(body)
    engine.fire(report, trigger, user(), body, version=version, comment=comment)
    out = serialize(report, user())
    db.session.commit()
    return out


@bp.get("/upward-reports/<int:report_id>/audit")
@bp.output(AuditList)
@bp.doc(summary="An upward report's audit trail with the hash chain's state")
def audit(report_id: int):
    return subject_audit(ops.load(report_id, user()))


@bp.get("/upward-reports/<int:report_id>/export.<fmt>")
@bp.doc(summary="One upward report as CSV or XLSX (README, “Upward reports”, for the columns)",
        responses={404: "no such report or format"})
def export_one(report_id: int, fmt: str):
    if fmt not in FORMATS:
        raise NotFound(_("Choose the format: csv or xlsx."), code="unknown_format")
    report = ops.load(report_id, user())
    return respond(fmt, f"上报_{report.unit.code}_{report.year}", "上报", ops.export_headers(),
                   [ops.export_row(report)])


@bp.get("/upward-reports/year/<int:year>/export.<fmt>")
@bp.doc(summary="Every upward report of a year sent to the caller's union or below it, as CSV or XLSX",
        responses={403: "not staff of an upper union", 404: "no such format", 422: "bad year"})
def export_year(year: int, fmt: str):
    if fmt not in FORMATS:
        raise NotFound(_("Choose the format: csv or xlsx."), code="unknown_format")
    year = ops.read_year(str(year))
    if not ops.reviews_any(user()):
        raise Forbidden(_("Only the staff of an upper union export the reports sent to it."))
    return respond(fmt, f"上报_{year}", f"上报{year}", ops.export_headers(),
                   [ops.export_row(r) for r in ops.year_reports(user(), year)])
