"""Attachments: checked by content, stored outside the web root under random names, shown only to the
people allowed to see them. The web page and the API call the same functions."""
from __future__ import annotations

import hashlib
import io
import re
import secrets
import unicodedata

from flask import current_app, send_file
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import event, select
from sqlalchemy.orm import Session

import workflows

from ..core import settings
from ..core.errors import Forbidden, Invalid, NotFound, TooLarge, Unavailable
from ..core.models import Attachment, Case
from ..core.permissions import can_view, roles_at, sees_reviewer_notes
from ..extensions import db
from ..labels import DOC_LABELS
from ..storage import StoreError, store
from ..privacy import access
from . import pdfcheck

MB = 1024 * 1024
# Per file, per unit; the whole request is capped by MAX_CONTENT_LENGTH (CASEWORK_MAX_UPLOAD_MB) as well.
settings.declare("attachment_max_mb", 8, "count", _l("Largest file one may attach, in MB."), lo=1, hi=100)

# The allow-list, recognised by the first bytes only: the name and the client's Content-Type prove nothing.
SIGNATURES = (
    (b"%PDF-", "application/pdf", (".pdf",)),
    (b"\xff\xd8\xff", "image/jpeg", (".jpg", ".jpeg")),
    (b"\x89PNG\r\n\x1a\n", "image/png", (".png",)),
)
TYPES = {content_type: exts for _magic, content_type, exts in SIGNATURES}
ACCEPT = ",".join(ext for _m, _t, exts in SIGNATURES for ext in exts)
PRIVATE_TYPES = ("visit_photo",)  # reviewers and visitors only
READERS = ("union_staff", "committee", "admin")
PENDING = "casework_new_files"


def doc_label(doc_type: str) -> str:
    return str(DOC_LABELS.get(doc_type, doc_type))


def sniff(data: bytes) -> str | None:
    """The content type the bytes prove, or None when they are not on the allow-list."""
    for magic, content_type, _exts in SIGNATURES:
        if data.startswith(magic):
            return content_type
    return None


def clean_name(raw: str | None, content_type: str) -> str:
    """A display name: no folders, control or reserved characters; the extension matches the content."""
    name = (raw or "").replace("\\", "/").rsplit("/", 1)[-1]
    name = unicodedata.normalize("NFC", name)
    # Category C: control characters, and format characters such as right-to-left overrides.
    name = "".join(ch for ch in name if unicodedata.category(ch)[0] != "C" and ch not in '<>:"|?*')
    name = re.sub(r"\.{2,}", ".", name).strip(" .")
    exts = TYPES[content_type]
    stem, dot, ext = name.rpartition(".")
    if not dot or "." + ext.lower() not in exts:
        # Never let a saved copy open as something else (a PDF named evil.html).
        stem, ext = name, exts[0][1:]
    stem = stem[:255 - len(ext) - 1] or "file"
    return f"{stem}.{ext}"


def category_docs(case: Case) -> list[str]:
    """The documents the case's category asks for (per-unit setting aid_docs_<category>)."""
    category = getattr(case, "category", None)
    if not category:
        return []
    return [d for d in settings.get(case.unit, f"aid_docs_{category}") or []
            if isinstance(d, str) and 0 < len(d) <= 40]


def missing_docs(case: Case) -> list[str]:
    have = set(db.session.scalars(select(Attachment.doc_type).where(Attachment.case_id == case.id)))
    return [d for d in category_docs(case) if d not in have]


def upload_types(user, case: Case) -> list[str]:
    """The document types `user` may attach to `case` now; empty when none."""
    if user is None or not user.is_authenticated or not can_view(user, case):
        return []
    if case.state in workflows.get(case.kind).final:
        return []
    out: list[str] = []
    if user.id in (case.applicant_id, case.created_by_id) and case.state in ("draft", "returned"):
        out += category_docs(case) + ["other"]
    if user.id not in case.raised_by():  # 回避: nobody adds reviewers' material to their own case
        if "union_staff" in roles_at(user, case.unit):
            out += category_docs(case) + ["visit_photo", "other"]
        elif case.state == "verifying" and user.id in case.party_ids("visitor"):
            out.append("visit_photo")
    return list(dict.fromkeys(out))


def payee_only(user, case: Case) -> bool:
    """The fund manager sees an aid request's amount and payee only: no documents at all."""
    if user.id in case.raised_by() or any(p.user_id == user.id for p in case.parties):
        return False
    held = roles_at(user, case.unit)
    return "fund_manager" in held and not any(r in held for r in READERS)


def may_see(user, att: Attachment, case: Case) -> bool:
    if user is None or not user.is_authenticated or not can_view(user, case) or payee_only(user, case):
        return False
    return not att.private or sees_reviewer_notes(user, case)


def visible(user, case: Case) -> list[Attachment]:
    """The case's attachments this user may see, oldest first (the caller has checked can_view)."""
    if payee_only(user, case):
        return []
    rows = db.session.scalars(select(Attachment).where(Attachment.case_id == case.id)
                              .order_by(Attachment.at, Attachment.id)).all()
    reviewer = sees_reviewer_notes(user, case)
    return [a for a in rows if reviewer or not a.private]


def load(attachment_id: int, user) -> tuple[Attachment, Case]:
    """The attachment if `user` may see it; 404 otherwise, absent or not, so nobody learns it exists."""
    att = db.session.get(Attachment, attachment_id)
    case = db.session.get(Case, att.case_id) if att is not None else None
    if case is None or not may_see(user, att, case):
        if case is not None and case.kind == "aid":
            access.note(case, user, f"attachment:{att.original_name}", allowed=False)
        raise NotFound(_("No such attachment."))
    if case.kind == "aid":
        access.note(case, user, f"attachment:{att.original_name}")
    return att, case


def file_limit(case: Case) -> int:
    """Bytes allowed per file: the unit's setting, never above the request limit."""
    per_file = int(settings.get(case.unit, "attachment_max_mb")) * MB
    request_limit = current_app.config.get("MAX_CONTENT_LENGTH")
    return min(per_file, request_limit) if request_limit else per_file


def too_large_message(limit: int) -> str:
    return _("The file is too large: at most %(mb)s MB per upload. Scan at a lower resolution or split it.",
             mb=f"{limit / MB:g}")


def save(case: Case, upload, doc_type, user) -> Attachment:
    """Checks and stores one upload, then adds its row; the caller commits. A file whose transaction
    does not commit is deleted again (see _discard below)."""
    allowed = upload_types(user, case)
    if not allowed:
        raise Forbidden(_("You cannot add documents to this case now."))
    if doc_type not in allowed:
        message = _("Choose the kind of document: %(choices)s.", choices=", ".join(allowed))
        raise Invalid(message, fields={"doc_type": message})
    if upload is None or not hasattr(upload, "stream") or not (upload.filename or "").strip():
        raise Invalid(_("Choose a file to upload."), fields={"file": _("This field is required.")})
    limit = file_limit(case)
    data = upload.stream.read(limit + 1)
    if not data:
        raise Invalid(_("The file is empty."), fields={"file": _("The file is empty.")})
    if len(data) > limit:
        raise TooLarge(too_large_message(limit), fields={"file": too_large_message(limit)})
    content_type = sniff(data)
    if content_type is None:
        message = _("Only PDF, JPEG and PNG files are accepted, and this file is none of them "
                    "(its content was checked, not its name).")
        raise Invalid(message, code="file_type", fields={"file": message})
    if content_type == "application/pdf":
        _refuse_active_pdf(data)
    stored = _write(data)
    try:
        att = Attachment(case_id=case.id, doc_type=doc_type,
                         original_name=clean_name(upload.filename, content_type), stored_name=stored,
                         content_type=content_type, size=len(data), sha256=hashlib.sha256(data).hexdigest(),
                         private=doc_type in PRIVATE_TYPES, uploaded_by_id=user.id)
        db.session.add(att)
        db.session.flush()
    except Exception:
        store().delete(stored)
        raise
    return att


ACTIVE_LABELS = {pdfcheck.JAVASCRIPT: _l("JavaScript"), pdfcheck.AUTO_ACTION: _l("actions that run by themselves"),
                 pdfcheck.LAUNCH: _l("actions that start programs or open other files"),
                 pdfcheck.EMBEDDED: _l("embedded files")}


def _refuse_active_pdf(data: bytes) -> None:
    found = pdfcheck.dangers(data)
    if found:
        sep = "、" if str(get_locale() or "").startswith("zh") else ", "
        what = sep.join(str(ACTIVE_LABELS[k]) for k in ACTIVE_LABELS if k in found)
        message = _("This PDF contains %(what)s, which are not accepted. Print it to a new PDF (or scan the "
                    "paper) and upload that.", what=what)
        raise Invalid(message, code="pdf_active_content", fields={"file": message})


def send(att: Attachment):
    """The file as a download: never inline, never sniffed into HTML by the browser."""
    key = _key(att.stored_name)
    try:
        # Files are small (the per-file limit): read at once, so no handle outlives the response.
        data = store().get(key) if key is not None else None
    except StoreError:
        current_app.logger.exception("attachment store unreachable")
        raise Unavailable(_("The file store cannot be reached just now. Try again in a few minutes."),
                          code="store_unavailable") from None
    except OSError:
        data = None
    if data is None:
        raise NotFound(_("The file of this attachment is missing from the store."), code="file_missing")
    content_type = att.content_type if att.content_type in TYPES else "application/octet-stream"
    response = send_file(io.BytesIO(data), mimetype=content_type, as_attachment=True,
                         download_name=att.original_name, max_age=0, etag=att.sha256)
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Content-Security-Policy"] = "default-src 'none'; sandbox"
    response.headers["Cache-Control"] = "private, no-store"
    return response


def serialize(att: Attachment, url: str) -> dict:
    return {"id": att.id, "case": att.case_id, "doc_type": att.doc_type, "name": att.original_name,
            "content_type": att.content_type, "size": att.size, "sha256": att.sha256, "private": att.private,
            "uploaded_by": att.uploaded_by.username, "at": att.at.isoformat() + "Z", "url": url}


def _key(stored_name: str) -> str | None:
    # Stored names are our own hex tokens; anything else never reaches the store.
    if not re.fullmatch(r"[0-9a-f]{16,64}", stored_name or ""):
        return None
    return stored_name


def _write(data: bytes) -> str:
    name = secrets.token_hex(16)
    try:
        store().put(name, data, exclusive=True)
    except StoreError:
        current_app.logger.exception("attachment store unreachable")
        raise Unavailable(_("The file store cannot be reached just now; nothing was saved. Try again in a few "
                            "minutes."), code="store_unavailable") from None
    db.session.info.setdefault(PENDING, []).append(name)
    return name


DOOMED = "casework_doomed_files"


def erase_for(case: Case) -> int:
    """Deletes a case's attachments: the rows now, the files once the transaction commits (a rollback
    keeps both)."""
    rows = db.session.scalars(select(Attachment).where(Attachment.case_id == case.id)).all()
    for att in rows:
        db.session.info.setdefault(DOOMED, []).append(att.stored_name)
        db.session.delete(att)
    return len(rows)


@event.listens_for(Session, "after_commit")
def _kept(session):
    session.info.pop(PENDING, None)
    for name in session.info.pop(DOOMED, ()):
        _forget(name)


@event.listens_for(Session, "after_transaction_end")
def _discard(session, transaction):
    # The outermost transaction ended without a commit: its files must not outlive their rows.
    if transaction.parent is None:
        session.info.pop(DOOMED, None)  # not committed: the rows stay, so do their files
        for name in session.info.pop(PENDING, ()):
            _forget(name)


def _forget(name: str) -> None:
    key = _key(name)
    if key is None:
        return
    try:
        store().delete(key)
    except StoreError:
        # The row is gone already; a file left behind is found by the next backup's listing, never served.
        current_app.logger.warning("attachment file %s could not be deleted from the store", key)
