"""Pages: the reads log of a case ("accessed by", for staff and the applicant) and the whole log for
administrators, with filters and a CSV/XLSX export; a person's own data (我的数据) and correction requests."""
from __future__ import annotations

from datetime import date, datetime, time, timedelta

import json

from flask import Blueprint, Response, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required
from sqlalchemy import select

from ..accounts.models import User
from ..admin.access import admin_required
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
    return f"{label}：{cleared(rest)}" if rest else label


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
    from ..core.permissions import sees_reviewer_notes
    rows = entries_for(case)
    ok, _bad = verify_access_chain(f"case:{case.id}")
    # A reviewer-only attachment's name (a visit photo) is not the applicant's to read here either.
    names = sees_reviewer_notes(current_user, case)
    return {"rows": [_row(e, names) for e in rows[-20:]][::-1], "count": len(rows), "intact": ok}


def _row(e: AccessEntry, names: bool = True) -> dict:
    what = e.what if names else e.what.partition(":")[0]
    return {"at": e.at, "who": e.user.name if e.user else _("anonymous"), "username": e.actor_label,
            "what": what_label(what), "allowed": e.allowed, "address": e.address, "hash": e.hash}


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


# -- 我的数据 ------------------------------------------------------------------------------------

def _pdf(person: User) -> bytes:
    from ..notices import renderer
    from . import mydata
    data = mydata.collect(person)
    return renderer.render("my_data.html", {"data": data, "title": "个人信息副本", "org": person.unit.name,
                                            "labels": _print_labels()})


def _print_labels() -> dict:
    """The codes of the copy as the printed copy names them, in Chinese (the JSON keeps the codes)."""
    from .. import labels as L
    tables = {"kind": L.KIND_LABELS, "state": L.STATE_LABELS, "field": L.FIELD_LABELS, "step": L.TRIGGER_LABELS,
              "choice": L.CHOICE_LABELS, "role": L.ROLE_LABELS, "party": L.PARTY_ROLE_LABELS}
    out = {name: {code: L.in_chinese(table, code) for code in table} for name, table in tables.items()}
    out["field"]["amount_approved"] = L.in_chinese({"a": _l("Approved amount (yuan)")}, "a")
    return out


def _json(person: User) -> Response:
    from . import mydata
    body = json.dumps(mydata.collect(person), ensure_ascii=False, indent=2)
    return Response(body, mimetype="application/json; charset=utf-8", headers={
        "Content-Disposition": f"attachment; filename=\"my-data.json\"; filename*=UTF-8''%E6%88%91%E7%9A%84%E6%95%B0%E6%8D%AE.json",
        "Cache-Control": "private, no-store"})


def _pdf_response(person: User) -> Response:
    return Response(_pdf(person), mimetype="application/pdf", headers={
        "Content-Disposition": "attachment; filename=\"my-data.pdf\"; filename*=UTF-8''%E6%88%91%E7%9A%84%E6%95%B0%E6%8D%AE.pdf",
        "Cache-Control": "private, no-store"})


@bp.route("/account/data", methods=["GET", "POST"])
@login_required
def my_data():
    from ..core.errors import CaseworkError
    from . import corrections
    from .models import CorrectionRequest
    error = None
    if request.method == "POST":
        try:
            corrections.ask(current_user, request.form.get("text"))
            db.session.commit()
            flash(_("Your request is recorded. Union staff will answer it; you will be notified."), "success")
            return redirect(url_for("privacy.my_data"), 303)
        except CaseworkError as exc:
            db.session.rollback()
            error = exc.message
    rows = db.session.scalars(select(CorrectionRequest).where(CorrectionRequest.user_id == current_user.id)
                              .order_by(CorrectionRequest.id.desc())).all()
    from . import mydata
    summary = mydata.collect(current_user)
    return render_template("privacy/my_data.html", rows=rows, error=error, text=request.form.get("text", ""),
                           summary=summary), 422 if error else 200


@bp.route("/account/data.json")
@login_required
def my_data_json():
    return _json(current_user)


@bp.route("/account/data.pdf")
@login_required
def my_data_pdf():
    return _pdf_response(current_user)


def answers_corrections() -> bool:
    from ..core.permissions import grants
    return current_user.is_authenticated and any(gr.role in ("union_staff", "admin") for gr in grants(current_user))


def _staff_required():
    if not answers_corrections():
        abort(403)


@bp.route("/privacy/corrections", methods=["GET", "POST"])
@login_required
def corrections_page():
    """Union staff: open requests of the people of their units, answering them, and recording one made on
    paper."""
    from ..core.errors import CaseworkError
    from . import corrections
    from .models import CorrectionRequest
    _staff_required()
    error = None
    if request.method == "POST":
        try:
            if request.form.get("answer_id"):
                row = db.session.get(CorrectionRequest, int(request.form["answer_id"])) \
                    if request.form["answer_id"].isdigit() else None
                if row is None:
                    abort(404)
                corrections.answer(row, current_user, request.form.get("answer"))
                message = _("The answer is recorded and the person is notified.")
            else:
                person = _person(request.form.get("person", ""))
                corrections.ask(person, request.form.get("text"), recorded_by=current_user)
                message = _("The request made on paper is recorded.")
            db.session.commit()
            flash(message, "success")
            return redirect(url_for("privacy.corrections_page"), 303)
        except CaseworkError as exc:
            db.session.rollback()
            error = exc.message
    rows = [r for r in db.session.scalars(select(CorrectionRequest).order_by(
        CorrectionRequest.status, CorrectionRequest.id.desc()).limit(200)) if corrections.may_answer(current_user, r.user)]
    return render_template("privacy/corrections.html", rows=rows, error=error), 422 if error else 200


def _person(ref: str) -> User:
    from ..core.errors import Invalid
    ref = (ref or "").strip()
    person = db.session.scalar(select(User).where((User.username == ref) | (User.employee_no == ref))) if ref else None
    if person is None:
        raise Invalid(_("No person with this user name or employee number."), fields={"person": _("unknown")})
    return person


@bp.route("/privacy/people/<int:user_id>/data.<fmt>")
@login_required
def person_data(user_id: int, fmt: str):
    """Staff answer a request for a copy made on paper: the same copy, and the read is logged."""
    from . import access, corrections
    person = db.session.get(User, user_id)
    if person is None or fmt not in ("pdf", "json"):
        abort(404)
    if not corrections.may_answer(current_user, person):
        abort(403)
    access.note_export(current_user, f"personal data of {person.username}")
    return _pdf_response(person) if fmt == "pdf" else _json(person)


def consent_notice(unit=None) -> dict:
    """The current consent text as the aid form shows it, at the applicant's unit."""
    from . import consent
    unit = unit or (current_user.unit if current_user.is_authenticated else None)
    return {"version": consent.CURRENT, "text": consent.text_for(consent.CURRENT, unit)}


def cleared(value) -> str:
    """A value cleared at anonymisation (core/redaction.py) shown as such, not as its digest."""
    from ..core.redaction import shown
    return shown(value, _("(deleted when the request was anonymised)")) if isinstance(value, str) else value


def case_retention(case) -> dict | None:
    """The retention panel of an aid request: when its personal information goes, and a legal hold. The
    hold's reason only to those who may place one (union staff of the unit)."""
    if case is None or getattr(case, "kind", None) != "aid" or not current_user.is_authenticated:
        return None
    from . import retention
    staff = "union_staff" in roles_at(current_user, case.unit)
    if not staff and current_user.id != case.applicant_id and case.anonymised_at is None:
        return None
    hold = None
    if case.hold_reason:
        hold = {"at": case.hold_at, "by": case.hold_by.name if case.hold_by else "",
                "reason": case.hold_reason if staff else ""}
    return {"anonymised_at": case.anonymised_at, "due_on": retention.due_on(case),
            "years": retention.years_for(case), "hold": hold}
