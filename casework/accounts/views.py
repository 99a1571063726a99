"""A person's own pages: sign-in, sign-out, password, their delegations and API tokens.

The admin pages (people, roles, units, departments, settings, calendar) are casework/admin.
"""
from __future__ import annotations

from flask import (Blueprint, abort, flash, g, make_response, redirect, render_template, request, session,
                   url_for)
from flask_babel import gettext as _, ngettext
from flask_login import current_user, login_required, login_user, logout_user
from urllib.parse import urlsplit

from ..clock import today
from ..extensions import db, limited, login_manager
from ..forms import opts, submit_and_flash
from ..labels import ROLE_LABELS
from ..core.errors import CaseworkError
from ..core import tenancy
from . import auth, delegations as delegation_ops, relatives as relative_ops
from .forms import (DelegationForm, LoginForm, PasswordForm, TokenForm, read_delegation, read_login,
                    read_password_change, read_token)
from .models import User

bp = Blueprint("accounts", __name__)

@login_manager.user_loader
def _load_user(ident: str):
    try:
        user_id, epoch = (int(x) for x in ident.split(":"))
    except ValueError:
        return None
    with tenancy.identifying():
        user = db.session.get(User, user_id)
    if user is None or user.session_epoch != epoch or not user.active:
        return None
    g.log_username = user.username
    return user


login_manager.login_view = "accounts.login"
login_manager.login_message = None


def _safe_next(target: str | None) -> str:
    if target and not urlsplit(target).netloc and target.startswith("/") and not target.startswith("//"):
        return target
    return url_for("web.home")


@bp.route("/login", methods=["GET", "POST"])
@limited("sign-in", methods=["POST"])
def login():
    if current_user.is_authenticated:
        return redirect(url_for("web.home"))
    form = LoginForm()
    if form.is_submitted() and (given := form.read(read_login)) is not None:
        tried = auth.attempt(*given)
        if not tried.ok:
            # One answer for an unknown user, a wrong password and an address that must wait.
            form.form_errors.append(auth.refusal())
        else:
            user = tried.user
            lang = session.get("lang")
            session.clear()  # a fresh session at sign-in: no fixation
            if lang:
                session["lang"] = lang
            login_user(user, remember=form.remember.data)
            g.log_username = user.username
            return redirect(_safe_next(request.args.get("next")))
    return render_template("accounts/login.html", form=form), 200 if request.method == "GET" or \
        not form.errors and not form.form_errors else 422


@bp.route("/logout", methods=["POST"])
def logout():
    if current_user.is_authenticated:
        # Sessions live in signed cookies: a copy kept from before would still sign in, so every
        # session of this user ends here.
        current_user.session_epoch += 1
        db.session.commit()
    logout_user()
    session.clear()
    flash(_("You have signed out."), "info")
    return redirect(url_for("accounts.login"))


@bp.route("/account", methods=["GET", "POST"])
@login_required
def account():
    form = PasswordForm()
    if form.is_submitted() and (given := form.read(read_password_change)) is not None:
        current, new = given
        if not current_user.check_password(current):
            form.current.errors = [_("The current password is wrong.")]
        else:
            user = current_user._get_current_object()
            user.set_password(new)
            user.session_epoch += 1  # other sessions end
            revoked = auth.revoke_all(user)  # a new password is the answer to a suspected leak: tokens too
            db.session.commit()
            login_user(user)
            flash(_("Your password has been changed."), "success")
            if revoked:
                flash(ngettext("%(num)d API token was revoked with it.", "%(num)d API tokens were revoked with it.",
                               revoked), "info")
            return redirect(url_for("accounts.account"))
    from .mine import relative_form
    return render_template("accounts/account.html", form=form, dform=_delegation_form(current_user),
                           delegations=delegation_ops.given_and_received(current_user),
                           relatives=relative_ops.declared_by(current_user), rform=relative_form(),
                           today=today())


def _delegation_form(user: User) -> DelegationForm:
    form = DelegationForm(prefix="d")
    form.role.choices = opts((f"{a.role}:{a.unit_id}", f"{ROLE_LABELS[a.role]} @ {a.unit.name}")
                             for a in user.roles if a.role not in ("worker", "representative"))
    return form


@bp.route("/account/delegations", methods=["POST"])
@login_required
def add_delegation():
    form = _delegation_form(current_user)

    def delegate(values):
        role, unit_id = values["role"].split(":")
        delegation_ops.delegate(current_user, values["to_user"], role, unit_id, values["starts_on"],
                                values["ends_on"])

    roles = [c.value for c in form.role.choices]
    submit_and_flash(form, lambda data: read_delegation(data, roles), delegate, _("Delegation saved."))
    return redirect(url_for("accounts.account"))


@bp.route("/account/delegations/<int:delegation_id>/end", methods=["POST"])
@login_required
def end_delegation(delegation_id: int):
    try:
        delegation_ops.end(delegation_id, current_user)
    except CaseworkError:
        abort(404)
    db.session.commit()
    flash(_("Delegation ended."), "success")
    return redirect(url_for("accounts.account"))


def _token_form() -> TokenForm:
    form = TokenForm(prefix="t")
    form.days.choices = [(d, ngettext("%(num)d day", "%(num)d days", d)) for d in auth.validity_choices()]
    if form.days.data is None and not form.is_submitted():
        form.days.data = auth.max_days()
    return form


@bp.route("/account/tokens", methods=["GET", "POST"])
@login_required
def tokens():
    """API tokens for other systems: made here, shown once, revocable; only their hash is kept."""
    form = _token_form()
    secret = new_row = None
    status = 200
    if request.method == "POST":
        values = form.read(read_token, auth.validity_choices())
        if values is None:
            status = 422
        elif not current_user.check_password(values["password"]):
            # A token outlives the session: someone at an unlocked desk must not be able to make one.
            form.password.errors = [_("The current password is wrong.")]
            status = 422
        else:
            secret, new_row = auth.issue(current_user, values["label"], values["days"])
            db.session.commit()
            form.label.data = ""  # the form is for the next token
    # The secret is rendered into this one response only: never flashed (the session is a cookie), never
    # kept by a cache.
    response = make_response(render_template("accounts/tokens.html", form=form, tokens=auth.owned(current_user),
                                             secret=secret, new_row=new_row, usable=auth.is_usable), status)
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.route("/account/tokens/<int:token_id>/revoke", methods=["POST"])
@login_required
def revoke_token(token_id: int):
    row = auth.find_owned(current_user, token_id)
    if row is None:
        abort(404)
    auth.revoke(row)
    db.session.commit()
    flash(_("Token “%(label)s” revoked: it no longer works.", label=row.label or row.id), "success")
    return redirect(url_for("accounts.tokens"))


@bp.route("/account/tokens/revoke-all", methods=["POST"])
@login_required
def revoke_all_tokens():
    n = auth.revoke_all(current_user)
    db.session.commit()
    flash(ngettext("%(num)d token revoked.", "%(num)d tokens revoked.", n), "success")
    return redirect(url_for("accounts.tokens"))


def register(app):
    app.register_blueprint(bp)
