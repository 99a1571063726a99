"""Guards and effects every case kind shares. Kind-specific ones live beside each kind.

What differs by kind (who may be named for what, what a draft still lacks) is asked of the kind's spec.
Who is told of a step is declared in workflows/ (NOTIFY) and sent by notifications/steps.py.
"""
from __future__ import annotations

from flask_babel import gettext as _

from . import calendar
from .engine import Step, effect, guard
from .models import CaseParty
from .permissions import roles_at
from .kinds import spec_for
from ..clock import today


@guard("assignees_eligible")
def _assignees_eligible(step: Step):
    # Who may be named for what: visitors and evaluators must hold a fitting role at the case's unit.
    for name, roles in spec_for(step.case.kind).assignable:
        for user in step.data.get(name) or []:
            if user.id in step.case.raised_by():
                return _("%(name)s raised this case and cannot take part in reviewing it.", name=user.name)
            held = roles_at(user, step.case.unit)
            if not any(r in held for r in roles):
                return _("%(name)s cannot be assigned here: they hold no fitting role for this unit.",
                         name=user.name)
    return None


@effect("start_deadline")
def _start_deadline(step: Step):
    given = step.data.get("deadline")
    if given is not None:
        if given <= today():
            from .errors import Invalid
            raise Invalid(_("The deadline must be in the future."), fields={"deadline": _("too early")})
        step.case.deadline = given
        step.record("deadline", None, given)
        return
    spec = step.workflow.deadlines.get(step.case.state)
    if spec:
        key, _default = spec
        days = int(step.setting(key))
        step.case.deadline = calendar.add_working_days(today(), days)
    step.record("deadline", None, step.case.deadline)


@effect("record_reply")
def _record_reply(step: Step):
    text = step.text("reply", "text", "reason") if step.carried else (
        step.data.get("reply") or step.data.get("text") or step.data.get("reason") or "")
    step.record("reply", getattr(step.case, "reply", ""), text)
    step.case.reply = text


def add_parties(step: Step, role: str, users) -> None:
    have = step.case.party_ids(role)
    for user in users or []:
        if user.id not in have:
            step.case.parties.append(CaseParty(user_id=user.id, role=role))
            have.add(user.id)


@guard("required_fields")
def _required_fields(step: Step):
    return spec_for(step.case.kind).missing(step.case)


@effect("assign_department")
def _assign_department(step: Step):
    dept = step.data["department"]
    step.record("department", step.case.department.code if step.case.department else None, dept.code)
    step.case.department = dept
    co = [d.id for d in step.data.get("co_departments") or [] if d.id != dept.id]
    if co:
        step.case.co_department_ids = co
