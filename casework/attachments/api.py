"""Attachments in the JSON API: upload (multipart), list, download."""
from __future__ import annotations

from apiflask import Schema
from apiflask.fields import Boolean, File, Integer, List, Nested, String
from flask import current_app, request

from ..api.base import make_blueprint, user as _user
from ..core import kinds
from ..extensions import db
from . import operations as ops

bp = make_blueprint("attachments_api", __name__, tag="attachments")


class UploadIn(Schema):
    file = File(required=True, metadata={"description": "PDF, JPEG or PNG, recognised by content; "
                                                        "at most the per-file limit (default 8 MB)"})
    doc_type = String(required=True, metadata={
        "description": "the category's documents (setting aid_docs_<category>: income_proof, medical_bills, "
                       "admission_letter), `visit_photo` (reviewers only) or `other`"})


class AttachmentOut(Schema):
    id = Integer(required=True)
    case = Integer(required=True)
    doc_type = String(required=True)
    name = String(required=True, metadata={"description": "the original name, cleaned, for display"})
    content_type = String(required=True)
    size = Integer(required=True)
    sha256 = String(required=True)
    private = Boolean(required=True, metadata={"description": "visit photos: reviewers and visitors only"})
    uploaded_by = String(required=True)
    at = String(required=True)
    url = String(required=True, metadata={"description": "GET it to download"})


class AttachmentItem(AttachmentOut):
    """AttachmentOut inside the list (one schema class per place in the OpenAPI document)."""


class AttachmentList(Schema):
    items = List(Nested(AttachmentItem), required=True)


def _out(att) -> dict:
    return ops.serialize(att, f"/api/v1/attachments/{att.id}")


@bp.post("/cases/<kind>/<int:case_id>/attachments")
@bp.input(UploadIn, location="form_and_files", validation=False)
@bp.output(AttachmentOut, status_code=201)
@bp.doc(summary="Attach a document to a case (multipart: file, doc_type)",
        description="Who may: the applicant or the filer while the case is a draft or returned, union "
                    "staff of the case's unit, visitors while verifying (visit photos). The type is checked "
                    "by content.",
        responses={403: "not allowed to add documents now", 404: "no such case (or not visible)",
                   413: "too large", 422: "empty, not PDF/JPEG/PNG, or a wrong doc_type"})
def upload(kind: str, case_id: int, form_and_files_data=None):
    case = kinds.load(kind, case_id, _user())
    att = ops.save(case, request.files.get("file"), request.form.get("doc_type"), _user())
    db.session.commit()
    return _out(att)


@bp.get("/cases/<kind>/<int:case_id>/attachments")
@bp.output(AttachmentList)
@bp.doc(summary="The case's attachments the caller may see, oldest first")
def index(kind: str, case_id: int):
    case = kinds.load(kind, case_id, _user())
    return {"items": [_out(a) for a in ops.visible(_user(), case)]}


@bp.get("/attachments/<int:attachment_id>")
@bp.doc(summary="Download an attachment (always as a download, with its original name)",
        responses={200: {"description": "the file, as a download",
                         "content": {t: {"schema": {"type": "string", "format": "binary"}}
                                     for t in ("application/pdf", "image/jpeg", "image/png")}},
                   404: "no such attachment (or not visible)"})
def download(attachment_id: int):
    att, _case = ops.load(attachment_id, _user())
    return ops.send(att)


@bp.errorhandler(413)
def _request_too_large(exc):
    message = ops.too_large_message(current_app.config["MAX_CONTENT_LENGTH"])
    return {"error": {"code": "too_large", "message": message, "fields": {"file": message}}}, 413
