"""Pages for people: home, case lists, a case with its timeline and actions."""
from __future__ import annotations

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from sqlalchemy import select
from sqlalchemy.orm import joinedload

import workflows

from ..accounts.models import Department, Unit
from datetime import date

from ..clock import today
from ..core import kinds, paging
from ..core.errors import CaseworkError
from ..core import votes as vote_service
from ..money import format_money
from ..core.models import AuditEntry, CongressSession
from ..core.permissions import sees_reviewer_notes
from ..core import calendar
from ..core.queries import SORTS as SORT_KEYS
from ..core.queries import (NEWEST_FIRST, WORK_ORDER, chosen_order, created_within, day_span, listed,
                            my_cases, work_page, work_queue)
from ..extensions import db
from ..forms import transition_form
from ..core.inputs import record_id
from . import case_forms, timeline
from ..labels import KIND_LABELS, state_label, trigger_label

bp = Blueprint("web", __name__)


@bp.route("/")
@login_required
def home():
    return render_template("home.html", mine=my_cases(current_user, limit=20),
                           work=work_queue(current_user, limit=20), calendar_warning=_calendar_warning())


def _calendar_warning() -> str | None:
    """Admins hear it when next year's holiday schedule is neither built in nor entered."""
    from ..core.calendar import CalendarDay
    from ..core.permissions import has_role
    year = today().year + 1
    if not has_role(current_user, "admin") or calendar.known_year(year):
        return None
    entered = db.session.scalar(select(CalendarDay.day).where(CalendarDay.day >= date(year, 1, 1),
                                                              CalendarDay.day <= date(year, 12, 31)).limit(1))
    if entered:
        return None
    return _("The %(year)s holiday schedule is not confirmed yet: enter it so deadlines count correctly.",
             year=year)


@bp.route("/cases")
@login_required
def case_list():
    kind = request.args.get("kind") or None
    if kind and kind not in kinds.KINDS:
        abort(404)
    state = request.args.get("state") or None
    size = current_app.config["CASEWORK_PAGE_SIZE"]
    start, end, errors = day_span(request.args)
    stmt = created_within(kinds.visible_cases(current_user, kind), start, end)
    if state:
        stmt = stmt.where(kinds.Case.state == state)
    order, note = _order(NEWEST_FIRST)
    filters = {k: v for k, v in (("kind", kind), ("state", state)) if v}
    filters.update(_days(start, end))
    rows, next_after = paging.keyset(listed(stmt), order, _cursor(order), size)
    sorting = _sorting(order, NEWEST_FIRST, note, filters)
    next_url = url_for("web.case_list", **sorting["args"], after=next_after) if next_after else None
    return render_template("cases/list.html", cases=rows, kind=kind, state=state, next_url=next_url,
                           filters=filters, sorting=sorting, errors=errors, args=request.args)


def _days(start, end) -> dict:
    """The days in force as the list's links carry them (a wrong one is dropped, as from the list)."""
    return {k: d.isoformat() for k, d in (("from", start), ("to", end)) if d}


def _order(default):
    """The order `?sort=&dir=` ask for; an unknown one falls back to `default`, with a note that says so."""
    order, known = chosen_order(request.args.get("sort"), request.args.get("dir"), default)
    return order, None if known else _("Unknown sort order: the list is shown in its usual order.")


def _cursor(order):
    """The page's `?after=` cursor; a malformed one (edited by hand) starts from the top."""
    raw = request.args.get("after") or None
    try:
        paging.read_cursor(order, raw)
    except CaseworkError:
        return None
    return raw


def _sorting(order, default, note, filters):
    """What a list's sortable headers and its phone 排序 select need: the key and direction in force, the
    filters they carry along, and `args` (the filters with the order, for the pager and saved filters)."""
    direction = "desc" if order.descending else "asc"
    args = dict(filters)
    if note is None and (request.args.get("sort") or request.args.get("dir")):
        args.update({"sort": order.key} if order.key in SORT_KEYS else {}, dir=direction)
    return {"key": order.key, "dir": direction, "default": default.key, "note": note, "filters": filters,
            "args": args}


BULK_TRIGGERS = ("start_verification",)  # steps that need no input of their own
QUEUE_FILTERS = ("q", "kind", "category", "state", "unit")  # what the queue's links carry (and the days)


@bp.route("/work")
@login_required
def queue():
    args = request.args
    unit = db.session.get(Unit, args.get("unit", type=record_id)) if args.get("unit", type=record_id) else None
    kind = args.get("kind") if args.get("kind") in kinds.KINDS else None
    order, note = _order(WORK_ORDER)
    start, end, errors = day_span(args)
    work, cursor = work_page(current_user, kind=kind, state=args.get("state") or None, unit=unit,
                             category=args.get("category") or None, q=args.get("q") or None,
                             after=_cursor(order), size=current_app.config["CASEWORK_PAGE_SIZE"], order=order,
                             start=start, end=end)
    units = db.session.scalars(select(Unit).order_by(Unit.path)).all()
    filters = {k: args[k] for k in QUEUE_FILTERS if args.get(k)}
    filters.update(_days(start, end))
    sorting = _sorting(order, WORK_ORDER, note, filters)
    next_url = url_for("web.queue", **sorting["args"], after=cursor) if cursor else None
    now = today()  # one reading of the clock for every row
    return render_template("cases/queue.html", work=work, next_url=next_url, units=units, args=args,
                           filters=filters, errors=errors, sorting=sorting, bulk=BULK_TRIGGERS, today=now,
                           deadline_class=lambda deadline: deadline_class(deadline, now))


def deadline_class(deadline, now=None) -> str:
    if deadline is None:
        return ""
    now = now or today()
    if deadline < now:
        return "late"
    return "near" if calendar.working_days_between(now, deadline) <= 2 else ""


@bp.route("/work/bulk", methods=["POST"])
@login_required
def queue_bulk():
    trigger = request.form.get("trigger")
    if trigger not in BULK_TRIGGERS:
        abort(400)
    done, refused = [], []
    for raw_id in request.form.getlist("case")[:200]:
        case_id = record_id(raw_id)
        if case_id is None:
            continue
        try:
            case = kinds.load("aid", case_id, current_user)
            kinds.engine.fire(case, trigger, current_user, {})
            db.session.commit()
            done.append(case.number)
        except CaseworkError as exc:
            db.session.rollback()
            refused.append(f"{raw_id}: {exc.message}")
    if done:
        flash(_("Done for %(n)s case(s): %(numbers)s.", n=len(done), numbers=", ".join(done)), "success")
    for line in refused:
        flash(line, "error")
    if not done and not refused:
        flash(_("Select at least one case."), "error")
    return redirect(url_for("web.queue"))


@bp.route("/cases/<kind>/new", methods=["GET", "POST"])
@login_required
def case_new(kind: str):
    if kind not in kinds.KINDS:
        abort(404)
    if kind == "aid" and case_forms.chosen_category(request.values) is None:
        return _aid_step_one()
    form = _form(kind)
    if form.validate_on_submit() and (case := form.commit(
            lambda: kinds.create(kind, form.data_for_engine(), current_user))):
        flash(_("Draft %(number)s saved. Submit it when it is complete.", number=case.number), "success")
        return redirect(url_for("web.case_view", kind=kind, case_id=case.id))
    status = 422 if request.method == "POST" else 200
    return render_template("cases/new.html", form=form, kind=kind, kind_label=KIND_LABELS[kind],
                           category=_category_info(form)), status


def _form(kind: str, case=None):
    """The kind's form; an aid request's holds the chosen category's questions only."""
    if kind != "aid":
        return case_forms.form_for(kind, current_user, case)
    category = case_forms.chosen_category(request.values, case)
    return case_forms.form_for(kind, current_user, case, category=category,
                               posted=request.form if request.method == "POST" else None)


def _category_info(form):
    code = getattr(getattr(form, "category", None), "data", None)
    return next((c for c in case_forms.aid_categories(current_user) if c["code"] == code), None)


def _aid_step_one(case=None):
    """Step one of the aid form: the category, with each one's questions, cap and documents (a GET form, so
    it works without JavaScript)."""
    if request.method == "POST":
        flash(_("Choose the category of your request first."), "error")
    return render_template("cases/aid_category.html", categories=case_forms.aid_categories(current_user),
                           case=case, kind_label=KIND_LABELS["aid"]), 422 if request.method == "POST" else 200


@bp.route("/cases/<kind>/<int:case_id>/edit", methods=["GET", "POST"])
@login_required
def case_edit(kind: str, case_id: int):
    case = _load(kind, case_id)
    if case.state not in kinds.EDITABLE_STATES or current_user.id not in (case.applicant_id, case.created_by_id):
        abort(403)
    if kind == "aid" and (request.args.get("step") == "category"
                          or case_forms.chosen_category(request.values, case) is None):
        return _aid_step_one(case)
    form = _form(kind, case)
    if form.validate_on_submit() and form.commit(
            lambda: kinds.update_draft(case, form.data_for_engine(), current_user) or case):
        flash(_("Draft saved.") if case.state == "draft" else
              _("Your changes are saved. Resubmit the request when it is complete."), "success")
        return redirect(url_for("web.case_view", kind=kind, case_id=case.id))
    return render_template("cases/new.html", form=form, kind=kind, kind_label=KIND_LABELS[kind], case=case,
                           category=_category_info(form))


def _load(kind: str, case_id: int):
    try:
        return kinds.load(kind, case_id, current_user)
    except CaseworkError:
        abort(404)


def _action_forms(case):
    wf = workflows.get(case.kind)
    steps = [(trigger, wf.candidates(trigger, case.state)[0])
             for trigger in kinds.engine.available(case, current_user)]
    # Read only when a step asks for a department.
    departments = db.session.scalars(select(Department).where(Department.active.is_(True))
                                     .order_by(Department.code)).all() \
        if any(f.type in ("department", "departments") for _trigger, t in steps for f in t.fields) else ()
    forms = []
    for trigger, t in steps:
        form = transition_form(t, departments=departments, prefix=trigger)
        form.version.data = case.version
        # The amount staff proposed; before the parent union, the amount the committee below approved.
        proposed = getattr(case, "referred_amount" if case.state == "parent_approval" else "amount_proposed",
                           None)
        if "amount" in form and proposed is not None and not form.amount.data:
            form.amount.data = format_money(proposed).replace(",", "")
        forms.append((trigger, t, form))
    return forms


@bp.route("/cases/<kind>/<int:case_id>")
@login_required
def case_view(kind: str, case_id: int):
    case = _load(kind, case_id)
    return _render_case(case, _action_forms(case))


def _render_case(case, forms, status=200):
    entries = db.session.scalars(select(AuditEntry).where(AuditEntry.case_id == case.id)
                                 .options(joinedload(AuditEntry.actor), joinedload(AuditEntry.delegate_of))
                                 .order_by(AuditEntry.seq)).all()
    votes = vote_service.round_votes(case)
    record = kinds.serialize(case, current_user, detail=True)
    level = kinds.view_level(case, current_user)
    return render_template("cases/view.html", case=case, record=record, entries=entries, forms=forms,
                           timeline=timeline.Reader(case.kind, entries), return_reason=_return_reason(case, entries, level),
                           votes=votes, tally=vote_service.tally(case) if votes else [],
                           quorum=vote_service.quorum(case) if votes else None,
                           reviewer=sees_reviewer_notes(current_user, case),
                           level=level), status


def _return_reason(case, entries, level):
    """A returned case's reason, for the top of the page: the latest return's, as the timeline has it."""
    if case.state != "returned" or level != "full":
        return None
    for e in reversed(entries):
        if e.trigger == "return_for_info":
            return {"reason": e.changes.get("inputs", {}).get("reason") or e.comment,
                    "actor": e.actor.name if e.actor else None}
    return None


@bp.route("/cases/<kind>/<int:case_id>/do/<trigger>", methods=["POST"])
@login_required
def case_fire(kind: str, case_id: int, trigger: str):
    case = _load(kind, case_id)
    wf = workflows.get(case.kind)
    candidates = wf.candidates(trigger, case.state)
    if trigger not in wf.triggers:
        abort(404)
    if not candidates:
        flash(_("This case has moved on meanwhile; the action is no longer possible."), "error")
        return redirect(url_for("web.case_view", kind=kind, case_id=case_id)), 303
    departments = db.session.scalars(select(Department).where(Department.active.is_(True))).all()
    form = transition_form(candidates[0], departments=departments, prefix=trigger)
    if form.validate_on_submit() and form.confirmed():
        try:
            version = int(form.version.data) if form.version.data else None
        except ValueError:
            version = None
        try:
            data = form.data_for_engine()
            if any(f.name == "comment" for f in candidates[0].fields):
                data["comment"] = form.comment.data  # a step whose own input is the comment (score)
            outcome = kinds.engine.fire(case, trigger, current_user, data,
                                        version=version, comment=form.comment.data or "")
            db.session.commit()
        except CaseworkError as exc:
            db.session.rollback()
            case = _load(kind, case_id)
            if exc.status == 409 and exc.code == "stale":
                flash(str(exc.message), "error")
                return redirect(url_for("web.case_view", kind=kind, case_id=case_id)), 303
            form.absorb(exc)
            forms = [(t, tr, form if t == trigger else f) for t, tr, f in _action_forms(case)]
            if not any(t == trigger for t, _tr, _f in forms):
                flash(str(exc.message), "error")
            return _render_case(case, forms, status=exc.status)
        if outcome.votes is not None and not outcome.moved:
            flash(_("Your vote is recorded: %(votes)s of %(quorum)s needed.", votes=outcome.votes,
                    quorum=outcome.quorum), "success")
        else:  # what was done and where the case stands, in words: a bare "done" tells a worker little
            flash(_("Done: %(step)s. Now: %(state)s.", step=trigger_label(trigger),
                    state=state_label(case.kind, case.state)), "success")
        return redirect(url_for("web.case_view", kind=kind, case_id=case_id))
    forms = [(t, tr, form if t == trigger else f) for t, tr, f in _action_forms(case)]
    return _render_case(case, forms, status=422)


@bp.route("/sessions")
@login_required
def sessions():
    rows = db.session.scalars(select(CongressSession).order_by(CongressSession.starts_on.desc())).all()
    return render_template("cases/sessions.html", sessions=rows)
