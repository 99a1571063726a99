"""The forms a person fills in for themselves: sign-in, password, a delegation, an API token."""
from flask_babel import lazy_gettext as _l
from wtforms import BooleanField, DateField, PasswordField, SelectField, StringField
from wtforms.validators import EqualTo, InputRequired, Length, Optional

from ..forms import BaseForm


class LoginForm(BaseForm):
    login = StringField(_l("User name, employee number or phone"), validators=[InputRequired(), Length(max=60)])
    password = PasswordField(_l("Password"), validators=[InputRequired(), Length(max=200)])
    remember = BooleanField(_l("Keep me signed in"))


class PasswordForm(BaseForm):
    current = PasswordField(_l("Current password"), validators=[InputRequired()])
    new = PasswordField(_l("New password"), validators=[InputRequired(), Length(min=10, max=200)])
    repeat = PasswordField(_l("Repeat new password"),
                           validators=[InputRequired(), EqualTo("new", _l("The passwords differ."))])


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
