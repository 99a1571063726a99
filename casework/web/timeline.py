"""A case timeline's inputs as people read them: each value by the type its step declares (workflows/),
in words from the one vocabulary (casework/labels.py) and the union's records, never as a stored code.

Money is kept in fen, departments by code, people by user name, choices by code: the page shows yuan,
the department's name, people's names and the choice's label. A value cleared at anonymisation reads as such.
"""
from __future__ import annotations

from flask_babel import gettext as _
from sqlalchemy import select

import workflows

from ..accounts.models import Department, User
from ..core.models import Case
from ..core.redaction import shown
from ..extensions import db
from ..labels import CHOICE_LABELS, YES_NO

_PEOPLE = ("usernames", "username")
_DEPARTMENTS = ("department", "departments")


def field_types(kind: str) -> dict[tuple[str, str], str]:
    """(trigger, input name) -> the field type the workflow declares for it."""
    return {(t.trigger, f.name): f.type for t in workflows.get(kind).transitions for f in t.fields}


def _items(value) -> list:
    return list(value) if isinstance(value, (list, tuple)) else [value]


class Reader:
    """Renders the inputs of a case's entries; looks up the people, departments and cases they name at once."""

    def __init__(self, kind: str, entries):
        self.types = field_types(kind)
        wanted: dict[str, set] = {"people": set(), "departments": set(), "cases": set()}
        for e in entries:
            for name, value in ((e.changes or {}).get("inputs") or {}).items():
                kind_of = self.types.get((e.trigger, name))
                key = ("people" if kind_of in _PEOPLE else "departments" if kind_of in _DEPARTMENTS
                       else "cases" if kind_of == "case" else None)
                if key:
                    wanted[key] |= {v for v in _items(value) if isinstance(v, (str, int)) and v != ""}
        self.people = dict(db.session.execute(select(User.username, User.name).where(
            User.username.in_([str(v) for v in wanted["people"]]))).all()) if wanted["people"] else {}
        self.departments = dict(db.session.execute(select(Department.code, Department.name).where(
            Department.code.in_([str(v) for v in wanted["departments"]]))).all()) if wanted["departments"] else {}
        ids = [int(v) for v in wanted["cases"] if str(v).isdigit()]
        self.cases = {str(i): n for i, n in db.session.execute(
            select(Case.id, Case.number).where(Case.id.in_(ids))).all()} if ids else {}

    def text(self, value) -> str:
        """A free text of an entry (its comment), or the note that it was cleared."""
        return shown(value, _("(deleted when the request was anonymised)")) if isinstance(value, str) else value

    def value(self, trigger: str, name: str, value) -> str:
        kind_of = self.types.get((trigger, name))
        if kind_of == "money" and isinstance(value, int) and not isinstance(value, bool):
            return f"¥{value / 100:,.2f}"
        if kind_of == "bool" or isinstance(value, bool):
            return str(YES_NO.get(bool(value) if value is not None else None, value))
        words = [self._word(kind_of, v) for v in _items(value)]
        return "、".join(w for w in words if w)

    def _word(self, kind_of: str | None, v) -> str:
        if v is None:
            return ""
        if not isinstance(v, str):
            v = str(v)
        v = shown(v, _("(deleted when the request was anonymised)"))
        if kind_of in _PEOPLE:
            return self.people.get(v, v)
        if kind_of in _DEPARTMENTS:
            return self.departments.get(v, v)
        if kind_of == "case":
            return self.cases.get(v, v)
        if kind_of == "choice" or (kind_of is None and v in CHOICE_LABELS):
            return str(CHOICE_LABELS.get(v, v))
        return v
