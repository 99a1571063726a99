"""Sign-in, password, delegations, and the admin pages for people, units and departments."""
from __future__ import annotations

from functools import wraps

from flask import (Blueprint, abort, flash, g, make_response, redirect, render_template, request, session,
                   url_for)
from flask_babel import gettext as _, ngettext
from flask_login import current_user, login_required, login_user, logout_user
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from urllib.parse import urlsplit

from ..clock import today
from ..core import calendar, settings
from ..core.calendar import CalendarDay
from ..core.models import UnitSetting
from ..core.permissions import has_role
from ..extensions import db, login_manager
from ..forms import opts
from ..web.labels import ROLE_LABELS
from ..core.inputs import record_id
from ..core.errors import CaseworkError
from . import auth, delegations as delegation_ops, relatives as relative_ops
from .forms import (DelegationForm, DepartmentForm, LoginForm, PasswordForm, RoleForm, TokenForm, UnitForm,
                    UserForm)
from .models import Delegation, Department, DepartmentMember, RoleAssignment, Unit, User

bp = Blueprint("accounts", __name__)
admin_bp = Blueprint("admin", __name__, url_prefix="/admin")

@login_manager.user_loader
def _load_user(ident: str):
    try:
        user_id, epoch = (int(x) for x in ident.split(":"))
    except ValueError:
        return None
    user = db.session.get(User, user_id)
    if user is None or user.session_epoch != epoch or not user.active:
        return None
    g.log_username = user.username
    return user


login_manager.login_view = "accounts.login"
login_manager.login_message = None


def _safe_next(target: str | None) -> str:
    if target and not urlsplit(target).netloc and target.startswith("/") and not target.startswith("//"):
        return target
    return url_for("web.home")


@bp.route("/login", methods=["GET", "POST"])
def login():
    if current_user.is_authenticated:
        return redirect(url_for("web.home"))
    form = LoginForm()
    if form.validate_on_submit():
        tried = auth.attempt(form.login.data, form.password.data)
        if tried.locked:
            form.form_errors.append(_("Too many failed attempts. Try again in a few minutes."))
        elif not tried.ok:
            form.form_errors.append(_("Wrong user name or password."))
        else:
            user = tried.user
            lang = session.get("lang")
            session.clear()  # a fresh session at sign-in: no fixation
            if lang:
                session["lang"] = lang
            login_user(user, remember=form.remember.data)
            g.log_username = user.username
            return redirect(_safe_next(request.args.get("next")))
    return render_template("accounts/login.html", form=form), 200 if request.method == "GET" or \
        not form.errors and not form.form_errors else 422


@bp.route("/logout", methods=["POST"])
def logout():
    if current_user.is_authenticated:
        # Sessions live in signed cookies: a copy kept from before would still sign in, so every
        # session of this user ends here.
        current_user.session_epoch += 1
        db.session.commit()
    logout_user()
    session.clear()
    flash(_("You have signed out."), "info")
    return redirect(url_for("accounts.login"))


@bp.route("/account", methods=["GET", "POST"])
@login_required
def account():
    form = PasswordForm()
    if form.validate_on_submit():
        if not current_user.check_password(form.current.data):
            form.current.errors = [_("The current password is wrong.")]
        else:
            user = current_user._get_current_object()
            user.set_password(form.new.data)
            user.session_epoch += 1  # other sessions end
            revoked = auth.revoke_all(user)  # a new password is the answer to a suspected leak: tokens too
            db.session.commit()
            login_user(user)
            flash(_("Your password has been changed."), "success")
            if revoked:
                flash(ngettext("%(num)d API token was revoked with it.", "%(num)d API tokens were revoked with it.",
                               revoked), "info")
            return redirect(url_for("accounts.account"))
    from .mine import relative_form
    return render_template("accounts/account.html", form=form, dform=_delegation_form(current_user),
                           delegations=delegation_ops.given_and_received(current_user),
                           relatives=relative_ops.declared_by(current_user), rform=relative_form(),
                           today=today())


def _delegation_form(user: User) -> DelegationForm:
    form = DelegationForm(prefix="d")
    form.role.choices = opts((f"{a.role}:{a.unit_id}", f"{ROLE_LABELS[a.role]} @ {a.unit.name}")
                             for a in user.roles if a.role not in ("worker", "representative"))
    return form


@bp.route("/account/delegations", methods=["POST"])
@login_required
def add_delegation():
    form = _delegation_form(current_user)
    if form.validate_on_submit():
        role, unit_id = form.role.data.split(":")
        try:
            delegation_ops.delegate(current_user, form.to_user.data, role, unit_id, form.starts_on.data,
                                 form.ends_on.data)
            db.session.commit()
            flash(_("Delegation saved."), "success")
        except CaseworkError as exc:
            db.session.rollback()
            for message in [exc.message, *(exc.fields or {}).values()]:
                flash(str(message), "error")
    else:
        for errors in form.errors.values():
            for e in errors:
                flash(str(e), "error")
    return redirect(url_for("accounts.account"))


@bp.route("/account/delegations/<int:delegation_id>/end", methods=["POST"])
@login_required
def end_delegation(delegation_id: int):
    try:
        delegation_ops.end(delegation_id, current_user)
    except CaseworkError:
        abort(404)
    db.session.commit()
    flash(_("Delegation ended."), "success")
    return redirect(url_for("accounts.account"))


def _token_form() -> TokenForm:
    form = TokenForm(prefix="t")
    form.days.choices = [(d, ngettext("%(num)d day", "%(num)d days", d)) for d in auth.validity_choices()]
    if form.days.data is None:
        form.days.data = auth.max_days()
    return form


@bp.route("/account/tokens", methods=["GET", "POST"])
@login_required
def tokens():
    """API tokens for other systems: made here, shown once, revocable; only their hash is kept."""
    form = _token_form()
    secret = new_row = None
    status = 200
    if request.method == "POST":
        if not form.validate_on_submit():
            status = 422
        elif not current_user.check_password(form.password.data):
            # A token outlives the session: someone at an unlocked desk must not be able to make one.
            form.password.errors = [_("The current password is wrong.")]
            status = 422
        else:
            secret, new_row = auth.issue(current_user, form.label.data or "", form.days.data)
            db.session.commit()
            form.label.data = ""  # the form is for the next token
    # The secret is rendered into this one response only: never flashed (the session is a cookie), never
    # kept by a cache.
    response = make_response(render_template("accounts/tokens.html", form=form, tokens=auth.owned(current_user),
                                             secret=secret, new_row=new_row, usable=auth.is_usable), status)
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.route("/account/tokens/<int:token_id>/revoke", methods=["POST"])
@login_required
def revoke_token(token_id: int):
    row = auth.find_owned(current_user, token_id)
    if row is None:
        abort(404)
    auth.revoke(row)
    db.session.commit()
    flash(_("Token “%(label)s” revoked: it no longer works.", label=row.label or row.id), "success")
    return redirect(url_for("accounts.tokens"))


@bp.route("/account/tokens/revoke-all", methods=["POST"])
@login_required
def revoke_all_tokens():
    n = auth.revoke_all(current_user)
    db.session.commit()
    flash(ngettext("%(num)d token revoked.", "%(num)d tokens revoked.", n), "success")
    return redirect(url_for("accounts.tokens"))


# -- admin ---------------------------------------------------------------------------------

def admin_required(view):
    @wraps(view)
    @login_required
    def wrapped(*args, **kwargs):
        if not has_role(current_user, "admin"):
            abort(403)
        return view(*args, **kwargs)
    return wrapped


def _unit_choices():
    units = db.session.scalars(select(Unit).order_by(Unit.path)).all()
    return opts((u.id, ("　" * (len(u.ancestor_ids()) - 1)) + u.name) for u in units)


@admin_bp.route("/users")
@admin_required
def users():
    q = (request.args.get("q") or "").strip()
    stmt = select(User).order_by(User.username)
    if q:
        like = f"%{q}%"
        stmt = stmt.where(User.username.like(like) | User.name.like(like) | User.employee_no.like(like))
    return render_template("admin/users.html", users=db.session.scalars(stmt.limit(500)).all(), q=q)


@admin_bp.route("/users/new", methods=["GET", "POST"])
@admin_bp.route("/users/<int:user_id>", methods=["GET", "POST"])
@admin_required
def user_edit(user_id: int | None = None):
    user = db.session.get(User, user_id) if user_id else None
    if user_id and user is None:
        abort(404)
    form = UserForm(obj=user)
    form.unit_id.choices = _unit_choices()
    role_form = RoleForm(prefix="r")
    role_form.unit_id.choices = form.unit_id.choices
    if form.validate_on_submit():
        if user is None and not form.password.data:
            form.password.errors = [_("A new account needs an initial password.")]
        else:
            target = user or User()
            for name in ("username", "name", "email", "unit_id", "active"):
                setattr(target, name, getattr(form, name).data)
            target.employee_no = form.employee_no.data or None
            target.phone = form.phone.data or None
            if form.password.data:
                target.set_password(form.password.data)
                target.session_epoch = (target.session_epoch or 0) + 1
                if user is not None:
                    auth.revoke_all(user)  # a reset password ends the old sessions and tokens alike
            if user is None:
                db.session.add(target)
            try:
                db.session.commit()
            except IntegrityError:
                db.session.rollback()
                form.form_errors.append(_("User name, employee number or phone is already taken."))
            else:
                flash(_("Saved."), "success")
                return redirect(url_for("admin.user_edit", user_id=target.id))
    return render_template("admin/user_edit.html", form=form, user=user, role_form=role_form)


@admin_bp.route("/users/<int:user_id>/roles", methods=["POST"])
@admin_required
def user_add_role(user_id: int):
    user = db.session.get(User, user_id) or abort(404)
    form = RoleForm(prefix="r")
    form.unit_id.choices = _unit_choices()
    if form.validate_on_submit():
        if any(a.role == form.role.data and a.unit_id == form.unit_id.data for a in user.roles):
            flash(_("The user already has this role there."), "error")
        else:
            user.roles.append(RoleAssignment(role=form.role.data, unit_id=form.unit_id.data))
            db.session.commit()
            flash(_("Role added."), "success")
    return redirect(url_for("admin.user_edit", user_id=user.id))


@admin_bp.route("/users/<int:user_id>/roles/<int:assignment_id>/remove", methods=["POST"])
@admin_required
def user_remove_role(user_id: int, assignment_id: int):
    a = db.session.get(RoleAssignment, assignment_id)
    if a is None or a.user_id != user_id:
        abort(404)
    db.session.delete(a)
    db.session.commit()
    flash(_("Role removed."), "success")
    return redirect(url_for("admin.user_edit", user_id=user_id))


@admin_bp.route("/units", methods=["GET", "POST"])
@admin_required
def units():
    form = UnitForm()
    form.parent_id.choices = opts([(0, "—")]) + _unit_choices()
    if form.validate_on_submit():
        parent = db.session.get(Unit, form.parent_id.data) if form.parent_id.data else None
        unit = Unit(code=form.code.data, name=form.name.data, level=form.level.data, parent=parent)
        db.session.add(unit)
        try:
            db.session.flush()
            unit.set_path()
            db.session.commit()
        except IntegrityError:
            db.session.rollback()
            form.code.errors = [_("This code is already used.")]
        else:
            flash(_("Unit created."), "success")
            return redirect(url_for("admin.units"))
    tree = db.session.scalars(select(Unit).order_by(Unit.path)).all()
    return render_template("admin/units.html", form=form, units=tree)


def _handler_choices():
    return opts((u.id, f"{u.name} ({u.username})") for u in
                db.session.scalars(select(User).where(User.active.is_(True)).order_by(User.username)))


def _saved(form) -> bool:
    """Commit; a taken code is a message on the form, not an error page."""
    try:
        db.session.commit()
    except IntegrityError:
        db.session.rollback()
        form.code.errors = [_("This code is already used.")]
        return False
    return True


@admin_bp.route("/departments", methods=["GET", "POST"])
@admin_required
def departments():
    form = DepartmentForm()
    form.handlers.choices = _handler_choices()
    if form.validate_on_submit():
        dept = Department(code=form.code.data, name=form.name.data)
        dept.members = [DepartmentMember(user_id=uid) for uid in form.handlers.data or []]
        db.session.add(dept)
        if _saved(form):
            flash(_("Department created."), "success")
            return redirect(url_for("admin.departments"))
    depts = db.session.scalars(select(Department).order_by(Department.code)).all()
    return render_template("admin/departments.html", form=form, departments=depts)


@admin_bp.route("/departments/<int:dept_id>", methods=["GET", "POST"])
@admin_required
def department_edit(dept_id: int):
    dept = db.session.get(Department, dept_id) or abort(404)
    form = DepartmentForm(obj=dept)
    form.handlers.choices = _handler_choices()
    if request.method == "GET":
        form.handlers.data = [m.user_id for m in dept.members]
    if form.validate_on_submit():
        dept.code, dept.name = form.code.data, form.name.data
        wanted = set(form.handlers.data or [])
        for m in list(dept.members):
            if m.user_id not in wanted:
                dept.members.remove(m)
        have = {m.user_id for m in dept.members}
        dept.members.extend(DepartmentMember(user_id=uid) for uid in wanted - have)
        if _saved(form):
            flash(_("Saved."), "success")
            return redirect(url_for("admin.departments"))
    return render_template("admin/department_edit.html", form=form, dept=dept)


@admin_bp.route("/settings", methods=["GET", "POST"])
@admin_required
def unit_settings():
    units = db.session.scalars(select(Unit).order_by(Unit.path)).all()
    unit = db.session.get(Unit, request.values.get("unit", type=record_id) or units[0].id) if units else None
    if unit is None:
        abort(404)
    if request.method == "POST":
        key = request.form.get("key", "")
        if key not in settings.DEFAULTS:
            abort(400)
        if request.form.get("reset"):
            row = db.session.scalar(select(UnitSetting).where(UnitSetting.unit_id == unit.id,
                                                              UnitSetting.key == key))
            if row is not None:
                db.session.delete(row)
                db.session.commit()
            flash(_("%(key)s now follows the unit above.", key=key), "success")
        else:
            try:
                value = settings.parse_value(key, request.form.get("value", ""))
            except ValueError as exc:
                flash(f"{key}: {exc}", "error")
            else:
                settings.put(unit, key, value)
                db.session.commit()
                flash(_("Saved."), "success")
        return redirect(url_for("admin.unit_settings", unit=unit.id))
    own = {row.key for row in db.session.scalars(select(UnitSetting).where(UnitSetting.unit_id == unit.id))}
    rows = [(key, settings.get(unit, key), key in own, default) for key, default in sorted(settings.DEFAULTS.items())]
    return render_template("admin/settings.html", units=units, unit=unit, rows=rows)


@admin_bp.route("/calendar", methods=["GET", "POST"])
@admin_required
def calendar_days():
    if request.method == "POST":
        if request.form.get("delete"):
            row = db.session.get(CalendarDay, _parse_day(request.form.get("delete")))
            if row is not None:
                db.session.delete(row)
                db.session.commit()
            return redirect(url_for("admin.calendar_days"))
        day = _parse_day(request.form.get("day"))
        if day is None:
            flash(_("Enter a date as YYYY-MM-DD."), "error")
        else:
            row = db.session.get(CalendarDay, day) or CalendarDay(day=day)
            row.workday = request.form.get("workday") == "1"
            row.note = (request.form.get("note") or "")[:100]
            db.session.add(row)
            db.session.commit()
            flash(_("Saved."), "success")
        return redirect(url_for("admin.calendar_days"))
    rows = db.session.scalars(select(CalendarDay).order_by(CalendarDay.day.desc()).limit(400)).all()
    year = today().year + 1
    return render_template("admin/calendar.html", rows=rows, next_year=year,
                           next_year_known=calendar.known_year(year))


def _parse_day(raw):
    from datetime import date
    try:
        return date.fromisoformat((raw or "").strip())
    except ValueError:
        return None


@admin_bp.route("/delegations")
@admin_required
def delegations():
    rows = db.session.scalars(select(Delegation).order_by(Delegation.starts_on.desc()).limit(500)).all()
    return render_template("admin/delegations.html", delegations=rows, today=today())


def register(app):
    app.register_blueprint(bp)
    app.register_blueprint(admin_bp)
