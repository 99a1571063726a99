"""The admin pages: people and their roles, units, departments, delegations, rule settings, the calendar."""
from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from ..accounts import auth
from ..accounts.models import Delegation, Department, DepartmentMember, RoleAssignment, Unit, User
from ..clock import today
from ..core import calendar, settings
from ..core.calendar import CalendarDay
from ..core.inputs import record_id
from ..core.models import UnitSetting
from ..extensions import db
from ..forms import opts
from .access import admin_required
from .forms import (DepartmentForm, RoleForm, UnitForm, UserForm, read_department, read_role, read_unit,
                    read_user)

bp = Blueprint("admin", __name__, url_prefix="/admin")


def _unit_choices():
    units = db.session.scalars(select(Unit).order_by(Unit.path)).all()
    return opts((u.id, ("　" * (len(u.ancestor_ids()) - 1)) + u.name) for u in units)


@bp.route("/users")
@admin_required
def users():
    q = (request.args.get("q") or "").strip()
    stmt = select(User).order_by(User.username)
    if q:
        like = f"%{q}%"
        stmt = stmt.where(User.username.like(like) | User.name.like(like) | User.employee_no.like(like))
    return render_template("admin/users.html", users=db.session.scalars(stmt.limit(500)).all(), q=q)


@bp.route("/users/new", methods=["GET", "POST"])
@bp.route("/users/<int:user_id>", methods=["GET", "POST"])
@admin_required
def user_edit(user_id: int | None = None):
    user = db.session.get(User, user_id) if user_id else None
    if user_id and user is None:
        abort(404)
    form = UserForm(obj=user)
    form.unit_id.choices = _unit_choices()
    role_form = RoleForm(prefix="r")
    role_form.unit_id.choices = form.unit_id.choices
    if form.is_submitted() and (values := form.read(read_user, new=user is None)) is not None:
        target = user or User()
        for name in ("username", "name", "employee_no", "phone", "email", "unit_id", "active"):
            setattr(target, name, values[name])
        if values.get("password"):
            target.set_password(values["password"])
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


@bp.route("/users/<int:user_id>/roles", methods=["POST"])
@admin_required
def user_add_role(user_id: int):
    user = db.session.get(User, user_id) or abort(404)
    form = RoleForm(prefix="r")
    form.unit_id.choices = _unit_choices()
    if form.is_submitted() and (chosen := form.read(read_role)) is not None:
        role, unit = chosen
        if any(a.role == role and a.unit_id == unit.id for a in user.roles):
            flash(_("The user already has this role there."), "error")
        else:
            user.roles.append(RoleAssignment(role=role, unit_id=unit.id))
            db.session.commit()
            flash(_("Role added."), "success")
    return redirect(url_for("admin.user_edit", user_id=user.id))


@bp.route("/users/<int:user_id>/roles/<int:assignment_id>/remove", methods=["POST"])
@admin_required
def user_remove_role(user_id: int, assignment_id: int):
    a = db.session.get(RoleAssignment, assignment_id)
    if a is None or a.user_id != user_id:
        abort(404)
    db.session.delete(a)
    db.session.commit()
    flash(_("Role removed."), "success")
    return redirect(url_for("admin.user_edit", user_id=user_id))


@bp.route("/units", methods=["GET", "POST"])
@admin_required
def units():
    form = UnitForm()
    form.parent_id.choices = opts([(0, "—")]) + _unit_choices()
    if form.is_submitted() and (values := form.read(read_unit)) is not None:
        unit = Unit(**values)
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


@bp.route("/departments", methods=["GET", "POST"])
@admin_required
def departments():
    form = DepartmentForm()
    form.handlers.choices = _handler_choices()
    if form.is_submitted() and (values := form.read(read_department)) is not None:
        dept = Department(code=values["code"], name=values["name"])
        dept.members = [DepartmentMember(user_id=uid) for uid in values["handlers"]]
        db.session.add(dept)
        if _saved(form):
            flash(_("Department created."), "success")
            return redirect(url_for("admin.departments"))
    depts = db.session.scalars(select(Department).order_by(Department.code)).all()
    return render_template("admin/departments.html", form=form, departments=depts)


@bp.route("/departments/<int:dept_id>", methods=["GET", "POST"])
@admin_required
def department_edit(dept_id: int):
    dept = db.session.get(Department, dept_id) or abort(404)
    form = DepartmentForm(obj=dept)
    form.handlers.choices = _handler_choices()
    if request.method == "GET":
        form.handlers.data = [m.user_id for m in dept.members]
    if form.is_submitted() and (values := form.read(read_department)) is not None:
        dept.code, dept.name = values["code"], values["name"]
        wanted = set(values["handlers"])
        for m in list(dept.members):
            if m.user_id not in wanted:
                dept.members.remove(m)
        have = {m.user_id for m in dept.members}
        dept.members.extend(DepartmentMember(user_id=uid) for uid in wanted - have)
        if _saved(form):
            flash(_("Saved."), "success")
            return redirect(url_for("admin.departments"))
    return render_template("admin/department_edit.html", form=form, dept=dept)


def _named(spec) -> str:
    """A setting as people read it: its help text, without the closing stop (it sits inside quotes)."""
    return str(spec.help).rstrip("。.")


@bp.route("/settings", methods=["GET", "POST"])
@admin_required
def unit_settings():
    """Every declared rule number of a unit: its help, the value here (own or inherited) and the default."""
    units = db.session.scalars(select(Unit).order_by(Unit.path)).all()
    unit = db.session.get(Unit, request.values.get("unit", type=record_id) or units[0].id) if units else None
    if unit is None:
        abort(404)
    if request.method == "POST":
        key = request.form.get("key", "")
        spec = settings.REGISTRY.get(key)
        if spec is None:
            flash(_("There is no setting %(key)s.", key=key[:60]), "error")
        elif request.form.get("reset"):
            if settings.reset(unit, key):
                db.session.commit()
            flash(_("The setting “%(setting)s” now follows the unit above.", setting=_named(spec)), "success")
        else:
            try:
                value = settings.parse_value(key, request.form.get("value", ""), unit)
            except ValueError as exc:
                flash(_("The setting “%(setting)s” was not changed: %(reason)s", setting=_named(spec),
                        reason=exc), "error")
            else:
                settings.put(unit, key, value)
                db.session.commit()
                flash(_("Saved."), "success")
        return redirect(url_for("admin.unit_settings", unit=unit.id))
    own = {row.key for row in db.session.scalars(select(UnitSetting).where(UnitSetting.unit_id == unit.id))}
    rows = [{"key": key, "help": spec.help, "type": spec.type, "own": key in own,
             "value": settings.shown(key, settings.get(unit, key)),
             "default": settings.shown(key, spec.default)}
            for key, spec in sorted(settings.REGISTRY.items())]
    return render_template("admin/settings.html", units=units, unit=unit, rows=rows)


@bp.route("/calendar", methods=["GET", "POST"])
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


@bp.route("/delegations")
@admin_required
def delegations():
    rows = db.session.scalars(select(Delegation).order_by(Delegation.starts_on.desc()).limit(500)).all()
    return render_template("admin/delegations.html", delegations=rows, today=today())
