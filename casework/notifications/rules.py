"""The workflow effects that tell the applicant or author about a step (notify_applicant, notify_author).

The subject is written in Chinese whatever the language of the request that caused the step: it goes into
the inbox and out by mail, and the person reads it later, in a language of their own choosing.
"""
from __future__ import annotations

from flask_babel import force_locale
from flask_babel import gettext as _

from ..core.engine import Step, effect
from ..labels import KIND_LABELS, trigger_label
from .models import notify


def _notify_owner(step: Step):
    case = step.case
    with force_locale("zh"):
        subject = _("%(kind)s %(number)s: %(step)s", kind=str(KIND_LABELS[case.kind]), number=case.number,
                    step=trigger_label(step.transition.trigger))
    reason = step.text("reason", "reply", "text")  # a committee decision: the reasons of the votes that carried
    notify(case.applicant, subject, reason or "", case)
    if case.created_by_id != case.applicant_id:
        notify(case.created_by, subject, reason or "", case)


effect("notify_applicant")(_notify_owner)
effect("notify_author")(_notify_owner)
