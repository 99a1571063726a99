"""Pages of the hardship register: list, propose after a visit, the household with its votes, re-checks and
aid, statistics (counts and sums only), and the admin's per-unit switch "this aid category needs the
register".
Only union staff, the committee and admins see it; it never appears on the public board."""
from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required
from sqlalchemy import select
from wtforms import FieldList, Form, FormField, SelectField, SelectMultipleField, StringField, TextAreaField
from wtforms.widgets import CheckboxInput, ListWidget

from ..accounts.models import Unit, User
from ..admin.access import admin_required
from ..aid.models import CATEGORIES
from ..core import settings
from ..core.permissions import has_role
from ..extensions import db
from ..forms import BaseForm, commit_and_return, committed, opts
from ..money import format_money
from ..labels import CHOICE_LABELS, HOUSEHOLD_CAUSE_LABELS, HOUSEHOLD_GRADE_LABELS
from ..core.inputs import record_id
from . import operations as ops
from ..core.models import Vote, entries_of, verify_chain
from .models import CAUSES, GRADES, OUTCOMES, RELATIONS, STATUSES, Household

bp = Blueprint("register", __name__, url_prefix="/register")

GRADE_LABELS, CAUSE_LABELS = HOUSEHOLD_GRADE_LABELS, HOUSEHOLD_CAUSE_LABELS
STATUS_LABELS = {"proposed": _l("Awaiting the committee"), "registered": _l("Registered"),
                 "rejected": _l("Not approved"), "removed": _l("Removed from the register")}
RELATION_LABELS = {"self": _l("The worker"), "spouse": _l("Spouse"), "child": _l("Child"),
                   "parent": _l("Parent"), "other": _l("Other")}
OUTCOME_LABELS = {"kept": _l("Kept as it is"), "grade_changed": _l("Grade changed"),
                  "removed": _l("Removed from the register")}
LABELS = {"grade": GRADE_LABELS, "cause": CAUSE_LABELS, "status": STATUS_LABELS, "relation": RELATION_LABELS,
          "outcome": OUTCOME_LABELS}


class MemberForm(Form):
    name = StringField(_l("Name"))
    relation = SelectField(_l("Relation"), choices=opts((r, RELATION_LABELS[r]) for r in RELATIONS),
                           default="other", validate_choice=False)
    monthly_income = StringField(_l("Monthly income (yuan)"),
                                 render_kw={"inputmode": "decimal", "placeholder": "0.00"})
    note = StringField(_l("Note"))
    # A member who works here too: they then never review the worker's cases (回避).
    person = StringField(_l("Colleague's user name or employee number"))


class ProposeForm(BaseForm):
    """Carries the values; ops.read_proposal reads and checks them."""
    worker = StringField(_l("Worker (user name, employee number or phone)"), render_kw={"required": True})
    grade = SelectField(_l("Grade"), choices=opts((g, GRADE_LABELS[g]) for g in GRADES), validate_choice=False)
    causes = SelectMultipleField(_l("Causes"), choices=opts((c, CAUSE_LABELS[c]) for c in CAUSES),
                                 widget=ListWidget(prefix_label=False), option_widget=CheckboxInput(),
                                 validate_choice=False)
    circumstances = TextAreaField(_l("Circumstances"))
    visited_on = StringField(_l("Verification visit on"), render_kw={"type": "date", "required": True})
    visitors = StringField(_l("Visitors (user names, separated by commas)"), render_kw={"required": True})
    findings = TextAreaField(_l("Findings of the visit"), render_kw={"required": True})
    members = FieldList(FormField(MemberForm), min_entries=6, max_entries=20)


def _viewer_required():
    if not ops.may_view_register(current_user):
        abort(403)


def _household(household_id: int) -> Household:
    household = db.session.get(Household, household_id)
    if household is None or not ops.can_view(current_user, household):
        abort(404)  # never say that someone else's household exists
    return household


@bp.route("")
@login_required
def index():
    _viewer_required()
    status = request.args.get("status") or None
    stmt = select(Household).where(ops.visible_units(current_user)).order_by(
        Household.next_review_on.is_(None), Household.next_review_on, Household.id)
    if status in STATUSES:
        stmt = stmt.where(Household.status == status)
    rows = db.session.scalars(stmt.limit(500)).all()
    return render_template("register/list.html", households=rows, status=status, L=LABELS,
                           statuses=STATUSES, can_propose=has_role(current_user, "union_staff"),
                           today=ops.today())


@bp.route("/new")
@login_required
def new():
    if not has_role(current_user, "union_staff"):
        abort(403)
    form = ProposeForm()
    form.worker.data = request.args.get("worker") or None
    form.members[0].form.relation.data = "self"
    return render_template("register/new.html", form=form)


@bp.route("/households", methods=["POST"])
@login_required
def create():
    if not has_role(current_user, "union_staff"):
        abort(403)
    form = ProposeForm()
    if form.is_submitted():
        data = {k: v for k, v in form.data.items() if k != "members"}
        data["members"] = form.members.data
        if household := form.commit(lambda: ops.propose(ops.read_proposal(data), current_user)):
            flash(_("The household is waiting for the committee's vote."), "success")
            return redirect(url_for("register.view", household_id=household.id))
    return render_template("register/new.html", form=form), 422


@bp.route("/<int:household_id>")
@login_required
def view(household_id: int):
    household = _household(household_id)
    votes = db.session.scalars(select(Vote).where(Vote.subject_kind == "register", Vote.subject_id == household.id)
                               .order_by(Vote.round.desc(), Vote.at)).all()
    cases = ops.aid_cases(household)
    visitors = db.session.scalars(select(User).where(User.id.in_(household.visitor_ids or []))).all()
    return render_template("register/view.html", h=household, votes=votes, tally=ops.tally(household),
                           may_vote=ops.may_vote(current_user, household), cases=cases,
                           totals=ops.aid_totals(cases), visitors=visitors, L=LABELS, fmt=format_money,
                           may_review=household.status == "registered" and
                           "union_staff" in ops.roles_at(current_user, household.unit),
                           grades=GRADES, outcomes=OUTCOMES, today=ops.today())


@bp.route("/<int:household_id>/audit")
@login_required
def audit(household_id: int):
    household = _household(household_id)
    entries = db.session.scalars(entries_of(household)).all()
    return render_template("audit_trail.html", title=_("Audit trail of the household file of %(name)s",
                                                        name=household.user.name),
                           entries=entries, intact=verify_chain(household)[0],
                           back=url_for("register.view", household_id=household.id))


@bp.route("/<int:household_id>/vote", methods=["POST"])
@login_required
def cast_vote(household_id: int):
    household = _household(household_id)
    done, result = committed(lambda: ops.vote(household, current_user, request.form.get("position", ""),
                                              request.form.get("comment", "")))
    if done:
        if result.decided:
            flash(_("Quorum reached: the decision is made."), "success")
        else:
            flash(_("Your vote is recorded (%(n)s of %(q)s needed).",
                    n=getattr(result, request.form.get("position")), q=result.quorum), "success")
    return redirect(url_for("register.view", household_id=household_id))


@bp.route("/<int:household_id>/review", methods=["POST"])
@login_required
def record_review(household_id: int):
    household = _household(household_id)
    return commit_and_return(lambda: ops.review(household, current_user, request.form.get("outcome", ""),
                                                request.form.get("new_grade") or None, request.form.get("reason", "")),
                             _("The re-check is recorded."), url_for("register.view", household_id=household_id))


@bp.route("/stats")
@login_required
def stats():
    _viewer_required()
    return render_template("register/stats.html", s=ops.statistics(current_user), L=LABELS, fmt=format_money)


@bp.route("/settings/save", methods=["POST"])
@admin_required
def save_settings():
    unit = db.session.get(Unit, request.form.get("unit", type=record_id) or 0) or abort(404)
    for category in CATEGORIES:
        settings.put(unit, f"aid_requires_register_{category}", bool(request.form.get(category)))
    db.session.commit()
    flash(_("Saved."), "success")
    return redirect(url_for("register.aid_settings", unit=unit.id))


@bp.route("/settings")
@admin_required
def aid_settings():
    """Per unit: which aid categories need a registered household (the rules page takes no yes/no values)."""
    units = db.session.scalars(select(Unit).order_by(Unit.path)).all()
    unit = db.session.get(Unit, request.args.get("unit", type=record_id) or (units[0].id if units else 0))
    if unit is None:
        abort(404)
    rows = [(c, CHOICE_LABELS.get(c, c), settings.get(unit, f"aid_requires_register_{c}"))
            for c in CATEGORIES]
    return render_template("register/settings.html", units=units, unit=unit, rows=rows)
