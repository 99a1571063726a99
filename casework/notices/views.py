"""Pages: download a notice (same bytes every time), the public check page /verify/<code>, board posting PDFs,
batch printing with progress, the quarterly fund report."""
from __future__ import annotations

import hashlib
from urllib.parse import quote

from flask import Blueprint, Response, abort, flash, jsonify, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required
from sqlalchemy import select
from flask_wtf.file import FileField
from wtforms import SelectField, StringField, TextAreaField

from ..clock import today
from ..core import tenancy
from ..core.models import Case
from ..core.permissions import can_view, grants, roles_at
from ..extensions import db, limited
from ..forms import BaseForm, opts
from ..core.inputs import Reader, record_id
from .. import tasks
from . import batch, operations, signing
from .models import KINDS, Notice, NoticeBatch

bp = Blueprint("notices", __name__)
PRINTERS = ("union_staff", "committee", "fund_manager", "admin")


def send(notice: Notice) -> Response:
    """The stored bytes, never re-rendered: the hash printed on /verify matches every download."""
    if request.if_none_match and notice.sha256 in request.if_none_match:
        return Response(status=304)
    name = f"{notice.number}.pdf"
    resp = Response(notice.pdf, mimetype="application/pdf")
    resp.headers["Content-Disposition"] = (f"inline; filename=\"notice-{notice.id}.pdf\"; "
                                           f"filename*=UTF-8''{quote(name)}")
    resp.headers["ETag"] = f'"{notice.sha256}"'
    resp.headers["X-Content-SHA256"] = notice.sha256
    resp.headers["Cache-Control"] = "public, max-age=86400" if notice.spec.public else "private, no-store"
    return resp


@bp.route("/notices/<int:notice_id>.pdf")
def download(notice_id: int):
    notice = db.session.get(Notice, notice_id)
    if notice is None:
        abort(404)
    if not notice.spec.public and not current_user.is_authenticated:
        from ..extensions import login_manager
        return login_manager.unauthorized()
    if not operations.may_see(current_user, notice):
        abort(404)  # never reveal that someone else's notice exists
    return send(notice)


@bp.route("/verify", defaults={"code": ""})
@bp.route("/verify/<code>")
@limited("lookup")
def verify(code: str):
    with tenancy.unscoped("verify"):  # the paper may come from any union
        return _verify(code or request.args.get("code", ""))


def _verify(code: str):
    form = VerifyFileForm()
    if not code:
        return render_template("notices/verify.html", notice=None, code="", asked=False, form=form)
    notice = operations.by_code(code)
    status = 200 if notice is not None else 404
    return render_template("notices/verify.html", notice=_public_facts(notice) if notice else None,
                           code=code[:40], asked=True, form=form), status


class VerifyFileForm(BaseForm):
    pdf = FileField(_l("A notice you were given as a PDF file"))


def read_pdf(data: dict):
    r = Reader(data)
    pdf = r.upload("pdf")
    r.done()
    return pdf


@bp.route("/verify/file", methods=["POST"])
def verify_file():
    """Someone holding a notice as a file checks it: is it one the union issued, unchanged and signed?"""
    with tenancy.unscoped("verify"):
        return _verify_file()


def _verify_file():
    form = VerifyFileForm()
    if (pdf := form.read(read_pdf)) is None:
        return render_template("notices/verify.html", notice=None, code="", asked=False, form=form), 422
    data = pdf.read()
    digest = hashlib.sha256(data).hexdigest()
    notice = db.session.scalar(select(Notice).where(Notice.sha256 == digest))
    sig = signing.check(data)
    if notice is None:
        return render_template("notices/verify.html", notice=None, code="", asked=False, form=form,
                               file_checked=True, file_signature=sig), 404
    return render_template("notices/verify.html", notice=_public_facts(notice, checked=sig), code="",
                           asked=True, form=form, file_checked=True)


def _public_facts(n: Notice, checked: "signing.Check | None" = None) -> dict:
    """What anyone holding the paper may learn: no names, amounts or case details."""
    from ..clock import local
    newer = n.superseded_by
    sig = checked or signing.check(n.pdf)
    return {"title": n.spec.title, "number": n.number, "date": local(n.issued_at).date(), "unit": n.unit.name,
            "sha256": n.sha256, "code": n.display_code, "size": n.size,
            "superseded_by": {"number": newer.number, "date": local(newer.issued_at).date(),
                              "title": newer.spec.title} if newer else None,
            "signature": sig,
            "public_url": url_for("notices.download", notice_id=n.id) if n.spec.public else None}


@bp.route("/notices/board/<int:disclosure_id>.pdf")
def board_pdf(disclosure_id: int):
    """The posting for the physical 公开栏, issued when the batch was signed off (or by the sweep for older
    postings); a reader's request never issues it."""
    notice = db.session.scalar(select(Notice).where(Notice.subject == f"disclosure:{disclosure_id}"))
    if notice is None:
        abort(404)
    return send(notice)


# -- batch printing --------------------------------------------------------------------------

def _may_print() -> bool:
    return current_user.is_authenticated and any(g.role in PRINTERS for g in grants(current_user))


BATCH_KINDS = [k for k, v in KINDS.items() if not v.public and not v.statistics]


class BatchForm(BaseForm):
    kind = SelectField(_l("Notices"), choices=opts((k, KINDS[k].title) for k in BATCH_KINDS),
                       validate_choice=False)
    disclosure = StringField(_l("All cases of disclosure no."), render_kw={"inputmode": "numeric"})
    cases = TextAreaField(_l("Or case numbers, one per line"))


def read_batch(data: dict) -> tuple[str, int | None, list[str]]:
    """(kind, disclosure id, case numbers) of a batch to print."""
    r = Reader(data)
    kind = r.choice("kind", BATCH_KINDS)
    disclosure = r.integer("disclosure", required=False, lo=1)
    text = r.text("cases", required=False)
    r.done()
    return kind, disclosure, [n.strip() for n in text.replace(",", "\n").splitlines() if n.strip()]


def pick_notices(user, kind: str, disclosure_id: int | None, numbers: list[str]) -> list[Notice]:
    """The current notices of this kind for the chosen cases that `user` may see, in case order."""
    stmt = select(Case)
    if disclosure_id:
        from ..disclosure.models import DisclosureItem
        stmt = stmt.where(Case.id.in_(select(DisclosureItem.case_id).where(
            DisclosureItem.disclosure_id == disclosure_id)))
    elif numbers:
        stmt = stmt.where(Case.number.in_(numbers))
    else:
        return []
    cases = [c for c in db.session.scalars(stmt.order_by(Case.id)) if can_view(user, c)]
    if not cases:
        return []
    found = db.session.scalars(select(Notice).where(
        Notice.case_id.in_([c.id for c in cases]), Notice.kind == kind, Notice.superseded_by_id.is_(None))
        .order_by(Notice.case_id, Notice.id)).all()
    return [n for n in found if operations.may_see(user, n)][:batch.MAX_NOTICES]


@bp.route("/notices/batches")
@login_required
def batches():
    return _batches()


@bp.route("/notices/batches", methods=["POST"])
@login_required
def batch_start():
    return _batches()


def _batches():
    if not _may_print():
        abort(403)
    form = BatchForm(request.form if request.method == "POST" else None,
                     disclosure=request.args.get("disclosure", type=record_id))
    if request.method == "POST" and (chosen := form.read(read_batch)) is not None:
        kind, disclosure, numbers = chosen
        notices = pick_notices(current_user, kind, disclosure, numbers[:batch.MAX_NOTICES])
        if not notices:
            form.form_errors.append(_("No issued notices of this kind were found for those cases."))
        else:
            title = KINDS[kind].title
            if disclosure:
                title += f" · #{disclosure}"
            token = batch.start(notices, current_user, title)
            return redirect(url_for("notices.batch_page", token=token))
    recent = db.session.scalars(select(NoticeBatch).where(NoticeBatch.requested_by_id == current_user.id,
                                                          NoticeBatch.job_id.is_not(None))
                                .order_by(NoticeBatch.id.desc()).limit(10)).all()
    return render_template("notices/batches.html", form=form, recent=recent, job_status=tasks.status)


def _own_batch(token: str) -> NoticeBatch:
    row = db.session.scalar(select(NoticeBatch).where(NoticeBatch.token == token))
    if row is None or row.requested_by_id != current_user.id or row.job is None:
        abort(404)
    return row


@bp.route("/notices/batches/<token>")
@login_required
def batch_page(token: str):
    row = _own_batch(token)
    return render_template("notices/batch.html", row=row, st=tasks.status(row.job))


@bp.route("/notices/batches/<token>.json")
@login_required
def batch_status(token: str):
    return jsonify(tasks.status(_own_batch(token).job))  # the one job record, as /jobs/<id>.json gives it


@bp.route("/notices/batches/<token>.pdf")
@login_required
def batch_pdf(token: str):
    row = _own_batch(token)
    if row.job.state != "done" or row.pdf is None:
        abort(404)
    resp = Response(row.pdf, mimetype="application/pdf")
    resp.headers["Content-Disposition"] = f"inline; filename=\"batch-{row.id}.pdf\""
    resp.headers["Cache-Control"] = "private, no-store"
    return resp


# -- the quarterly fund report -----------------------------------------------------------------

class FundReportForm(BaseForm):
    fund = SelectField(_l("Fund"), validate_choice=False)
    year = StringField(_l("Year"), render_kw={"inputmode": "numeric", "required": True})
    quarter = SelectField(_l("Quarter"), choices=opts((str(q), str(q)) for q in (1, 2, 3, 4)),
                          validate_choice=False)


def read_fund_report(data: dict, funds: list) -> tuple:
    """(fund, year, quarter) among the funds the person may report on."""
    r = Reader(data)
    fund = next((f for f in funds if str(f.id) == str(data.get("fund") or "")), None)
    if fund is None:
        r.fail("fund", _("No such fund."))
    year = r.integer("year", lo=2000, hi=2100)
    quarter = r.choice("quarter", ("1", "2", "3", "4"))
    r.done()
    return fund, year, int(quarter)


@bp.route("/notices/fund-report")
@login_required
def fund_report():
    return _fund_report()


@bp.route("/notices/fund-report", methods=["POST"])
@login_required
def fund_report_issue():
    return _fund_report()


def _fund_report():
    from ..funds.models import Fund
    funds = [f for f in db.session.scalars(select(Fund).order_by(Fund.id))
             if any(r in roles_at(current_user, f.unit) for r in ("fund_manager", "committee", "admin"))]
    if not funds:
        abort(403)
    now = today()
    form = FundReportForm(request.form if request.method == "POST" else None, year=now.year,
                          quarter=str((now.month - 1) // 3 + 1))
    form.fund.choices = opts((str(f.id), f.name) for f in funds)
    if request.method == "POST" and (chosen := form.read(read_fund_report, funds)) is not None:
        if notice := form.commit(lambda: operations.fund_report(*chosen, current_user)):
            flash(_("Issued %(number)s.", number=notice.number), "success")
            return redirect(url_for("notices.verify", code=notice.verify_code))
    return render_template("notices/fund_report.html", form=form)
