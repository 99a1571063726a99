"""The forms a person fills in for themselves (sign-in, password, a delegation, an API token) and their
readers: the forms carry the values, core.inputs reads and checks them."""
from flask_babel import lazy_gettext as _l
from wtforms import BooleanField, PasswordField, SelectField, StringField

from ..core.inputs import Reader, record_id
from ..forms import REQUIRED, BaseForm


class LoginForm(BaseForm):
    login = StringField(_l("User name, employee number or phone"), render_kw=REQUIRED)
    password = PasswordField(_l("Password"), render_kw=REQUIRED)
    remember = BooleanField(_l("Keep me signed in"))


def read_login(data: dict) -> tuple[str, str]:
    r = Reader(data)
    login, password = r.text("login", max_len=60), r.secret("password")
    r.done()
    return login, password


def new_password(r: Reader, name: str = "password", repeat: str = "repeat") -> str | None:
    """A new password and the same typed again."""
    value = r.password(name)
    r.repeat(repeat, name, _l("The passwords differ."))
    return value


class PasswordForm(BaseForm):
    current = PasswordField(_l("Current password"), render_kw=REQUIRED)
    new = PasswordField(_l("New password"), render_kw=REQUIRED)
    repeat = PasswordField(_l("Repeat new password"), render_kw=REQUIRED)


def read_password_change(data: dict) -> tuple[str, str]:
    r = Reader(data)
    current, new = r.secret("current"), new_password(r, "new")
    r.done()
    return current, new


class DelegationForm(BaseForm):
    to_user = StringField(_l("Delegate to (user name)"), render_kw=REQUIRED)
    role = SelectField(_l("Role"), validate_choice=False, render_kw=REQUIRED)
    starts_on = StringField(_l("From"), render_kw={**REQUIRED, "type": "date"})
    ends_on = StringField(_l("Until"), render_kw={**REQUIRED, "type": "date"})


def read_delegation(data: dict, roles) -> dict:
    """A delegation of one of `roles` (the form's "role:unit id" options)."""
    r = Reader(data)
    values = {"to_user": r.text("to_user", max_len=60), "role": r.offered("role", roles),
              "starts_on": r.date("starts_on"), "ends_on": r.date("ends_on")}
    r.done()
    return values


class TokenForm(BaseForm):
    label = StringField(_l("What it is for"), description=_l("For example: finance system, my phone."))
    days = SelectField(_l("Valid for"), coerce=record_id, validate_choice=False, render_kw=REQUIRED)
    password = PasswordField(_l("Your password"), render_kw=REQUIRED,
                             description=_l("A token acts in your name until it expires, so it takes your password."))


def read_token(data: dict, days) -> dict:
    """A new token's values; its validity one of `days`."""
    r = Reader(data)
    values = {"label": r.text("label", required=False, max_len=100), "days": r.offered("days", days),
              "password": r.secret("password")}
    r.done()
    return values
