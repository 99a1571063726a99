"""The admin pages' forms (a person, a role at a unit, a unit, a department) and their readers: the forms
carry the values, core.inputs reads and checks them."""
from __future__ import annotations

import re

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from wtforms import BooleanField, PasswordField, SelectField, SelectMultipleField, StringField

from ..accounts.models import ROLES, UNIT_LEVELS, Unit, User
from ..core.inputs import Reader, record_id
from ..extensions import db
from ..forms import BaseForm, opts
from ..labels import ROLE_LABELS, UNIT_LEVEL_LABELS

USERNAME_RE = re.compile(r"[A-Za-z0-9_.-]+")
PHONE_RE = re.compile(r"1[3-9]\d{9}")
CODE_RE = re.compile(r"[A-Za-z0-9_-]+")


class UserForm(BaseForm):
    username = StringField(_l("User name"))
    name = StringField(_l("Name"))
    employee_no = StringField(_l("Employee number"))
    phone = StringField(_l("Mobile phone"))
    email = StringField(_l("E-mail"))
    unit_id = SelectField(_l("Unit"), coerce=record_id, validate_choice=False)
    password = PasswordField(_l("Initial password"))
    active = BooleanField(_l("Active"), default=True)


def read_user(data: dict, *, new: bool) -> dict:
    """A person's values; a new account needs its initial password."""
    r = Reader(data)
    values = {
        "username": r.matching("username", USERNAME_RE, _("Letters, digits, dot, dash and underscore only."),
                               max_len=60),
        "name": r.name("name", max_len=60),
        "employee_no": r.text("employee_no", required=False, max_len=40) or None,
        "phone": r.matching("phone", PHONE_RE, _("Enter an 11-digit mainland mobile number."), required=False),
        "email": r.email("email", required=False),
        "unit_id": getattr(r.record("unit_id", Unit, _("No such unit.")), "id", None),
        "active": bool(data.get("active")),
    }
    if new and not data.get("password"):
        r.fail("password", _("A new account needs an initial password."))
    else:
        values["password"] = r.password("password", required=False)
    r.done()
    return values


class RoleForm(BaseForm):
    role = SelectField(_l("Role"), choices=opts((r, ROLE_LABELS[r]) for r in ROLES), validate_choice=False)
    unit_id = SelectField(_l("At unit"), coerce=record_id, validate_choice=False)


def read_role(data: dict) -> tuple[str, Unit]:
    r = Reader(data)
    role, unit = r.choice("role", ROLES), r.record("unit_id", Unit, _("No such unit."))
    r.done()
    return role, unit


class UnitForm(BaseForm):
    code = StringField(_l("Code"))
    name = StringField(_l("Name"))
    level = SelectField(_l("Level"), choices=opts((lv, UNIT_LEVEL_LABELS[lv]) for lv in UNIT_LEVELS),
                        validate_choice=False)
    parent_id = SelectField(_l("Parent unit"), coerce=record_id, validate_choice=False)


def read_unit(data: dict) -> dict:
    r = Reader(data)
    values = {"code": _code(r), "name": r.text("name", max_len=100), "level": r.choice("level", UNIT_LEVELS),
              "parent": r.record("parent_id", Unit, _("No such unit."), required=False)}
    r.done()
    return values


class DepartmentForm(BaseForm):
    code = StringField(_l("Code"))
    name = StringField(_l("Name"))
    handlers = SelectMultipleField(_l("Handlers"), coerce=record_id, validate_choice=False)


def read_department(data: dict) -> dict:
    r = Reader(data)
    values = {"code": _code(r), "name": r.text("name", max_len=100), "handlers": []}
    for uid in data.get("handlers") or []:
        user = db.session.get(User, uid) if uid else None
        if user is None or not user.active:
            r.fail("handlers", _("Choose active people from the list."))
        else:
            values["handlers"].append(user.id)
    r.done()
    return values


def _code(r: Reader) -> str | None:
    return r.matching("code", CODE_RE, _("Letters, digits, dash and underscore only."), max_len=40)
