"""Register API: a household file's audit trail (API.md "Decisions, delegations, relatives")."""
from __future__ import annotations

from flask_babel import gettext as _

from ..api.base import make_blueprint, subject_audit, user
from ..api.schemas import AuditList
from ..core.errors import NotFound
from ..extensions import db
from . import operations
from .models import Household

bp = make_blueprint("register_api", __name__, tag="register")


@bp.get("/register/<int:household_id>/audit")
@bp.output(AuditList)
@bp.doc(summary="A household file's audit trail (proposal, votes, re-checks) with the hash chain's state")
def audit(household_id: int):
    household = db.session.get(Household, household_id)
    if household is None or not operations.can_view(user(), household):
        raise NotFound(_("No such household."))
    return subject_audit(household)
