"""Create/edit forms per case kind: they carry the values only; the kind's parser in core.kinds reads them
with the reader the API uses (core.inputs), so a bad value gets the same message on a page and in the API."""
from __future__ import annotations

from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from wtforms import BooleanField, HiddenField, SelectField, StringField, TextAreaField

from ..aid.kind import DETAIL_NAMES, DETAILS
from ..aid.models import CATEGORIES
from ..core import settings
from ..core.inputs import MAX_TEXT
from ..core.models import CongressSession
from ..extensions import db
from ..forms import REQUIRED, BaseForm, opts
from ..money import format_money
from ..privacy.consent import CURRENT
from ..labels import CHOICE_LABELS, CONSENT_HOW_LABELS, FIELD_LABELS


TITLE = {"required": True, "maxlength": 200}
LONG = {"required": True, "maxlength": MAX_TEXT}


class AidForm(BaseForm):
    # Chosen first, on its own step (?category=…): the form then holds that category's questions only.
    category = HiddenField()  # read (and required) by the aid kind's reader
    amount_requested = StringField(FIELD_LABELS["amount_requested"],
                                   render_kw={**REQUIRED, "inputmode": "decimal", "placeholder": "0.00"})
    # Consent comes before the sensitive questions (PIPL art. 29): the notice stands above the form.
    consent_agree = BooleanField(_l("I have read the notice on the processing of my personal information above and "
                                    "agree to it"))
    consent_how = SelectField(_l("Group leaders: how the member gave their consent"),
                              choices=opts([("", "—")] + list(CONSENT_HOW_LABELS.items())),
                              validate_choice=False)
    consent_version = HiddenField(default=CURRENT)
    circumstances = TextAreaField(FIELD_LABELS["circumstances"], render_kw={"maxlength": MAX_TEXT},
                                  description=_l("Only the union staff and the committee will read this."))
    applicant = StringField(FIELD_LABELS["applicant"], render_kw={"maxlength": 60},
                            description=_l("Group leaders: the member you apply for. Leave empty for yourself."))


    stray: dict[str, str] = {}

    def data_for_engine(self) -> dict:
        # Answers to another category's questions go to the reader too, which refuses them by name.
        return {**super().data_for_engine(), **self.stray}


def _detail_field(name: str, kind: str):
    kw = {"maxlength": 200}
    if kind in ("int", "money"):
        kw["inputmode"] = "numeric" if kind == "int" else "decimal"
    field = TextAreaField if name == "cause" else StringField
    return field(FIELD_LABELS[name], render_kw=kw)


# Every category's questions; form_for keeps those of the chosen one.
for _category, _fields in DETAILS.items():
    for _name, _kind in _fields:
        setattr(AidForm, _name, _detail_field(_name, _kind))


def aid_categories(user) -> list[dict]:
    """Each category with its questions, its cap and the documents it needs, at the user's unit: step one of
    the aid form, shown before anything is saved."""
    from ..attachments.operations import doc_label
    out = []
    for category in CATEGORIES:
        docs = [d for d in settings.get(user.unit, f"aid_docs_{category}") or [] if isinstance(d, str)]
        out.append({"code": category, "label": CHOICE_LABELS[category],
                    "cap": format_money(settings.get(user.unit, f"aid_cap_{category}")),
                    "docs": [doc_label(d) for d in docs],
                    "questions": [FIELD_LABELS[n] for n, _k in DETAILS[category]]})
    return out


def chosen_category(values, case=None) -> str | None:
    """The category the request (GET ?category=…, or the posted form) names, else the draft's own; None when
    none is valid (step one)."""
    raw = values.get("category")
    if raw in CATEGORIES:
        return raw
    return case.category if case is not None and raw in (None, "") else None


class ProposalForm(BaseForm):
    title = StringField(FIELD_LABELS["title"], render_kw=TITLE)
    problem = TextAreaField(FIELD_LABELS["problem"], render_kw=LONG)
    suggestion = TextAreaField(FIELD_LABELS["suggestion"], render_kw=LONG)
    expected_benefit = TextAreaField(FIELD_LABELS["expected_benefit"], render_kw={"maxlength": MAX_TEXT})


class MotionForm(BaseForm):
    session = SelectField(FIELD_LABELS["session"], validate_choice=False, render_kw=REQUIRED)
    title = StringField(FIELD_LABELS["title"], render_kw=TITLE)
    reasons = TextAreaField(FIELD_LABELS["reasons"], render_kw=LONG)
    proposal_text = TextAreaField(FIELD_LABELS["proposal_text"], render_kw=LONG)


FORMS = {"aid": AidForm, "proposal": ProposalForm, "motion": MotionForm}


def form_for(kind: str, user, case=None, category: str | None = None, posted=None) -> BaseForm:
    data = None
    if case is not None:
        data = {name: getattr(case, name, None) for name in FORMS[kind]().data}
        if kind == "aid":
            data["amount_requested"] = format_money(case.amount_requested)
            money = {n for fields in DETAILS.values() for n, k in fields if k == "money"}
            data.update({k: format_money(v) if k in money else v for k, v in (case.details or {}).items()})
            data["applicant"] = case.applicant.username if case.applicant_id != case.created_by_id else ""
            data["consent_agree"] = case.consent_at is not None and case.consent_withdrawn_at is None
            data["consent_version"] = case.consent_version or CURRENT
        if kind == "motion":
            data["session"] = str(case.session_id)
    form = FORMS[kind](data=data) if data else FORMS[kind]()
    if kind == "motion":
        sessions = db.session.scalars(select(CongressSession).where(CongressSession.status != "closed")
                                      .order_by(CongressSession.starts_on.desc())).all()
        form.session.choices = opts((str(s.id), s.name) for s in sessions)
    if kind == "aid":
        _one_category(form, category, posted)
        if not _leads_a_group(user):
            del form.consent_how  # only a group leader applying for a member records how they consented
            del form.applicant   # and only a group leader applies on a member's behalf
    return form


def _one_category(form: AidForm, category: str | None, posted) -> None:
    own = {n for n, _k in DETAILS.get(category or "", ())}
    if category:
        form.category.data = category
    form.stray = {n: posted[n] for n in DETAIL_NAMES if n not in own and posted is not None
                  and str(posted.get(n) or "").strip()}
    for name in DETAIL_NAMES:
        if name not in own:
            delattr(form, name)


def _leads_a_group(user) -> bool:
    from ..core.permissions import grants
    return any(g.role == "group_leader" for g in grants(user))
