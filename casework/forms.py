"""The one form base: CSRF from Flask-WTF, messages in the user's language, engine errors mapped back."""
from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (BooleanField, DateField, HiddenField, IntegerField, SelectField,
                     SelectMultipleField, StringField, TextAreaField)
from wtforms.fields.choices import SelectChoice
from wtforms.validators import InputRequired, NumberRange, Optional

from .core.errors import CaseworkError


class BaseForm(FlaskForm):
    class Meta:
        # CSRFProtect checks every POST app-wide (one token per session); forms need no field of their own.
        csrf = False

    def absorb(self, error: CaseworkError) -> None:
        """Show an engine or operation refusal on the fields it names, else on the form."""
        placed = False
        for name, message in (error.fields or {}).items():
            field = getattr(self, name, None)
            if field is not None and hasattr(field, "errors"):
                field.errors = list(field.errors or []) + [str(message)]
                placed = True
        if not placed or not error.fields:
            self.form_errors.append(str(error.message))

    def data_for_engine(self) -> dict:
        return {name: field.data for name, field in self._fields.items()
                if name not in ("csrf_token", "version", "comment", "submit")}


def transition_form(transition, *, departments=(), prefix: str = "") -> BaseForm:
    """A form for one workflow transition, built from its field specs."""
    attrs = {"version": HiddenField(), "comment": TextAreaField(_l("Comment"), validators=[Optional()])}
    for f in transition.fields:
        label = field_label(f.name)
        required = [InputRequired()] if f.required else [Optional()]
        if f.type == "text":
            attrs[f.name] = TextAreaField(label, validators=required)
        elif f.type == "money":
            attrs[f.name] = StringField(label, validators=required, render_kw={"inputmode": "decimal",
                                                                           "placeholder": "0.00"})
        elif f.type == "date":
            attrs[f.name] = DateField(label, validators=required)
        elif f.type == "int":
            attrs[f.name] = IntegerField(label, validators=required + [NumberRange(f.min, f.max)])
        elif f.type == "bool":
            attrs[f.name] = BooleanField(label)
        elif f.type == "choice":
            # An optional choice starts blank: nothing is chosen for the person.
            blank = [] if f.required else [("", "—")]
            attrs[f.name] = SelectField(label, choices=opts([*blank, *((c, choice_label(c)) for c in f.choices)]),
                                        validators=required)
        elif f.type == "department":
            attrs[f.name] = SelectField(label, choices=opts((str(d.id), d.name) for d in departments),
                                        validators=required)
        elif f.type == "departments":
            attrs[f.name] = SelectMultipleField(label, choices=opts((str(d.id), d.name) for d in departments),
                                                validators=[Optional()])
        elif f.type in ("usernames", "username"):
            attrs[f.name] = StringField(label, validators=required,
                                        description=_l("User names, separated by commas"))
        elif f.type == "case":
            attrs[f.name] = IntegerField(label, validators=required)
    cls = type(f"Form_{transition.trigger}", (BaseForm,), attrs)
    return cls(prefix=prefix)


def opts(pairs) -> list[SelectChoice]:
    """(value, label) pairs as select options."""
    return [SelectChoice(value, label) for value, label in pairs]


def field_label(name: str):
    from .labels import FIELD_LABELS
    return FIELD_LABELS.get(name, name)


def choice_label(value: str):
    from .labels import CHOICE_LABELS
    return CHOICE_LABELS.get(value, value)


def submit_and_flash(form, action, done) -> None:
    """A small form posted from a page that redirects back: runs `action` when the form is valid, commits and
    flashes `done`; otherwise rolls back and flashes each refusal or field error, so the page shows why."""
    from flask import flash

    from .extensions import db
    if not form.validate_on_submit():
        for errors in form.errors.values():
            for e in errors:
                flash(str(e), "error")
        return
    try:
        action()
        db.session.commit()
        flash(str(done), "success")
    except CaseworkError as exc:
        db.session.rollback()
        for message in [exc.message, *(exc.fields or {}).values()]:
            flash(str(message), "error")
