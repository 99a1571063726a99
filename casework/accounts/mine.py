"""The account page's own parts besides sign-in: my declared relatives (亲属回避), and the JSON API for
relatives and delegations (API.md "Decisions, delegations, relatives")."""
from __future__ import annotations

from flask import Blueprint, Flask, redirect, request, url_for
from flask_babel import gettext as _, lazy_gettext as _l
from flask_login import current_user, login_required
from wtforms import SelectField, StringField

from ..core.errors import CaseworkError
from ..core.inputs import Reader
from ..forms import REQUIRED, BaseForm, commit_and_return, opts, submit_and_flash
from . import relatives
from .models import RELATIONS, find_login

bp = Blueprint("mine", __name__)

RELATION_LABELS = {"spouse": _l("Spouse"), "parent": _l("Parent"), "child": _l("Child"), "sibling": _l("Sibling"),
                   "grandparent": _l("Grandparent"), "grandchild": _l("Grandchild"), "in_law": _l("In-law"),
                   "other": _l("Other relative")}


class RelativeForm(BaseForm):
    person = StringField(_l("Relative (user name or employee number)"), render_kw=REQUIRED)
    relation = SelectField(_l("Relation"), choices=opts((r, RELATION_LABELS[r]) for r in RELATIONS),
                           validate_choice=False, render_kw=REQUIRED)
    of = StringField(_l("For member (union staff only; empty: yourself)"))


def read_relative(data: dict) -> dict:
    r = Reader(data)
    values = {"person": r.text("person", max_len=60), "relation": r.offered("relation", RELATIONS),
              "of": r.text("of", required=False, max_len=60)}
    r.done()
    return values


def relative_form() -> RelativeForm:
    return RelativeForm(prefix="r")


@bp.route("/account/relatives", methods=["POST"])
@login_required
def add_relative():
    form = relative_form()

    def declare(values):
        owner = find_login(values["of"]) if values["of"] else current_user._get_current_object()
        if owner is None:
            raise CaseworkError(_("No active member with this user name, employee number or phone."))
        relatives.declare(owner, values["person"], values["relation"], current_user)

    submit_and_flash(form, read_relative, declare, _("Relative recorded: you will not review their cases."))
    return redirect(url_for("accounts.account"))


@bp.route("/account/relatives/<int:relative_id>/remove", methods=["POST"])
@login_required
def remove_relative(relative_id: int):
    return commit_and_return(lambda: relatives.remove(relative_id, current_user), _("Relative removed."),
                             request.referrer if request.referrer and request.referrer.startswith(request.host_url)
                             else url_for("accounts.account"))


def register(app: Flask):
    from . import api  # noqa: F401  (its API blueprint joins the API's)
    app.jinja_env.globals.setdefault("RELATION_LABELS", RELATION_LABELS)
    app.register_blueprint(bp)
