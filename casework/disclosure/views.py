"""The public board (公开栏, no account needed) and the staff pages behind it."""
from __future__ import annotations

import re
import unicodedata
from contextlib import nullcontext

from flask import Blueprint, Response, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from sqlalchemy import select
from sqlalchemy.orm import joinedload, selectinload

from ..accounts.models import Unit
from ..config import public_url
from ..core import tenancy
from ..core.errors import CaseworkError
from ..core.permissions import grants, roles_at
from ..extensions import db, limited
from ..core.inputs import Reader, record_id
from ..forms import commit_and_return, committed
from . import human, operations
from ..core.models import Vote
from .models import Disclosure, DisclosureItem, Objection

bp = Blueprint("board", __name__)


@bp.app_template_filter("tracking")
def _tracking_filter(code: str) -> str:
    return operations.grouped(code)


def _user():
    return current_user if current_user.is_authenticated else None


def _asked_union() -> Unit | None:
    """The union whose public board is asked for (?unit=): any one, as the public may see it. Without it a
    signed-in person sees their own union's board (their scope), and nobody signed in sees every union's."""
    unit_id = request.args.get("unit", type=record_id)
    if not unit_id:
        return None
    with tenancy.unscoped("board"):
        return db.session.get(Unit, unit_id)


def _within(stmt, union: Unit | None):
    if union is None:
        return stmt
    return stmt.where(Disclosure.unit_id.in_(select(Unit.id).where(Unit.path.startswith(union.path))))


@bp.route("/board")
def index():
    union = _asked_union()
    year = request.args.get("year", type=int)
    with tenancy.unscoped("board") if union is not None else nullcontext():
        current = db.session.scalars(_within(select(Disclosure).options(joinedload(Disclosure.unit))
                                             .where(Disclosure.status == "posted"), union)
                                     .order_by(Disclosure.ends_on, Disclosure.id)).all()
        past_q = _within(select(Disclosure).options(joinedload(Disclosure.unit))
                         .where(Disclosure.status == "ended"), union)
        past = [d for d in db.session.scalars(past_q.order_by(Disclosure.starts_at.desc()).limit(500))
                if not year or d.starts_at.year == year]
        units = db.session.scalars(select(Unit).order_by(Unit.path)).all()
        return render_template("board/index.html", current=current, past=past, units=units, year=year,
                               unit_id=union.id if union is not None else None)


def _board_scope():
    """Reading a union's board asked for by ?unit=: beyond the person's own union, as the public reads it."""
    return tenancy.unscoped("board") if request.args.get("unit", type=record_id) else nullcontext()


def _public(disclosure_id: int) -> Disclosure:
    """A posting of the person's union; with ?unit=, of that union's board (call within `_board_scope`)."""
    union = _asked_union()
    d = db.session.get(Disclosure, disclosure_id)
    if d is not None and union is not None and not d.unit.path.startswith(union.path):
        d = None
    if d is None or d.status not in ("posted", "ended", "superseded"):
        abort(404)
    return d


def _show(d: Disclosure, form=None, status: int = 200):
    """The posting with its objection form; after a refusal the form keeps what was typed."""
    token, question = human.new()
    return render_template("board/show.html", d=d, versions=operations.versions(d), question=question,
                           challenge=token, form=form or {}, open_period=d.status == "posted",
                           pdf_url=url_for("notices.board_pdf", disclosure_id=d.id)), status


@bp.route("/board/<int:disclosure_id>")
def show(disclosure_id: int):
    with _board_scope():
        return _show(_public(disclosure_id))


@bp.route("/board/<int:disclosure_id>/objections", methods=["POST"])
@limited("public-post")
def object_to(disclosure_id: int):
    with _board_scope():
        return _object_to(_public(disclosure_id))


def _object_to(d: Disclosure):
    item = db.session.get(DisclosureItem, request.form.get("item", type=record_id) or 0)
    if item is None or item.disclosure_id != d.id:
        flash(_("Choose the item you object to."), "error")
        return _show(d, request.form, 422)
    if not human.passed(request.form.get("challenge"), request.form.get("human")):
        flash(_("The answer to the question was wrong; please try again."), "error")
        return _show(d, request.form, 422)
    try:
        row = operations.object_to(item, request.form.get("text", ""), request.form.get("anonymous") == "1",
                                   _user(), request.form.get("contact", ""))
        db.session.commit()
    except CaseworkError as exc:
        db.session.rollback()
        flash(str(exc.message), "error")
        return _show(d, request.form, 422)
    return render_template("board/received.html", row=row)


@bp.route("/board/report", methods=["GET", "POST"])
@limited("public-post", methods=["POST"])
def report():
    units = db.session.scalars(select(Unit).order_by(Unit.path)).all()
    status = 200
    if request.method == "POST":
        status = 422
        unit = db.session.get(Unit, request.form.get("unit", type=record_id) or 0)
        disclosure = db.session.get(Disclosure, request.form.get("disclosure", type=record_id) or 0)
        if unit is None:
            flash(_("Choose the unit concerned."), "error")
        elif not human.passed(request.form.get("challenge"), request.form.get("human")):
            flash(_("The answer to the question was wrong; please try again."), "error")
        else:
            try:
                row = operations.report(unit, request.form.get("text", ""), request.form.get("anonymous") == "1",
                                        _user(), disclosure, request.form.get("contact", ""))
                db.session.commit()
            except CaseworkError as exc:
                db.session.rollback()
                flash(str(exc.message), "error")
            else:
                return render_template("board/received.html", row=row)
    token, question = human.new()
    return render_template("board/report.html", units=units, question=question, challenge=token,
                           form=request.form), status


# What people type between the groups of a code read aloud or copied from a slip: spaces, dashes, dots.
_CODE_SEPARATORS = re.compile(r"[\s\-\u2010-\u2015\u2212\u30fc\u00b7.]+")


def _tracking_candidates(raw: str) -> list[str]:
    """The code as typed, then without separators (full-width letters and digits made plain by NFKC)."""
    typed = raw.strip()
    plain = _CODE_SEPARATORS.sub("", unicodedata.normalize("NFKC", typed))
    return [c for c in dict.fromkeys((typed, plain)) if c]


@bp.route("/board/track")
@limited("lookup")
def track():
    code = request.args.get("code", "")
    row, missing = None, False
    for candidate in _tracking_candidates(code):
        try:
            row = operations.find_tracking(candidate)
            break
        except CaseworkError:
            continue
    missing = bool(code.strip()) and row is None
    return render_template("board/track.html", row=row, code=code, missing=missing)


@bp.route("/board/receipt", methods=["POST"])
@limited("lookup")
def receipt():
    """The receipt as a text file. POSTed, so the code stays out of addresses and server logs."""
    try:
        row = operations.find_tracking(request.form.get("code", ""))
    except CaseworkError as exc:
        return render_template("board/track.html", row=None, code="", missing=True,
                               message=str(exc.message)), 404
    text = operations.receipt_text(row, public_url(url_for("board.track")))  # never the request's Host
    return Response(text.encode("utf-8"), mimetype="text/plain; charset=utf-8", headers={
        "Content-Disposition": f"attachment; filename=receipt-{row.tracking_code[:4]}.txt",
        "Cache-Control": "no-store"})


# -- staff -------------------------------------------------------------------------------------

def _staff_units():
    return [g.unit_path for g in grants(current_user) if g.role in ("union_staff", "committee", "admin")]


@bp.route("/disclosures")
@login_required
def manage():
    paths = _staff_units()
    if not paths:
        abort(403)
    rows = [d for d in db.session.scalars(select(Disclosure).options(joinedload(Disclosure.unit),
                                                                     selectinload(Disclosure.items))
                                          .order_by(Disclosure.id.desc()).limit(200))
            if any(d.unit.path.startswith(p) for p in paths)]
    open_rows = db.session.execute(select(Objection, Unit.path).join(Unit, Unit.id == Objection.unit_id)
                                   .options(joinedload(Objection.item))
                                   .where(Objection.status == "open").order_by(Objection.due_on)).all()
    reports = [o for o, path in open_rows if any(path.startswith(p) for p in paths)]
    voted = set(db.session.scalars(select(Vote.subject_id).where(
        Vote.subject_kind == "board", Vote.user_id == current_user.id)))
    staff_units = [db.session.get(Unit, g.unit_id) for g in grants(current_user) if g.role == "union_staff"]
    previews = operations.previews([d for d in rows if d.status == "awaiting_signoff"])
    return render_template("board/manage.html", rows=rows, reports=reports, voted=voted, staff_units=staff_units,
                           can_sign=lambda d: operations.can_sign(current_user, d),
                           preview=lambda d: previews.get(d.id, []))


@bp.route("/disclosures/batch", methods=["POST"])
@login_required
def make_batch():
    unit = db.session.get(Unit, request.form.get("unit", type=record_id) or 0)
    kind = request.form.get("kind", "aid")
    if unit is None or kind not in ("aid", "proposal") or "union_staff" not in roles_at(current_user, unit):
        abort(403)
    d = operations.make_batch(unit, kind)
    db.session.commit()
    flash(_("Batch prepared for sign-off.") if d else _("Nothing is waiting to be posted."), "success" if d else "info")
    return redirect(url_for("board.manage"))


@bp.route("/disclosures/<int:disclosure_id>/signoff", methods=["POST"])
@login_required
def sign_off(disclosure_id: int):
    d = db.session.get(Disclosure, disclosure_id) or abort(404)
    done, tally = committed(lambda: operations.sign_off(d, current_user, request.form.get("comment", "")))
    if done:
        votes, quorum = tally
        flash(_("Posted on the board.") if d.status == "posted" else
              _("Your sign-off is recorded: %(votes)s of %(quorum)s needed.", votes=votes, quorum=quorum), "success")
    return redirect(url_for("board.manage"))


@bp.route("/disclosures/<int:disclosure_id>/audit")
@login_required
def audit(disclosure_id: int):
    from ..core.models import entries_of, verify_chain
    d = db.session.get(Disclosure, disclosure_id) or abort(404)
    if not operations.may_read_audit(current_user, d):
        abort(404)
    return render_template("audit_trail.html", title=_("Audit trail of posting %(id)s: %(title)s", id=d.id,
                                                        title=d.title),
                           entries=db.session.scalars(entries_of(d)).all(), intact=verify_chain(d)[0],
                           back=url_for("board.manage"))


@bp.route("/disclosures/reports/<int:row_id>/acknowledge", methods=["POST"])
@login_required
def acknowledge(row_id: int):
    row = db.session.get(Objection, row_id) or abort(404)
    return commit_and_return(lambda: operations.acknowledge(row, current_user),
                             _("Acknowledged: the reporter sees it when following the code."), url_for("board.manage"))


@bp.route("/disclosures/reports/<int:row_id>/answer", methods=["POST"])
@login_required
def answer_report(row_id: int):
    row = db.session.get(Objection, row_id) or abort(404)
    read = Reader(request.form.to_dict())
    reward = read.money("reward", required=False)
    if read.errors:
        flash(read.errors["reward"], "error")
        return redirect(url_for("board.manage"))
    return commit_and_return(lambda: operations.answer_report(row, current_user, request.form.get("answer", ""),
                                                              request.form.get("substantiated") == "1", reward),
                             _("Answer sent."), url_for("board.manage"))
