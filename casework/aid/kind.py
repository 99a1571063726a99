"""Aid requests as a case kind: creation, category details, and what each viewer sees."""
from __future__ import annotations

from flask_babel import gettext as _
from sqlalchemy import select

from ..accounts.models import User
from ..core import settings
from ..core.inputs import Reader, blank
from ..core.kinds import KindSpec, register
from ..core.permissions import roles_at
from ..extensions import db
from ..labels import CHOICE_LABELS, FIELD_LABELS, KIND_LABELS
from ..money import format_money
from ..privacy import access
from ..names import normalise_name
from .models import CATEGORIES, AidRequest

# What each category asks for besides the amount and the circumstances (all private).
DETAILS = {
    "hardship": (("household_size", "int"), ("monthly_income", "money"), ("cause", "text")),
    "illness": (("diagnosis", "text"), ("hospital", "text"), ("out_of_pocket", "money")),
    "education": (("child_name", "text"), ("school", "text"), ("admission_year", "int"), ("tuition", "money")),
    "holiday_visit": (),
}
DETAIL_NAMES = tuple(dict.fromkeys(name for fields in DETAILS.values() for name, _t in fields))
REVIEWERS = ("union_staff", "committee", "admin")


def _read_details(r: Reader, category: str | None, raw: dict) -> dict:
    """Type-check the category's details; completeness is checked at submit (required_fields)."""
    out = {}
    sub = Reader(raw)
    for name, kind in DETAILS.get(category or "", ()):
        if kind == "int":
            lo, hi = (1, 30) if name == "household_size" else (1990, 2100)
            value = sub.integer(name, required=False, lo=lo, hi=hi)
        elif kind == "money":
            value = sub.money(name, required=False)
        else:
            value = sub.text(name, required=False, max_len=200) or None
            if value is not None and name.endswith("_name"):  # a person's name (the child's): one form
                value = normalise_name(value) or None
        if value is not None:
            out[name] = value
    for name, message in sub.errors.items():
        r.fail(name, message)
    own = {name for name, _kind in DETAILS.get(category or "", ())}
    stray = [name for name in DETAIL_NAMES if name not in own and not blank(raw.get(name))]
    if category and stray:
        # Never dropped unseen: answers to another category's questions are refused, by name.
        r.fail("details", _("These answers belong to another category and cannot be saved with this one: "
                            "%(fields)s. Choose that category, or leave them empty.",
                            fields="、".join(str(FIELD_LABELS[n]) for n in stray)))
    return out


def _parse(data: dict, user: User) -> dict:
    r = Reader(data)
    category = r.choice("category", CATEGORIES)
    amount = r.money("amount_requested")
    circumstances = r.text("circumstances", required=False)
    raw_details = data.get("details") if isinstance(data.get("details"), dict) else data
    details = _read_details(r, category, raw_details)
    applicant = user
    name = data.get("applicant")
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
    agreed = _read_consent(r, data, user, applicant)
    r.done()
    return {"category": category, "amount_requested": amount, "circumstances": circumstances,
            "details": details, "_applicant": applicant, **agreed}


def _read_consent(r: Reader, data: dict, user: User, applicant: User) -> dict:
    """The consent given with this request, as the columns that keep it; {} when none is given now (a draft
    keeps the one it has)."""
    from ..clock import utcnow
    from ..privacy import consent
    raw = data.get("consent")
    if raw in (None, "", {}) and str(data.get("consent_agree", "")).lower() in ("y", "on", "true", "1", "yes"):
        raw = {"version": data.get("consent_version") or consent.CURRENT, "how": data.get("consent_how")}
    if raw in (None, "", {}, False):
        return {}
    if not isinstance(raw, dict):
        r.fail("consent", _("`consent` must be an object with version, given_by and how."))
        return {}
    if raw.get("version") != consent.CURRENT:
        r.fail("consent", _("This is not the current consent text (%(version)s): read it and agree again.",
                            version=consent.CURRENT))
        return {}
    expected = "self" if applicant.id == user.id else "on_behalf"
    given_by = raw.get("given_by") or expected
    if given_by != expected:
        r.fail("consent", _("You apply for yourself: consent is given by you.") if expected == "self" else
               _("You apply on behalf of a member: record how they gave their consent."))
        return {}
    how = raw.get("how") or None
    if expected == "on_behalf" and how not in consent.HOW:
        r.fail("consent_how", _("Say how the member gave their consent (in writing, in person or by phone)."))
        return {}
    return {"consent_version": raw["version"], "consent_text": consent.text_for(raw["version"], applicant.unit),
            "consent_given_by": given_by, "consent_how": how if expected == "on_behalf" else "online",
            "consent_by_id": user.id, "consent_at": utcnow(), "consent_withdrawn_at": None}


def _owner(values: dict, user: User):
    applicant = values.pop("_applicant")
    return applicant.unit, applicant


def missing_details(case: AidRequest) -> list[str]:
    have = case.details or {}
    return [name for name, _kind in DETAILS[case.category] if have.get(name) in (None, "")]


def view_level(case: AidRequest, viewer: User) -> str:
    """'full' for the applicant, the filer, visitors and reviewers; 'payee' (amount and payee only)
    for everyone else who may see the case, i.e. the fund manager."""
    if viewer.id in (case.applicant_id, case.created_by_id) or viewer.id in case.party_ids("visitor"):
        return "full"
    held = roles_at(viewer, case.unit)
    return "full" if any(r in held for r in REVIEWERS) else "payee"


def _fields(case: AidRequest, viewer: User) -> dict:
    out = {"applicant_name": case.applicant.name, "amount_approved": format_money(case.amount_approved)}
    if view_level(case, viewer) == "full":
        access.note(case, viewer)
        out.update(category=case.category, amount_requested=format_money(case.amount_requested),
                   amount_proposed=format_money(case.amount_proposed), circumstances=case.circumstances,
                   details={k: (format_money(v) if dict(DETAILS[case.category]).get(k) == "money" else v)
                            for k, v in (case.details or {}).items()},
                   consent=_consent_record(case))
    else:
        out["title"] = ""  # the title is the category, a sensitive fact
    return out


def _consent_record(case: AidRequest) -> dict | None:
    if case.consent_at is None:
        return None
    return {"version": case.consent_version, "given_by": case.consent_given_by, "how": case.consent_how,
            "at": case.consent_at.isoformat() + "Z", "by": case.consent_by.username if case.consent_by else None,
            "withdrawn_at": case.consent_withdrawn_at.isoformat() + "Z" if case.consent_withdrawn_at else None,
            "text": case.consent_text}


def _missing(case: AidRequest) -> str | None:
    if case.consent_at is None or case.consent_withdrawn_at is not None:
        return _("The applicant's separate consent to the processing of their personal information is missing: "
                 "read the notice on the form and agree to it.")
    if not (case.circumstances or "").strip():
        return _("Describe the circumstances before submitting.")
    if not case.amount_requested:
        return _("Enter the amount requested.")
    missing = missing_details(case)
    if missing:
        return _("Fill in before submitting: %(fields)s.",
                 fields=", ".join(str(FIELD_LABELS.get(m, m)) for m in missing))
    return None


def _caption(case: AidRequest, viewer: User) -> str:
    """An aid request's title is its category, itself a sensitive fact (serious illness, hardship): only
    those who see the whole request read it; others read "Aid request"."""
    if view_level(case, viewer) == "full":
        return str(CHOICE_LABELS.get(case.title, case.title))
    return str(KIND_LABELS["aid"])


def _approval(case: AidRequest) -> dict:
    from .levels import approval
    return approval(case)


def _category_filter(category: str):
    return select(AidRequest.id).where(AidRequest.category == category)


SPEC = register(KindSpec(kind="aid", model=AidRequest, parse=_parse, fields=_fields, owner=_owner,
                         title=lambda values: values["category"], view_level=view_level, caption=_caption,
                         missing=_missing, category_filter=_category_filter,
                         detail=lambda case, viewer: {"approval": _approval(case)},
                         assignable=(("visitors", ("union_staff", "group_leader", "committee")),)))
