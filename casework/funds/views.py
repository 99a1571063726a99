"""Fund pages and the fund API: balances, the ledger, income records and their reversal."""
from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required
from sqlalchemy import select
from wtforms import SelectField, StringField, TextAreaField

from ..api.base import json_body, make_blueprint, user as api_user
from ..core.errors import BadRequest, CaseworkError, Forbidden, NotFound
from ..core.inputs import record_id
from ..core.models import Case
from ..extensions import db
from ..forms import BaseForm, opts
from ..labels import SOURCE_LABELS
from ..money import format_money
from . import api_schemas as s
from . import operations as ops
from .models import EFFECT, INCOME_SOURCES, Fund, LedgerEntry

KIND_LABELS = {"income": _l("Income"), "reserve": _l("Reserved"), "release": _l("Reservation released"),
               "debit": _l("Paid out (reserved)"), "payment": _l("Paid out"), "reversal": _l("Reversal")}
PURPOSE_LABELS = {"aid": _l("Aid"), "reward": _l("Rewards")}
PAGE = 50

bp = Blueprint("funds", __name__)
api = make_blueprint("funds_api", __name__, tag="funds")


class IncomeForm(BaseForm):
    # Checked by operations.record_income, the same rules as the API.
    source = SelectField(_l("Source"), choices=opts((k, SOURCE_LABELS[k]) for k in INCOME_SOURCES),
                         validate_choice=False)
    amount = StringField(_l("Amount (yuan)"), render_kw={"inputmode": "decimal", "placeholder": "0.00"})
    note = TextAreaField(_l("Note"), render_kw={"maxlength": ops.INCOME_NOTE_MAX, "rows": 2})


def register(app):
    app.register_blueprint(bp)
    app.add_template_global(lambda: current_user.is_authenticated and ops.sees_any_fund(current_user),
                            "show_funds_link")


# -- shared ----------------------------------------------------------------------------------

def fund_record(fund: Fund, user) -> dict:
    return {"id": fund.id, "code": fund.code, "name": fund.name, "purpose": fund.purpose,
            "unit": fund.unit_id, "unit_name": fund.unit.name, "balance": format_money(fund.balance),
            "reserved": format_money(fund.reserved), "free": format_money(fund.free),
            "may_record_income": ops.can_manage(user, fund)}


def ledger_records(entries) -> list[dict]:
    case_ids = {e.case_id for e in entries if e.case_id}
    cases = {row.id: row for row in db.session.execute(
        select(Case.id, Case.number, Case.kind).where(Case.id.in_(case_ids)))} if case_ids else {}
    after = ops.balances_after(entries)
    reversed_by = dict(db.session.execute(select(LedgerEntry.reverses_id, LedgerEntry.id).where(
        LedgerEntry.reverses_id.in_([e.id for e in entries if e.kind == "income"] or [0]))).all())
    out = []
    for e in entries:
        on_balance, on_reserved = EFFECT[e.kind]
        case = cases.get(e.case_id)
        out.append({"id": e.id, "kind": e.kind, "amount": format_money(e.amount),
                    "balance_change": _signed(on_balance * e.amount),
                    "reserved_change": _signed(on_reserved * e.amount),
                    "balance_after": format_money(after[e.id]), "balance_after_fen": after[e.id],
                    "case": case.number if case else None, "case_id": e.case_id,
                    "case_kind": case.kind if case else None, "source": e.source, "method": e.method,
                    "reference": e.reference, "note": e.note or "", "reverses": e.reverses_id,
                    "reversed_by": reversed_by.get(e.id), "actor": e.actor.username if e.actor else None,
                    "actor_name": e.actor.name if e.actor else None, "at": e.at.isoformat() + "Z",
                    "when": e.at})
    return out


def _signed(fen: int) -> str | None:
    return None if fen == 0 else ("-" if fen < 0 else "+") + format_money(abs(fen))


# -- pages -----------------------------------------------------------------------------------

def _page_fund(fund_id: int) -> Fund:
    fund = db.session.get(Fund, fund_id)
    if fund is None:
        abort(404)
    if not ops.can_see(current_user, fund):
        abort(403)
    return fund


@bp.route("/funds")
@login_required
def index():
    funds = ops.visible_funds(current_user)
    if not funds:
        abort(403)
    return render_template("funds/index.html", funds=funds, purposes=PURPOSE_LABELS)


@bp.route("/funds/<int:fund_id>")
@login_required
def show(fund_id: int):
    fund = _page_fund(fund_id)
    return _render(fund, IncomeForm(formdata=None) if ops.can_manage(current_user, fund) else None)


def _render(fund: Fund, form, status: int = 200):
    before = request.args.get("before", type=record_id)
    entries, next_before = ops.ledger_page(fund, before, PAGE)
    return render_template("funds/show.html", fund=fund, form=form, entries=ledger_records(entries),
                           before=before, next_before=next_before, manager=ops.can_manage(current_user, fund),
                           kinds=KIND_LABELS, sources=SOURCE_LABELS, purposes=PURPOSE_LABELS), status


@bp.route("/funds/<int:fund_id>/income", methods=["POST"])
@login_required
def income(fund_id: int):
    fund = _page_fund(fund_id)
    if not ops.can_manage(current_user, fund):
        abort(403)
    form = IncomeForm()
    try:
        entry = ops.record_income(fund, {"amount": form.amount.data, "source": form.source.data,
                                         "note": form.note.data}, current_user)
        db.session.commit()
    except CaseworkError as exc:
        db.session.rollback()
        form.absorb(exc)
        return _render(fund, form, status=exc.status)
    flash(_("Income of %(amount)s yuan recorded.", amount=format_money(entry.amount)), "success")
    return redirect(url_for("funds.show", fund_id=fund.id), 303)


@bp.route("/funds/<int:fund_id>/ledger/<int:entry_id>/reverse", methods=["POST"])
@login_required
def reverse(fund_id: int, entry_id: int):
    fund = _page_fund(fund_id)
    if not ops.can_manage(current_user, fund):
        abort(403)
    try:
        ops.reverse(fund, entry_id, request.form.get("note", ""), current_user)
        db.session.commit()
    except CaseworkError as exc:
        db.session.rollback()
        detail = " ".join(str(v) for v in exc.fields.values())
        flash(f"{exc.message} {detail}".strip(), "error")
    else:
        flash(_("The income record was reversed by a counter-entry."), "success")
    return redirect(url_for("funds.show", fund_id=fund.id), 303)


# -- API -------------------------------------------------------------------------------------

def _api_fund(fund_id: int) -> Fund:
    fund = db.session.get(Fund, fund_id)
    if fund is None or not ops.can_see(api_user(), fund):
        raise NotFound(_("No such fund."))
    return fund


def _api_manage(fund: Fund):
    if not ops.can_manage(api_user(), fund):
        raise Forbidden(_("Only the fund manager records income and reverses it."))


@api.get("/funds")
@api.output(s.FundList)
@api.doc(summary="The funds the caller may see (fund manager, committee, union staff, admin at the fund's "
                 "unit or above)")
def api_index():
    return {"items": [fund_record(f, api_user()) for f in ops.visible_funds(api_user())]}


@api.get("/funds/<int:fund_id>")
@api.output(s.FundOut)
@api.doc(summary="One fund: balance, reserved, free", responses={404: "no such fund (or not visible)"})
def api_show(fund_id: int):
    return fund_record(_api_fund(fund_id), api_user())


@api.get("/funds/<int:fund_id>/ledger")
@api.output(s.LedgerPage)
@api.doc(summary="The fund's ledger, newest first; follow `next` (?before=) for older lines")
def api_ledger(fund_id: int):
    fund = _api_fund(fund_id)
    raw = request.args.get("before")
    if raw not in (None, "") and record_id(raw) is None:
        raise BadRequest(_("`before` must be a ledger entry id."), fields={"before": "integer"})
    entries, next_before = ops.ledger_page(fund, record_id(raw) if raw else None, PAGE)
    return {"items": ledger_records(entries), "next": str(next_before) if next_before else None}


@api.post("/funds/<int:fund_id>/income")
@api.input(s.IncomeIn, validation=False)
@api.output(s.BookingOut, status_code=201)
@api.doc(summary="Record income (fund manager)",
         responses={403: "not the fund manager", 404: "no such fund (or not visible)",
                    422: "amount not positive or more than two decimals, unknown source, note too long"})
def api_income(fund_id: int, json_data=None):
    fund = _api_fund(fund_id)
    _api_manage(fund)
    entry = ops.record_income(fund, json_body(), api_user())
    db.session.commit()
    return _booking(fund, entry)


@api.post("/funds/<int:fund_id>/ledger/<int:entry_id>/reversal")
@api.input(s.ReversalIn, validation=False)
@api.output(s.BookingOut, status_code=201)
@api.doc(summary="Reverse a mistaken income record by a counter-entry (fund manager)",
         responses={403: "not the fund manager", 404: "no such fund or entry", 409: "already reversed",
                    422: "not an income record, no reason, or the free balance is too small"})
def api_reverse(fund_id: int, entry_id: int, json_data=None):
    fund = _api_fund(fund_id)
    _api_manage(fund)
    entry = ops.reverse(fund, entry_id, json_body().get("note"), api_user())
    db.session.commit()
    return _booking(fund, entry)


def _booking(fund: Fund, entry: LedgerEntry) -> dict:
    db.session.refresh(fund)
    return {"entry": ledger_records([entry])[0], "fund": fund_record(fund, api_user())}
