"""Correction requests: a person asks (online, or on paper through union staff), staff answer; both steps
are kept with who and when, and the person is told."""
from __future__ import annotations

from flask_babel import force_locale
from flask_babel import gettext as _

from ..accounts.models import User
from ..clock import utcnow
from ..core.errors import Conflict, Forbidden, Invalid
from ..core.permissions import roles_at
from ..extensions import db
from ..ops.logs import log_event
from .models import CorrectionRequest

ANSWERERS = ("union_staff", "admin")


def _text(value, field: str) -> str:
    if not isinstance(value, str) or not value.strip():
        raise Invalid(_("Please write what should be corrected."), fields={field: _("This field is required.")})
    if len(value) > 5000:
        raise Invalid(_("The text is too long (at most %(n)s characters).", n=5000), fields={field: _("too long")})
    return value.strip()


def may_answer(staff: User, person: User) -> bool:
    held = roles_at(staff, person.unit)
    return any(r in held for r in ANSWERERS)


def ask(person: User, text, *, recorded_by: User | None = None) -> CorrectionRequest:
    if recorded_by is not None and not may_answer(recorded_by, person):
        raise Forbidden(_("Only union staff of the person's unit record requests made on paper."))
    row = CorrectionRequest(user_id=person.id, at=utcnow(), text=_text(text, "text"),
                            channel="paper" if recorded_by is not None else "online",
                            recorded_by_id=recorded_by.id if recorded_by is not None else None)
    db.session.add(row)
    db.session.flush()
    log_event("correction_requested", id=row.id, user=person.username, channel=row.channel,
              recorded_by=recorded_by.username if recorded_by else None)
    return row


def answer(row: CorrectionRequest, staff: User, text) -> CorrectionRequest:
    if not may_answer(staff, row.user):
        raise Forbidden(_("Only union staff of the person's unit answer correction requests."))
    if row.status == "answered":
        raise Conflict(_("This request has already been answered."), code="not_possible")
    row.answer, row.status, row.answered_at, row.answered_by_id = _text(text, "answer"), "answered", utcnow(), staff.id
    from ..notifications.models import notify
    with force_locale("zh"):
        notify(row.user, _("Your request to correct your data has been answered"), row.answer)
    log_event("correction_answered", id=row.id, user=row.user.username, by=staff.username)
    return row
