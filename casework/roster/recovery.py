"""Forgotten passwords, with the activation codes' one mechanism (roster_activations): with SMTP configured, a
one-time link by e-mail (an hour, kept as its SHA-256); otherwise the union staff of the person's unit issue a
one-time code that the person enters on the activation page. Every issue and use goes on the "accounts" chain
of the reads log."""
from __future__ import annotations

from datetime import timedelta

from flask import abort, flash, redirect, render_template, url_for
from flask_babel import force_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required
from wtforms import PasswordField, StringField

from ..accounts.forms import new_password
from ..accounts.models import find_login
from ..config import public_url
from ..core.permissions import has_role
from ..extensions import db, limited
from ..core.inputs import Reader
from ..forms import REQUIRED, BaseForm
from ..notifications.models import mail_enabled, mail_only
from ..ops.logs import log_event
from ..privacy.access import note_account
from .operations import reissue, reset_link_token, reset_with_token
from .views import bp

LINK_LIFETIME = timedelta(hours=1)
CODE_LIFETIME = timedelta(days=3)
MEMBER_ROLES = ("worker", "representative", "group_leader")  # the accounts union staff may give a code to


class ForgotForm(BaseForm):
    login = StringField(_l("Employee number, mobile phone or user name"), render_kw=REQUIRED)


class NewPasswordForm(BaseForm):
    password = PasswordField(_l("New password"), render_kw=REQUIRED)
    repeat = PasswordField(_l("Repeat new password"), render_kw=REQUIRED)


class ResetCodeForm(BaseForm):
    login = StringField(_l("The person's employee number, mobile phone or user name"), render_kw=REQUIRED)


def read_login(data: dict) -> str:
    """The employee number, phone or user name a person is found by."""
    r = Reader(data)
    login = r.text("login", max_len=60)
    r.done()
    return login


def read_new_password(data: dict) -> str:
    r = Reader(data)
    password = new_password(r)
    r.done()
    return password


@bp.route("/login/forgot", methods=["GET", "POST"])
@limited("sign-in", methods=["POST"])
def forgot():
    by_mail = mail_enabled()
    form = ForgotForm() if by_mail else None
    if form is not None and form.is_submitted() and (login := form.read(read_login)) is not None:
        user = find_login(login)
        if user is not None and user.active and user.email:
            token = reset_link_token(user, LINK_LIFETIME)
            with force_locale("zh"):  # the union's mail is Chinese, whatever the page's language
                mail_only(user, _("Reset your password"), _(
                    "Someone (we hope it was you) asked to reset your password for the union casework system.\n"
                    "Open the link below within an hour to choose a new password; it works once:\n%(link)s\n"
                    "If it was not you, ignore this e-mail: your password does not change.",
                    link=public_url(url_for("roster.reset_password", token=token))))
            note_account(None, user, "reset link e-mailed")
            db.session.commit()
        log_event("password_reset_requested", known=user is not None)
        # One answer whether the account exists, has an address or not: nobody learns who is registered.
        flash(_("If this account has an e-mail address, a link to choose a new password is on its way. It "
                "works once, within an hour. No e-mail? Ask the union staff of your unit for a reset code."),
              "info")
        return redirect(url_for("roster.forgot"))
    status = 422 if form is not None and form.errors else 200
    return render_template("roster/forgot.html", form=form, by_mail=by_mail), status


@bp.route("/login/reset/<token>", methods=["GET", "POST"])
@limited("sign-in", methods=["POST"])
def reset_password(token: str):
    form = NewPasswordForm()
    if form.is_submitted() and (password := form.read(read_new_password)) is not None:
        user = reset_with_token(token, password)
        if user is None:
            db.session.rollback()
            form.form_errors.append(_("This link has been used already or has expired. Ask for a new one."))
        else:
            note_account(None, user, "password set with an e-mailed link")
            db.session.commit()
            flash(_("Your new password is set. Sign in with it."), "success")
            return redirect(url_for("accounts.login"))
    status = 422 if form.errors or form.form_errors else 200
    return render_template("roster/reset.html", form=form, token=token), status


@bp.route("/staff/reset-code", methods=["GET", "POST"])
@login_required
def reset_code():
    """Union staff give a person who forgot their password a one-time code, shown here once."""
    if not (has_role(current_user, "union_staff") or has_role(current_user, "admin")):
        abort(403)
    form, issued = ResetCodeForm(), None
    if form.is_submitted() and (login := form.read(read_login)) is not None:
        person = find_login(login)
        if person is None or not person.active or not (
                has_role(current_user, "union_staff", person.unit) or has_role(current_user, "admin")):
            form.form_errors.append(_("No active member of your units with this employee number, phone or "
                                      "user name."))
        elif not has_role(current_user, "admin") and any(a.role not in MEMBER_ROLES for a in person.roles):
            # A code signs in as that person: staff must not take over a reviewer's or an admin's account.
            form.form_errors.append(_("Only an administrator can give a code to someone who holds a reviewing "
                                      "or administrative role."))
        else:
            code = reissue(person, printable=False, lifetime=CODE_LIFETIME)
            note_account(current_user, person, "reset code issued")
            db.session.commit()
            issued = (person, code)
    status = 422 if form.errors or form.form_errors else 200
    return render_template("roster/reset_code.html", form=form, issued=issued,
                           days=CODE_LIFETIME.days), status


__all__ = ["forgot", "reset_password", "reset_code"]
