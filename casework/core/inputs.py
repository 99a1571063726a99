"""Field readers shared by every kind's create form and API body; errors collect per field."""
from __future__ import annotations

from flask_babel import gettext as _

from ..money import parse_money
from .errors import Invalid

MAX_INT = 2**31 - 1  # the largest value an integer column (and so every id) holds


def record_id(value) -> int | None:
    """An id as sent (a JSON number or ASCII digits); None when it is none, or larger than an id can be."""
    if isinstance(value, str) and value.strip().isascii() and value.strip().isdigit():
        if len(value.strip()) > len(str(MAX_INT)):
            return None  # int() of thousands of digits is refused by Python itself
        value = int(value)
    if type(value) is not int or not 0 < value <= MAX_INT:
        return None
    return value


class Reader:
    def __init__(self, data: dict):
        self.data = data if isinstance(data, dict) else {}
        self.errors: dict[str, str] = {}

    def text(self, name: str, *, required: bool = True, max_len: int = 20000) -> str:
        value = self.data.get(name)
        if value is None:
            value = ""
        if not isinstance(value, str):
            self.errors[name] = _("Enter text.")
            return ""
        value = value.strip()
        if required and not value:
            self.errors[name] = _("This field is required.")
        elif len(value) > max_len:
            self.errors[name] = _("The text is too long (at most %(n)s characters).", n=max_len)
        return value

    def money(self, name: str, *, required: bool = True) -> int | None:
        value = self.data.get(name)
        if value is None or (isinstance(value, str) and not value.strip()):
            if required:
                self.errors[name] = _("This field is required.")
            return None
        try:
            return parse_money(value)
        except ValueError as exc:
            self.errors[name] = str(exc)
            return None

    def integer(self, name: str, *, required: bool = True, lo: int | None = None, hi: int | None = None):
        value = self.data.get(name)
        if value in (None, ""):
            if required:
                self.errors[name] = _("This field is required.")
            return None
        try:
            if isinstance(value, bool):
                raise ValueError
            number = int(str(value).strip())
        except ValueError:
            self.errors[name] = _("Enter a whole number.")
            return None
        if (lo is not None and number < lo) or (hi is not None and number > hi):
            self.errors[name] = _("Enter a number from %(lo)s to %(hi)s.", lo=lo, hi=hi)
            return None
        if abs(number) > MAX_INT:  # beyond what a database integer column holds
            self.errors[name] = _("The number is out of range.")
            return None
        return number

    def choice(self, name: str, choices, *, required: bool = True) -> str | None:
        value = self.data.get(name)
        if value in (None, ""):
            if required:
                self.errors[name] = _("This field is required.")
            return None
        if not isinstance(value, str) or value not in choices:
            self.errors[name] = _("Choose one of: %(choices)s.", choices=", ".join(choices))
            return None
        return value

    def fail(self, name: str, message: str):
        self.errors[name] = message

    def done(self):
        if self.errors:
            raise Invalid(_("Please correct the marked fields."), fields=self.errors)
