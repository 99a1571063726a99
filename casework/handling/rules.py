"""Guards and effects of handling by departments (WORKFLOWS.md, "Handling by departments").

签收 (acknowledge): the department a case was routed to signs for it within `receipt_days`; the handling
deadline counts from the receipt. 退办 (return_misrouted): within `return_window_days` of the receipt, with a
reason; the committee routes it again, to another department. 会办意见 (contribute): each co-handling
department of a motion gives its opinion by its own due date; the lead's reply waits for them or that date.
"""
from __future__ import annotations

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from ..core import calendar, settings
from ..core.engine import Step, effect, guard, party, refusal
from ..core.errors import Invalid
from ..clock import local, today
from ..extensions import db
from . import operations as ops
from .models import Opinion, Routing

settings.declare("receipt_days", 2, "days",
                 _l("Working days a department has to sign for (签收) a motion filed or a proposal adopted and "
                    "routed to it; its handling deadline counts from the receipt."), lo=1, hi=30)
settings.declare("return_window_days", 7, "days",
                 _l("Working days after signing for a case within which a department that is not responsible "
                    "may return it (退办), with a reason."), lo=1, hi=60)
settings.declare("opinion_days", 10, "days",
                 _l("Working days a co-handling department has, from the lead department's receipt, to give "
                    "its opinion (会办意见) on a motion."), lo=1, hi=120)

# Who routes a case again after a return, per kind: they are told of it.
ROUTERS = {"motion": "motion_committee", "proposal": "committee"}


@party("receiving_handler")
def _is_receiving_handler(user, case):
    if case.department_id is None or case.department_id not in user.department_ids():
        return False
    routing = ops.current_routing(case)
    return routing is not None and routing.acknowledged_at is None


@refusal("receiving_handler")
def _why_not_receiving(user, case, trigger):
    if case.department_id is not None and case.department_id in user.department_ids():
        return _("Your department signed for this case already.")
    if set(getattr(case, "co_department_ids", None) or ()) & user.department_ids():
        return _("Only the lead department (%(name)s) signs for this motion; co-handling departments give "
                 "their opinions.", name=case.department.name if case.department else "—")
    return None


@party("co_handler")
def _is_co_handler(user, case):
    if case.kind != "motion":
        return False
    mine = user.department_ids() & set(case.co_department_ids or ())
    return bool(mine) and bool(ops.pending_opinions(case, mine))


@guard("not_returned_by")
def _not_returned_by(step: Step):
    dept = step.data.get("department")
    last = ops.last_routing(step.case)
    if dept is not None and last is not None and last.returned_at is not None \
            and last.department_id == dept.id:
        return _("%(name)s returned this case as not its own: route it to another department.",
                 name=dept.name)
    return None


@guard("not_acknowledged")
def _not_acknowledged(step: Step):
    routing = ops.current_routing(step.case)
    if routing is not None and routing.acknowledged_at is not None:
        return _("Your department signed for this case already.")
    return None


@guard("acknowledged")
def _acknowledged(step: Step):
    routing = ops.current_routing(step.case)
    if routing is not None and routing.acknowledged_at is None:
        return _("Sign for the case first (签收): its handling starts with the receipt.")
    return None


@guard("return_reason_given")
def _reason_given(step: Step):
    if (step.data.get("reason") or "").strip():
        return None
    return _("A return (退办) needs a reason: say why this is not your department's work.")


@guard("within_return_window")
def _within_window(step: Step):
    routing = ops.current_routing(step.case)
    if routing is None or routing.acknowledged_at is None:
        return None  # not signed for yet: returning it is the answer to the routing
    days = int(step.setting("return_window_days"))
    signed = local(routing.acknowledged_at).date()
    if calendar.working_days_between(signed, today()) > days:
        return _("A case can be returned only within %(n)s working days of signing for it "
                 "(signed on %(on)s).", n=days, on=signed.isoformat())
    return None


@guard("opinion_awaited")
def _opinion_awaited(step: Step):
    if ops.pending_opinions(step.case, step.user.department_ids()):
        return None
    return _("No opinion of your department is awaited on this motion.")


@guard("opinions_in")
def _opinions_in(step: Step):
    waiting = [o for o in ops.pending_opinions(step.case) if o.due >= today()]
    if not waiting:
        return None
    return _("The reply waits for the opinions of the co-handling departments: %(names)s. It can be sent "
             "once they are in, or after their deadline (%(due)s).",
             names=", ".join(o.department.name for o in waiting),
             due=max(o.due for o in waiting).isoformat())


@effect("route_to_department")
def _route(step: Step):
    case, dept = step.case, step.data["department"]
    given = step.data.get("deadline")
    if given is not None and given <= today():
        raise Invalid(_("The deadline must be in the future."), fields={"deadline": _("too early")})
    if any(f.name == "co_departments" for f in step.transition.fields):
        co = [d.id for d in step.data.get("co_departments") or [] if d.id != dept.id]
        step.record("co_departments", list(case.co_department_ids or []), co)
        case.co_department_ids = co
    # A date given here is the plan; signing for the case late moves it by as many working days.
    case.deadline = given
    routing = Routing(case_id=case.id, department_id=dept.id, routed_at=step.now,
                      receipt_due=calendar.add_working_days(today(), int(step.setting("receipt_days"))),
                      handling_days=calendar.working_days_between(today(), given) if given else None)
    db.session.add(routing)
    step.record("deadline", None, given)
    step.record("receipt_due", None, routing.receipt_due)


@effect("record_receipt")
def _record_receipt(step: Step):
    case = step.case
    routing = ops.current_routing(case)
    routing.acknowledged_at, routing.acknowledged_by_id = step.now, step.user.id
    days = routing.handling_days
    if days is None and step.workflow.deadlines.get(case.state):
        days = int(step.setting(step.workflow.deadlines[case.state][0]))
    before = case.deadline
    if days is not None:
        case.deadline = calendar.add_working_days(today(), days)
    step.record("deadline", before, case.deadline)
    due = calendar.add_working_days(today(), int(step.setting("opinion_days")))
    if case.deadline is not None:
        due = min(due, case.deadline)
    # A department with nobody in the system cannot be asked in it: it still contributes outside it.
    co = getattr(case, "co_department_ids", None) or ()
    staffed = ops.staffed(co)
    for dept_id in co:
        if dept_id in staffed:
            db.session.add(Opinion(routing_id=routing.id, case_id=case.id, department_id=dept_id, due=due))
    if staffed:
        step.record("opinions_due", None, due)


@effect("record_return")
def _record_return(step: Step):
    case = step.case
    routing = ops.current_routing(case)
    reason = step.data["reason"].strip()
    routing.returned_at, routing.returned_by_id, routing.return_reason = step.now, step.user.id, reason
    step.record("returned_by", None, routing.department.code)
    step.record("working_days", None, ops.days_spent(routing))
    step.record("department", routing.department.code, None)
    case.department = None
    if getattr(case, "co_department_ids", None):
        step.record("co_departments", list(case.co_department_ids), [])
        case.co_department_ids = []
    # who routes it again hears of it through the step (workflows' NOTIFY)


@effect("record_opinion")
def _record_opinion(step: Step):
    opinion = ops.pending_opinions(step.case, step.user.department_ids())[0]
    opinion.text, opinion.submitted_at, opinion.submitted_by_id = step.data["text"], step.now, step.user.id
    step.record("opinion_of", None, opinion.department.code)
    step.record("on_time", None, local(step.now).date() <= opinion.due)


@effect("note_missing_opinions")
def _note_missing(step: Step):
    """The reply carries the co-handlers' opinions, and names those still missing past their due date."""
    routing = ops.current_routing(step.case)
    if routing is None:
        return
    opinions = ops.opinions_of(routing)
    if not opinions:
        return
    missing = [o for o in opinions if o.text is None]
    for o in missing:
        o.missing_at_reply = True
    if missing:
        step.record("missing_opinions", None, [o.department.code for o in missing])
    lines = [f"{o.department.name}：{o.text}" if o.text is not None else
             f"{o.department.name}：未在{o.due.isoformat()}前提交会办意见。" for o in opinions]
    step.case.reply = (step.case.reply or "") + "\n\n会办意见：\n" + "\n".join(lines)
