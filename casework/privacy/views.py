"""Pages: the reads log of a case ("accessed by", for staff and the applicant) and the whole log for
administrators, with filters and a CSV/XLSX export."""
from __future__ import annotations

from datetime import date, datetime, time, timedelta

from flask import Blueprint, abort, render_template, request
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from sqlalchemy import select

from ..accounts.models import User
from ..accounts.views import admin_required
from ..clock import local, to_utc, today
from ..core.models import Case
from ..core.permissions import roles_at
from ..extensions import db
from .models import AccessEntry, chains, verify_access_chain

bp = Blueprint("privacy", __name__)
PAGE = 100
LOG_READERS = ("union_staff", "admin")

WHAT_LABELS = {"details": _l("Details and visit findings"), "attachment": _l("Attachment"),
               "export": _l("Export")}


def what_label(what: str) -> str:
    kind, _sep, rest = what.partition(":")
    label = str(WHAT_LABELS.get(kind, kind))
    return f"{label}：{rest}" if rest else label


def may_read_log(user, case: Case) -> bool:
    if not getattr(user, "is_authenticated", False):
        return False
    if case.kind == "aid" and user.id == case.applicant_id:
        return True
    held = roles_at(user, case.unit)
    return any(r in held for r in LOG_READERS)


def entries_for(case: Case) -> list[AccessEntry]:
    return db.session.scalars(select(AccessEntry).where(AccessEntry.chain == f"case:{case.id}")
                              .order_by(AccessEntry.seq)).all()


def case_reads(case) -> dict | None:
    """The "accessed by" panel of an aid request, for those who may read its log."""
    if case is None or getattr(case, "kind", None) != "aid" or not may_read_log(current_user, case):
        return None
    rows = entries_for(case)
    ok, _bad = verify_access_chain(f"case:{case.id}")
    return {"rows": [_row(e) for e in rows[-20:]][::-1], "count": len(rows), "intact": ok}


def _row(e: AccessEntry) -> dict:
    return {"at": e.at, "who": e.user.name if e.user else _("anonymous"), "username": e.actor_label,
            "what": what_label(e.what), "allowed": e.allowed, "address": e.address, "hash": e.hash}


def _day(raw: str | None) -> date | None:
    try:
        return date.fromisoformat(raw) if raw else None
    except ValueError:
        return None


@bp.route("/admin/access-log")
@admin_required
def access_log():
    q = request.args
    stmt = select(AccessEntry)
    errors = []
    frm, to = _day(q.get("from")), _day(q.get("to"))
    if (q.get("from") and frm is None) or (q.get("to") and to is None):
        errors.append(_("Enter dates as YYYY-MM-DD."))
    if frm:
        stmt = stmt.where(AccessEntry.at >= to_utc(datetime.combine(frm, time())))
    if to:
        stmt = stmt.where(AccessEntry.at < to_utc(datetime.combine(to + timedelta(days=1), time())))
    number = (q.get("case") or "").strip()
    if number:
        case = db.session.scalar(select(Case).where(Case.number == number))
        stmt = stmt.where(AccessEntry.case_id == (case.id if case else -1))
    who = (q.get("user") or "").strip()
    if who:
        stmt = stmt.where(AccessEntry.actor_label == who)
    if q.get("refused") == "1":
        stmt = stmt.where(AccessEntry.allowed.is_(False))
    stmt = stmt.order_by(AccessEntry.at.desc(), AccessEntry.id.desc())
    fmt = q.get("format")
    if fmt in ("csv", "xlsx"):
        from ..exports.writer import respond
        headers = [_("Time"), _("Person"), _("User name"), _("Case"), _("What"), _("Allowed"),
                   _("Address"), "SHA-256"]
        rows = ((local(e.at).strftime("%Y-%m-%d %H:%M:%S"), e.user.name if e.user else "", e.actor_label,
                 e.case_id and db.session.get(Case, e.case_id).number or "", what_label(e.what),
                 _("yes") if e.allowed else _("no"), e.address, e.hash)
                for e in db.session.scalars(stmt))
        return respond(fmt, f"查阅记录-{today().isoformat()}", _("Reads log"), headers, rows)
    rows = db.session.scalars(stmt.limit(PAGE)).all()
    numbers = dict(db.session.execute(select(Case.id, Case.number).where(
        Case.id.in_({e.case_id for e in rows if e.case_id}))).all()) if rows else {}
    # Checking every chain reads the whole log: on request only.
    broken = [c for c in chains() if not verify_access_chain(c)[0]] if q.get("check") == "1" else None
    return render_template("privacy/access_log.html", rows=[{**_row(e), "case": numbers.get(e.case_id)}
                                                            for e in rows],
                           args=q, errors=errors, broken=broken, page=PAGE)
