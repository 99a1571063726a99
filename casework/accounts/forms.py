from flask_babel import lazy_gettext as _l
from wtforms import (BooleanField, DateField, PasswordField, SelectField, SelectMultipleField, StringField)
from wtforms.validators import Email, EqualTo, InputRequired, Length, Optional, Regexp

from ..forms import BaseForm, opts
from ..labels import ROLE_LABELS, UNIT_LEVEL_LABELS
from .models import ROLES, UNIT_LEVELS


class LoginForm(BaseForm):
    login = StringField(_l("User name, employee number or phone"), validators=[InputRequired(), Length(max=60)])
    password = PasswordField(_l("Password"), validators=[InputRequired(), Length(max=200)])
    remember = BooleanField(_l("Keep me signed in"))


class PasswordForm(BaseForm):
    current = PasswordField(_l("Current password"), validators=[InputRequired()])
    new = PasswordField(_l("New password"), validators=[InputRequired(), Length(min=10, max=200)])
    repeat = PasswordField(_l("Repeat new password"),
                           validators=[InputRequired(), EqualTo("new", _l("The passwords differ."))])


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


class DelegationForm(BaseForm):
    to_user = StringField(_l("Delegate to (user name)"), validators=[InputRequired(), Length(max=60)])
    role = SelectField(_l("Role"), validators=[InputRequired()])
    starts_on = DateField(_l("From"), validators=[InputRequired()])
    ends_on = DateField(_l("Until"), validators=[InputRequired()])


class TokenForm(BaseForm):
    label = StringField(_l("What it is for"), validators=[Optional(), Length(max=100)],
                        description=_l("For example: finance system, my phone."))
    days = SelectField(_l("Valid for"), coerce=int, validators=[InputRequired()])
    password = PasswordField(_l("Your password"), validators=[InputRequired(), Length(max=200)],
                             description=_l("A token acts in your name until it expires, so it takes your password."))
