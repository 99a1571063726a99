"""The one form base (pages' forms carry values; core.inputs reads and checks them), the forms built from a
transition's declared fields, and refusals mapped back onto the fields they name."""
from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, HiddenField, SelectField, SelectMultipleField, StringField, TextAreaField
from wtforms.fields.choices import SelectChoice

from .core.errors import CaseworkError
from .core.inputs import Reader

# What the browser is told to check before sending; the server's check is the reader's.
REQUIRED = {"required": True}


class BaseForm(FlaskForm):
    class Meta:
        # CSRFProtect checks every POST app-wide (one token per session); forms need no field of their own.
        csrf = False

    def absorb(self, error: CaseworkError) -> None:
        """Show an engine or operation refusal on the fields it names, else (and what names no field of
        this form) on the form."""
        placed, elsewhere = False, []
        for name, message in (error.fields or {}).items():
            field = getattr(self, name, None)
            if field is not None and hasattr(field, "errors"):
                field.errors = list(field.errors or []) + [str(message)]
                placed = True
            else:
                elsewhere.append(str(message))
        if not placed or not error.fields:
            self.form_errors.append(str(error.message))
        self.form_errors.extend(elsewhere)

    def commit(self, action):
        """Runs `action` and commits once, giving back what it returned (something, not None); a refusal is
        rolled back and shown on the form's fields instead, and gives None."""
        done, value = committed(action, self.absorb)
        return value if done else None

    def read(self, reader, *args, **kw):
        """What `reader` (a function that reads this form's values with core.inputs' Reader) gives back; None
        when it refuses, with its messages on the fields it names."""
        try:
            return reader({name: field.data for name, field in self._fields.items()}, *args, **kw)
        except CaseworkError as exc:
            self.absorb(exc)
            return None

    def confirmed(self) -> bool:
        """False, with the message on the box, when the form asks to confirm an irreversible step and the box
        is not ticked (the page's own question: an API call is explicit already)."""
        return "confirm" not in self._fields or self.read(_ticked) is not None

    def data_for_engine(self) -> dict:
        return {name: field.data for name, field in self._fields.items()
                if name not in ("csrf_token", "version", "comment", "submit", "confirm")}


def transition_form(transition, *, departments=(), prefix: str = "") -> BaseForm:
    """A form for one workflow transition, built from its field specs. It only carries the values: the
    engine reads them with the same reader as the API (core.inputs), so both say the same of a bad value."""
    attrs = {"version": HiddenField(), "comment": TextAreaField(_l("Comment"))}
    for f in transition.fields:
        if f.api_only:
            continue
        label = field_label(f.name)
        kw = {"required": True} if f.required else {}
        if f.type == "text":
            attrs[f.name] = TextAreaField(label, render_kw=kw)
        elif f.type == "money":
            attrs[f.name] = StringField(label, render_kw={**kw, "inputmode": "decimal", "placeholder": "0.00"})
        elif f.type == "date":
            attrs[f.name] = StringField(label, render_kw={**kw, "type": "date"})
        elif f.type in ("int", "case"):
            bounds = {k: v for k, v in (("min", f.min), ("max", f.max)) if v is not None and f.type == "int"}
            attrs[f.name] = StringField(label, render_kw={**kw, **bounds, "inputmode": "numeric"})
        elif f.type == "bool":
            attrs[f.name] = BooleanField(label)
        elif f.type == "choice":
            # An optional choice starts blank: nothing is chosen for the person.
            blank = [] if f.required else [("", "—")]
            attrs[f.name] = SelectField(label, choices=opts([*blank, *((c, choice_label(c)) for c in f.choices)]),
                                        validate_choice=False, render_kw=kw)
        elif f.type == "department":
            attrs[f.name] = SelectField(label, choices=opts((str(d.id), d.name) for d in departments),
                                        validate_choice=False, render_kw=kw)
        elif f.type == "departments":
            attrs[f.name] = SelectMultipleField(label, choices=opts((str(d.id), d.name) for d in departments),
                                                validate_choice=False)
        elif f.type in ("usernames", "username"):
            attrs[f.name] = StringField(label, render_kw=kw, description=_l("User names, separated by commas"))
    if transition.irreversible:
        # Rendered last, right above the button; without it ticked the step does not fire.
        attrs["confirm"] = BooleanField(_l("I confirm: this step cannot be undone"), render_kw=REQUIRED)
    cls = type(f"Form_{transition.trigger}", (BaseForm,), attrs)
    return cls(prefix=prefix)


def _ticked(values: dict) -> bool:
    reader = Reader(values)
    reader.ticked("confirm", _l("Tick the box to confirm: this step cannot be undone."))
    reader.done()
    return True


def opts(pairs) -> list[SelectChoice]:
    """(value, label) pairs as select options."""
    return [SelectChoice(value, label) for value, label in pairs]


def field_label(name: str):
    from .labels import FIELD_LABELS
    return FIELD_LABELS.get(name, name)


def choice_label(value: str):
    from .labels import CHOICE_LABELS
    return CHOICE_LABELS.get(value, value)


def committed(action, refused=None) -> tuple[bool, object]:
    """Runs `action` and commits once: (True, what it returned). A refusal (CaseworkError) is rolled back and
    handed to `refused` (by default flashed as an error for the page redirected to): (False, None)."""
    from flask import flash

    from .extensions import db
    try:
        value = action()
        db.session.commit()
    except CaseworkError as exc:
        db.session.rollback()
        (refused or (lambda e: flash(str(e.message), "error")))(exc)
        return False, None
    return True, value


def commit_and_return(action, done, back: str):
    """A button that changes one thing and returns to its page: commits `action` once, flashes `done` (or the
    refusal) and redirects to `back`."""
    from flask import flash, redirect
    if committed(action)[0]:
        flash(str(done), "success")
    return redirect(back)


def submit_and_flash(form, reader, action, done) -> None:
    """A small form posted from a page that redirects back: runs `action` with what `reader` read of the form
    (see `BaseForm.read`), commits and flashes `done`; otherwise rolls back and flashes each refusal or field
    error, so the page shows why."""
    from flask import flash
    values = form.read(reader) if form.is_submitted() else None
    if values is None:
        for errors in form.errors.values():
            for e in errors:
                flash(str(e), "error")
        return

    def refused(exc):
        for message in [exc.message, *(exc.fields or {}).values()]:
            flash(str(message), "error")
    if committed(lambda: action(values), refused)[0]:
        flash(str(done), "success")
