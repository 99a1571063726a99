"""Guards and effects of two-part ratings (workflows/ratings.py) and of call-backs (workflows/callback.py)."""
from __future__ import annotations

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select

from ..clock import local, today
from ..core import calendar, engine, settings
from ..core.engine import Step, condition, effect, guard, party, record_creation
from ..core.errors import Invalid
from ..core.models import AuditEntry
from ..extensions import db
from ..labels import KIND_LABELS, choice_label, state_label, trigger_label
from ..notifications.steps import audience, subject_lines
from .models import Callback, Rating

# The steps that give the reply a rating is about, per kind.
REPLY_TRIGGERS = {"motion": ("reply",), "proposal": ("decline", "not_adopt", "report_implemented")}
RATING_DAYS = {"motion": "motion_rating_days", "proposal": "proposal_rating_days"}
OPEN_CALLBACK = ("due", "appealed")

settings.declare("proposal_rating_days", 10, "days",
                 _l("Working days after the reply to a proposal (declined, not adopted or implemented) in which "
                    "the proposer and co-proposers may rate it."), lo=1, hi=365)
settings.declare("callback_days", 5, "days",
                 _l("Working days within which union staff call back a person who rated a reply unsatisfied "
                    "(回访)."), lo=1, hi=60)


def reply_round(case) -> tuple[int, object]:
    """(how many replies the case has had, when the latest was given)."""
    n, last = db.session.execute(select(func.count(), func.max(AuditEntry.at)).where(
        AuditEntry.case_id == case.id, AuditEntry.trigger.in_(REPLY_TRIGGERS.get(case.kind, ())))).one()
    return n, last


@party("cosigner")
def _is_cosigner(user, case):
    role = {"motion": "cosigner", "proposal": "coproposer"}.get(getattr(case, "kind", None))
    return role is not None and user.id in case.party_ids(role)


@condition("by_cosigner")
def _by_cosigner(step: Step) -> bool:
    return step.role == "cosigner"


def _parts(step: Step) -> tuple[str | None, str | None]:
    if step.transition.trigger == "rate_unsatisfied":  # the old reopen: the result is unsatisfied
        return None, "unsatisfied"
    return step.data.get("attitude"), step.data.get("result") or step.data.get("satisfaction")


@guard("rating_complete")
def _rating_complete(step: Step):
    attitude, result = _parts(step)
    if result is None or (attitude is None and "satisfaction" not in step.data):
        return _("Rate both the handling attitude and the result.")
    return None


@guard("rating_period_open")
def _rating_period_open(step: Step):
    n, last = reply_round(step.case)
    if n == 0 or last is None:
        return _("There is no reply to rate yet.")
    if step.case.state == "replied":  # the scheduler's auto_close ends this period
        return None
    days = int(step.setting(RATING_DAYS[step.case.kind]))
    if today() > calendar.add_working_days(local(last).date(), days):
        return _("The rating period of this reply has ended.")
    return None


@guard("not_rated_yet")
def _not_rated_yet(step: Step):
    n, _last = reply_round(step.case)
    done = db.session.scalar(select(Rating.id).where(Rating.case_id == step.case.id, Rating.round == n,
                                                     Rating.rater_id == step.user.id))
    return _("You have already rated this reply.") if done else None


@effect("record_rating")
def _record_rating(step: Step):
    case, user = step.case, step.user
    attitude, result = _parts(step)
    n, _last = reply_round(case)
    role = "author" if user.id == case.applicant_id else "cosigner"
    rating = Rating(case_id=case.id, kind=case.kind, unit_id=case.unit_id, department_id=case.department_id,
                    rater_id=user.id, role=role, round=n, attitude=attitude, result=result,
                    comment=step.comment, at=step.now)
    db.session.add(rating)
    if role == "author" and hasattr(case, "satisfaction"):
        step.record("satisfaction", None, result)
        case.satisfaction = result
    step.record("rating", None, {"by": user.username, "role": role, "attitude": attitude, "result": result})
    _close_fixed(case, n, step)
    if rating.unsatisfied:
        callback = _open_callback(case, n, step)
        rating.callback = callback
        step.record("callback", None, callback.id)


def _open_callback(case, n: int, step: Step) -> Callback:
    """The call-back of this reply still due, or a new one due in `callback_days` working days."""
    found = db.session.scalar(select(Callback).where(Callback.case_id == case.id, Callback.round == n,
                                                     Callback.state == "due"))
    if found is not None:
        return found
    days = int(settings.get(case.unit, "callback_days"))
    callback = Callback(case_id=case.id, unit_id=case.unit_id, department_id=case.department_id, round=n,
                        state="due", opened_at=step.now, due_on=calendar.add_working_days(today(), days))
    db.session.add(callback)
    record_creation(callback, step.user)
    return callback


def _close_fixed(case, n: int, step: Step) -> None:
    """The first rating of the reply a fix asked for ends that call-back."""
    for callback in db.session.scalars(select(Callback).where(Callback.case_id == case.id,
                                                             Callback.state == "fixing",
                                                             Callback.fix_started.is_(True),
                                                             Callback.round < n)):
        engine.fire(callback, "close_fixed", None, {}, comment=case.number)


# -- the call-back ------------------------------------------------------------------------------------

@condition("outcome_fix")
def _outcome_fix(step: Step) -> bool:
    return step.data.get("outcome") == "fix"


@condition("outcome_explain")
def _outcome_explain(step: Step) -> bool:
    return step.data.get("outcome") == "explain"


@condition("outcome_appeal")
def _outcome_appeal(step: Step) -> bool:
    return step.data.get("outcome") == "appeal"


def can_rehandle(case) -> bool:
    import workflows
    return bool(workflows.get(case.kind).candidates("rehandle", case.state))


@guard("callback_outcome_complete")
def _outcome_complete(step: Step):
    data, errors = step.data, {}
    called_on = data.get("called_on")
    if called_on is not None and called_on > today():
        errors["called_on"] = _("The call-back cannot be in the future.")
    if data["outcome"] == "fix":
        if data.get("deadline") is None:
            errors["deadline"] = _("A fix needs the new deadline of the re-handling.")
        elif data["deadline"] <= today():
            errors["deadline"] = _("The deadline must be in the future.")
        elif not can_rehandle(step.case.case):
            return _("This case can no longer be handled again (it is “%(state)s”): record an explanation or "
                     "an appeal.", state=state_label(step.case.case.kind, step.case.case.state))
    if data["outcome"] == "explain" and not data.get("explanation"):
        errors["explanation"] = _("An explanation outcome needs the written explanation.")
    if errors:
        raise Invalid(_("Please correct the marked fields."), fields=errors)
    return None


@effect("record_callback")
def _record_callback(step: Step):
    cb, data = step.case, step.data
    cb.called_by_id = step.user.id
    cb.called_on = data.get("called_on") or today()
    cb.how, cb.notes, cb.outcome = data["how"], data["notes"], data["outcome"]
    cb.fix_by = data.get("deadline") if data["outcome"] == "fix" else None
    cb.explanation = (data.get("explanation") or "") if data["outcome"] == "explain" else ""
    step.record("called_on", None, cb.called_on)


@effect("order_fix")
def _order_fix(step: Step):
    cb = step.case
    engine.fire(cb.case, "rehandle", None, {"deadline": cb.fix_by.isoformat()},
                comment=_("Call-back by %(name)s: handle again by %(date)s.", name=step.user.name,
                          date=cb.fix_by.isoformat()))


@guard("fix_ordered")
def _fix_ordered(step: Step):
    found = _pending_fix(step.case)
    return None if found is not None else _("Only a call-back's fix outcome hands a case back for re-handling.")


def _pending_fix(case) -> Callback | None:
    return db.session.scalar(select(Callback).where(Callback.case_id == case.id, Callback.state == "fixing",
                                                    Callback.fix_started.is_(False)).limit(1))


@effect("start_fix")
def _start_fix(step: Step):
    cb = _pending_fix(step.case)
    cb.fix_started = True
    step.record("callback", None, cb.id)


@effect("set_ratings_aside")
def _set_aside(step: Step):
    for r in step.case.ratings:
        r.set_aside, r.set_aside_at = True, step.now
    step.record("set_aside", None, [r.id for r in step.case.ratings])


@effect("record_decision")
def _record_decision(step: Step):
    cb = step.case
    cb.decision, cb.decided_at = step.text("reason"), step.now
    step.record("decision", None, cb.decision)


@audience("raters")
def _raters(step: Step):
    """Everyone whose rating the call-back is about."""
    return list({r.rater_id: r.rater for r in step.case.ratings}.values())


@subject_lines("callback")
def _callback_lines(step: Step, _user):
    cb = step.case
    subject = _("%(kind)s %(number)s: %(step)s", kind=str(KIND_LABELS[cb.case.kind]), number=cb.case.number,
                step=callback_outcome_label(cb))
    return subject, cb.explanation or cb.decision or "", cb.case


def callback_outcome_label(cb: Callback) -> str:
    if cb.state in ("upheld", "dismissed"):
        return trigger_label("uphold_appeal" if cb.state == "upheld" else "dismiss_appeal")
    return choice_label(cb.outcome) if cb.outcome else ""
