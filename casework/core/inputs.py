"""The one input reader: every transition's declared fields, every kind's create body and every form's values
are read here (web forms and the API alike), with one set of messages; errors collect per field."""
from __future__ import annotations

import re
from datetime import date

from flask_babel import gettext as _
from sqlalchemy import select

from ..accounts.models import Department, User
from ..extensions import db
from ..money import parse_money
from ..names import normalise_name
from .errors import BadRequest, Invalid

MAX_INT = 2**31 - 1  # the largest value an integer column (and so every id) holds
MAX_TEXT = 20000
_YES = ("1", "true", "yes", "on", "y")
_NO = ("0", "false", "no", "off", "n")
EMAIL_RE = re.compile(r"[^@\s]+@[^@\s.]+(\.[^@\s.]+)+")


def record_id(value) -> int | None:
    """An id as sent (a JSON number or ASCII digits); None when it is none, or larger than an id can be.
    The one id parser of pages (`request.args.get(..., type=record_id)`) and the API."""
    if isinstance(value, str) and value.strip().isascii() and value.strip().isdigit():
        if len(value.strip()) > len(str(MAX_INT)):
            return None  # int() of thousands of digits is refused by Python itself
        value = int(value)
    if type(value) is not int or not 0 < value <= MAX_INT:
        return None
    return value


def blank(value) -> bool:
    """Nothing given: absent, empty, only white space, or an empty list."""
    return value is None or value == [] or (isinstance(value, str) and not value.strip())


def split_names(value) -> list | None:
    """User names as a list or as "a, b" / "a，b" / "a b" text; None when it is neither."""
    if isinstance(value, str):
        return [v for v in value.replace("，", ",").replace(" ", ",").split(",") if v]
    return value if isinstance(value, list) else None


def active_user(name) -> User | None:
    if not isinstance(name, str):
        return None
    return db.session.scalar(select(User).where(User.username == name.strip(), User.active.is_(True)))


def department(ref) -> Department | None:
    """A department by id or by code."""
    if isinstance(ref, bool):
        return None
    if isinstance(ref, int) or (isinstance(ref, str) and ref.strip().isdigit()):
        number = record_id(ref)  # beyond an id column: no such department
        return db.session.get(Department, number) if number else None
    if isinstance(ref, str):
        return db.session.scalar(select(Department).where(Department.code == ref.strip()))
    return None


def _found(thing, message: str):
    if thing is None:
        raise ValueError(message)
    return thing


def whole_number(value, lo: int | None = None, hi: int | None = None) -> int:
    """An integer (a JSON number or digits), within [lo, hi] and what a database column holds."""
    try:
        if isinstance(value, bool):
            raise ValueError
        number = int(str(value).strip())
    except ValueError:
        raise ValueError(_("Enter a whole number.")) from None
    if (lo is not None and number < lo) or (hi is not None and number > hi):
        if hi is None:
            raise ValueError(_("Enter a number of at least %(lo)s.", lo=lo))
        if lo is None:
            raise ValueError(_("Enter a number of at most %(hi)s.", hi=hi))
        raise ValueError(_("Enter a number from %(lo)s to %(hi)s.", lo=lo, hi=hi))
    if abs(number) > MAX_INT:
        raise ValueError(_("The number is out of range."))
    return number


def iso_date(value) -> date:
    if isinstance(value, date):
        return value
    try:
        return date.fromisoformat(str(value).strip())
    except ValueError:
        raise ValueError(_("Enter a date as YYYY-MM-DD.")) from None


def yes_no(value) -> bool:
    if isinstance(value, bool):
        return value
    if str(value).lower() in _YES:
        return True
    if str(value).lower() in _NO:
        return False
    raise ValueError(_("Enter yes or no."))


def one_of(value, choices) -> str:
    if not isinstance(value, str) or value not in choices:
        raise ValueError(_("Choose one of: %(choices)s.", choices=", ".join(choices)))
    return value


def people(value, least: int | None = None) -> list[User]:
    """Distinct active people named by user name (see `split_names`), at least `least` of them."""
    names = split_names(value)
    if names is None:
        raise ValueError(_("Enter a list of user names."))
    found, missing = [], []
    for each in names:
        user = active_user(each)
        (missing.append(str(each)) if user is None else found.append(user))
    if missing:
        raise ValueError(_("No active user %(name)s.", name=", ".join(missing)))
    found = list(dict.fromkeys(found))
    if least and len(found) < least:
        raise ValueError(_("Name at least %(n)s different people.", n=least))
    return found


class Reader:
    """Reads named values from one body (a JSON object or a form's data). Each method returns the value, or
    None when it is missing or wrong, and then notes the field's message; `done` refuses them all at once."""

    def __init__(self, data: dict):
        self.data = data if isinstance(data, dict) else {}
        self.errors: dict[str, str] = {}

    def _given(self, name: str, required: bool):
        """The raw value, or None (noting "required" when it must be given)."""
        value = self.data.get(name)
        if blank(value):
            if required:
                self.errors[name] = _("This field is required.")
            return None
        return value

    def text(self, name: str, *, required: bool = True, max_len: int = MAX_TEXT) -> str:
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

    def name(self, name: str, *, required: bool = True, max_len: int = 200) -> str | None:
        """A person's name in its one stored form (casework.names)."""
        value = self.text(name, required=required, max_len=max_len)
        if name in self.errors or not value:
            return None
        value = normalise_name(value)
        if not value and required:
            self.errors[name] = _("This field is required.")
        return value or None

    def matching(self, name: str, pattern: re.Pattern, message, *, required: bool = True,
                 max_len: int = 200) -> str | None:
        """Text that `pattern` matches in full; else `message`, which says what the text may hold."""
        value = self.text(name, required=required, max_len=max_len)
        if name in self.errors or not value:
            return None
        if not pattern.fullmatch(value):
            self.errors[name] = str(message)
            return None
        return value

    def email(self, name: str, *, required: bool = True) -> str | None:
        return self.matching(name, EMAIL_RE, _("Enter an e-mail address such as name@example.com."),
                             required=required)

    def password(self, name: str, *, required: bool = True) -> str | None:
        """A new password: 10 to 200 characters, kept as typed (not stripped)."""
        value = self._given(name, required)
        if value is None:
            return None
        if not isinstance(value, str) or not 10 <= len(value) <= 200:
            self.errors[name] = _("A password has 10 to 200 characters.")
            return None
        return value

    def secret(self, name: str, *, max_len: int = 200) -> str | None:
        """A password to check against a stored one: required, kept as typed (not stripped)."""
        value = self._given(name, True)
        if value is None:
            return None
        if not isinstance(value, str) or len(value) > max_len:
            self.errors[name] = _("The text is too long (at most %(n)s characters).", n=max_len)
            return None
        return value

    def repeat(self, name: str, of: str, message) -> None:
        """`name` typed again: the same as `of`, else `message`."""
        if self._given(name, True) is not None and self.data.get(name) != self.data.get(of):
            self.errors[name] = str(message)

    def offered(self, name: str, values, *, required: bool = True):
        """One of the options a page offered (`values`, as the page sends them)."""
        def chosen(value):
            if value not in list(values):
                raise ValueError(_("Not a valid choice."))
            return value
        return self._read(name, required, chosen)

    def upload(self, name: str, *, required: bool = True):
        """An uploaded file (werkzeug's FileStorage) that has a name; None when none was chosen."""
        value = self.data.get(name)
        if not value or not getattr(value, "filename", ""):
            if required:
                self.errors[name] = _("This field is required.")
            return None
        return value

    def record(self, name: str, model, message, *, required: bool = True):
        """A row of `model` by its id; else `message`."""
        def row(value):
            number = record_id(value)
            return _found(db.session.get(model, number) if number else None, str(message))
        return self._read(name, required, row)

    def _read(self, name: str, required: bool, convert):
        """`convert` of the given value; its ValueError's message is the field's."""
        value = self._given(name, required)
        if value is None:
            return None
        try:
            return convert(value)
        except ValueError as exc:
            self.errors[name] = str(exc)
            return None

    def money(self, name: str, *, required: bool = True) -> int | None:
        return self._read(name, required, parse_money)

    def integer(self, name: str, *, required: bool = True, lo: int | None = None, hi: int | None = None):
        return self._read(name, required, lambda v: whole_number(v, lo, hi))

    def date(self, name: str, *, required: bool = True) -> date | None:
        return self._read(name, required, iso_date)

    def span(self, start: str = "from", end: str = "to", *, years: tuple[int, int] = (2000, 2100)):
        """Two optional days (start, end), each within `years`, the end not before the start."""
        days = {start: self.date(start, required=False), end: self.date(end, required=False)}
        for name, day in days.items():
            if day is not None and not years[0] <= day.year <= years[1]:
                self.errors[name] = _("Enter a date from %(lo)s to %(hi)s.", lo=f"{years[0]}-01-01",
                                      hi=f"{years[1]}-12-31")
                days[name] = None
        if days[start] and days[end] and days[end] < days[start]:
            self.errors[end] = _("The end date is before the start date.")
        return days[start], days[end]

    def boolean(self, name: str, *, required: bool = True) -> bool | None:
        return self._read(name, required, yes_no)

    def ticked(self, name: str, message) -> bool:
        """A box that must be ticked (a confirmation): anything but yes notes `message`."""
        try:
            ok = not blank(self.data.get(name)) and yes_no(self.data.get(name))
        except ValueError:
            ok = False
        if not ok:
            self.errors[name] = str(message)
        return ok

    def choice(self, name: str, choices, *, required: bool = True) -> str | None:
        return self._read(name, required, lambda v: one_of(v, choices))

    def user(self, name: str, *, required: bool = True) -> User | None:
        return self._read(name, required, lambda v: _found(active_user(v), _("No active user %(name)s.", name=v)))

    def users(self, name: str, *, required: bool = True, least: int | None = None) -> list[User] | None:
        return self._read(name, required, lambda v: people(v, least))

    def department(self, name: str, *, required: bool = True) -> Department | None:
        def active(value):
            found = department(value)
            return _found(found if found is not None and found.active else None, _("No such department."))
        return self._read(name, required, active)

    def departments(self, name: str, *, required: bool = True) -> list[Department] | None:
        def each(value):
            refs = value if isinstance(value, list) else [v for v in str(value).split(",") if v.strip()]
            return [_found(department(v), _("No such department.")) for v in refs]
        return self._read(name, required, each)

    def case(self, name: str, like, *, required: bool = True):
        """Another case of the same kind as `like` (by id)."""
        from .models import Case

        def other(value):
            number = record_id(value)
            found = db.session.get(Case, number) if number else None
            ok = found is not None and found.kind == like.kind and found.id != like.id
            return _found(found if ok else None, _("No such case to refer to."))
        return self._read(name, required, other)

    def field(self, f, subject=None):
        """One field a workflow transition declares (workflows.base.Field), read by its type."""
        name, required = f.name, f.required
        read = {
            "text": lambda: self.text(name, required=required) or None,
            "money": lambda: self.money(name, required=required),
            "int": lambda: self.integer(name, required=required, lo=f.min, hi=f.max),
            "date": lambda: self.date(name, required=required),
            "bool": lambda: self.boolean(name, required=required),
            "choice": lambda: self.choice(name, f.choices, required=required),
            "username": lambda: self.user(name, required=required),
            "usernames": lambda: self.users(name, required=required, least=f.min),
            "department": lambda: self.department(name, required=required),
            "departments": lambda: self.departments(name, required=required),
            "case": lambda: self.case(name, subject, required=required),
        }[f.type]
        return read()

    def fields(self, fields, subject=None) -> dict:
        """The values of `fields` that were given (each parsed by its type); refuses when any is wrong."""
        out = {}
        for f in fields:
            value = self.field(f, subject)
            if value is not None and f.name not in self.errors:
                out[f.name] = value
        self.done()
        return out

    def fail(self, name: str, message: str):
        self.errors[name] = message

    def done(self):
        if self.errors:
            raise Invalid(_("Please correct the marked fields."), fields=self.errors)

    def done_query(self):
        """`done` for an address's query: a wrong parameter is a malformed request (400)."""
        if self.errors:
            raise BadRequest(_("Please correct the marked parameters."), fields=self.errors)
