"""The aid guard of the register: categories that a unit marks `aid_requires_register_<category>` take
requests only from workers whose household is registered.

A plain function, not a guard of its own: the aid submit guard (`required_documents`, run by both submit and
resubmit) calls it:

    from ..register.rules import check_aid_register
    ...
    if (refusal := check_aid_register(step)): return refusal
"""
from __future__ import annotations

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from ..aid.models import CATEGORIES
from ..core import settings
from ..labels import CHOICE_LABELS
from .operations import has_registered_household

for _category in CATEGORIES:
    settings.declare(f"aid_requires_register_{_category}", False, "flag",
                     _l("Aid requests of the category “%(category)s” need a household in the hardship register.",
                        category=CHOICE_LABELS[_category]))


def requires_register(unit, category: str | None) -> bool:
    return bool(category) and bool(settings.get(unit, f"aid_requires_register_{category}"))


def check_aid_register(step) -> str | None:
    """A guard (engine Step -> refusal or None) for aid submit/resubmit."""
    case = step.case
    if case.kind != "aid" or not requires_register(case.unit, case.category):
        return None
    if has_registered_household(case.applicant_id):
        return None
    return _("This aid category needs a household on the hardship register (困难职工档案). Ask your union "
             "staff to register the household first; the committee approves it after a home visit.")


def aid_register_hint(user, unit=None) -> dict:
    """What the aid form shows: which categories need the register here, and whether `user` is on it."""
    unit = unit or user.unit
    needs = [c for c in CATEGORIES if requires_register(unit, c)]
    return {"categories": needs, "registered": has_registered_household(user.id) if needs else None}
