"""The admin pages' forms: a person, a role at a unit, a unit, a department."""
from flask_babel import lazy_gettext as _l
from wtforms import BooleanField, PasswordField, SelectField, SelectMultipleField, StringField
from wtforms.validators import Email, InputRequired, Length, Optional, Regexp

from ..accounts.models import ROLES, UNIT_LEVELS
from ..forms import BaseForm, opts
from ..labels import ROLE_LABELS, UNIT_LEVEL_LABELS


class UserForm(BaseForm):
    username = StringField(_l("User name"), validators=[
        InputRequired(), Length(max=60),
        Regexp(r"^[A-Za-z0-9_.-]+$", message=_l("Letters, digits, dot, dash and underscore only."))])
    name = StringField(_l("Name"), validators=[InputRequired(), Length(max=60)])
    employee_no = StringField(_l("Employee number"), validators=[Optional(), Length(max=40)])
    phone = StringField(_l("Mobile phone"), validators=[
        Optional(), Regexp(r"^1[3-9]\d{9}$", message=_l("Enter an 11-digit mainland mobile number."))])
    email = StringField(_l("E-mail"), validators=[Optional(), Email(), Length(max=200)])
    unit_id = SelectField(_l("Unit"), coerce=int, validators=[InputRequired()])
    password = PasswordField(_l("Initial password"), validators=[Optional(), Length(min=10, max=200)])
    active = BooleanField(_l("Active"), default=True)


class RoleForm(BaseForm):
    role = SelectField(_l("Role"), choices=opts((r, ROLE_LABELS[r]) for r in ROLES), validators=[InputRequired()])
    unit_id = SelectField(_l("At unit"), coerce=int, validators=[InputRequired()])


class UnitForm(BaseForm):
    code = StringField(_l("Code"), validators=[InputRequired(), Length(max=40),
                                               Regexp(r"^[A-Za-z0-9_-]+$",
                                                      message=_l("Letters, digits, dash and underscore only."))])
    name = StringField(_l("Name"), validators=[InputRequired(), Length(max=100)])
    level = SelectField(_l("Level"), choices=opts((lv, UNIT_LEVEL_LABELS[lv]) for lv in UNIT_LEVELS), validators=[InputRequired()])
    parent_id = SelectField(_l("Parent unit"), coerce=int, validators=[Optional()])


class DepartmentForm(BaseForm):
    code = StringField(_l("Code"), validators=[InputRequired(), Length(max=40),
                                               Regexp(r"^[A-Za-z0-9_-]+$",
                                                      message=_l("Letters, digits, dash and underscore only."))])
    name = StringField(_l("Name"), validators=[InputRequired(), Length(max=100)])
    handlers = SelectMultipleField(_l("Handlers"), coerce=int, validators=[Optional()])
