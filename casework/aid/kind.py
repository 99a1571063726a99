"""Aid requests as a case kind: creation and what each viewer sees."""
from __future__ import annotations

from flask_babel import gettext as _
from sqlalchemy import select

from ..accounts.models import User
from ..core import settings
from ..money import format_money
from ..core.inputs import Reader
from ..core.kinds import KindSpec, register
from ..core.permissions import roles_at
from ..extensions import db
from .models import CATEGORIES, AidRequest

PRIVATE_VIEWERS = ("union_staff", "committee", "admin")


def _parse(data: dict, user: User) -> dict:
    r = Reader(data)
    category = r.choice("category", CATEGORIES)
    amount = r.money("amount_requested")
    circumstances = r.text("circumstances", required=False)
    applicant = user
    name = data.get("applicant") if isinstance(data, dict) else None
    if name not in (None, "", user.username):
        other = db.session.scalar(select(User).where(User.username == str(name), User.active.is_(True)))
        # A group leader applies for a worker in a group they lead (代申请).
        if other is None or "group_leader" not in roles_at(user, other.unit):
            r.fail("applicant", _("You can only apply for a member of a group you lead."))
        else:
            applicant = other
    if category and amount is not None and not r.errors:
        cap = settings.get(applicant.unit, f"aid_cap_{category}")
        if amount > cap:
            r.fail("amount_requested", _("The amount is above this category's cap of %(cap)s yuan.",
                                         cap=format_money(cap)))
        elif amount == 0:
            r.fail("amount_requested", _("The amount must be more than zero."))
    r.done()
    return {"category": category, "amount_requested": amount, "circumstances": circumstances,
            "_applicant": applicant}


def _owner(values: dict, user: User):
    applicant = values.pop("_applicant")
    return applicant.unit, applicant


def sees_private(case: AidRequest, viewer: User) -> bool:
    if viewer.id in (case.applicant_id, case.created_by_id):
        return True
    held = roles_at(viewer, case.unit)
    return any(r in held for r in PRIVATE_VIEWERS)


def _fields(case: AidRequest, viewer: User) -> dict:
    out = {"category": case.category, "amount_requested": format_money(case.amount_requested),
           "amount_proposed": format_money(case.amount_proposed),
           "amount_approved": format_money(case.amount_approved),
           "applicant_name": case.applicant.name}
    if sees_private(case, viewer):
        out["circumstances"] = case.circumstances
        out["details"] = case.details or {}
    return out


def _title(values: dict) -> str:
    return values["category"]


SPEC = register(KindSpec(kind="aid", model=AidRequest, parse=_parse, fields=_fields, owner=_owner,
                         title=_title))
