"""The one check in front of every admin page: signed in and an administrator, else 403."""
from __future__ import annotations

from functools import wraps

from flask import abort
from flask_login import current_user, login_required

from ..core.permissions import has_role


def admin_required(view):
    @wraps(view)
    @login_required
    def wrapped(*args, **kwargs):
        if not has_role(current_user, "admin"):
            abort(403)
        return view(*args, **kwargs)
    return wrapped
