"""The sweep's reminders for handling by departments: a case not signed for (签收) by its receipt date, and a
co-handling department's opinion (会办意见) near or past its due date. Each is sent once per case, state
entry and kind (the scheduler's unique key), and only the latest phase reached."""
from __future__ import annotations

from datetime import datetime

from flask_babel import force_locale
from sqlalchemy import select

from .. import labels
from ..accounts.models import DepartmentMember, User
from ..clock import local
from ..core import calendar, settings
from ..core.models import Case
from ..extensions import db
from ..notifications.mail import case_ref, date_zh
from ..notifications.models import notify
from ..scheduler.models import ScheduledEffect
from ..scheduler.sweep import PHASES, _latest_deadline, _setting_range, due_task, holders, phase_of
from .models import Opinion, Routing
from .operations import HANDLING
from .rules import ROUTERS

def _members(department_id: int) -> list[User]:
    return list(db.session.scalars(select(User).join(DepartmentMember, DepartmentMember.user_id == User.id)
                                   .where(DepartmentMember.department_id == department_id,
                                          User.active.is_(True)).order_by(User.id)))


def _claimed(case: Case, kinds: list[str]) -> bool:
    """Whether any of the effects `kinds` was claimed for the case's current state entry."""
    return bool(kinds) and db.session.scalar(select(ScheduledEffect.id).where(
        ScheduledEffect.case_id == case.id, ScheduledEffect.state_seq == case.state_seq,
        ScheduledEffect.kind.in_(kinds)).limit(1)) is not None


def _claim(case: Case, kind: str, later: list[str]) -> str | None:
    """Claims the effect `kind` for the case's current state entry and answers the case's reference for the
    message; None when it, or one of the `later` phases that make it moot, was done already."""
    if _claimed(case, [kind, *later]):
        return None
    db.session.add(ScheduledEffect(case_id=case.id, state_seq=case.state_seq, kind=kind, state=case.state))
    db.session.flush()  # a second process stops here, on the unique key
    with force_locale("zh"):
        return f"{labels.KIND_LABELS[case.kind]} {case.number}"


def _send(people: dict[int, User], case: Case, subject: str, body: str) -> int:
    raised = case.raised_by()
    sent = 0
    for user in people.values():
        if user.id not in raised:
            notify(user, subject, body, case)
            sent += 1
    return sent


@due_task("receipt_reminders")
def remind_receipts(at: datetime) -> int:
    """Cases routed to a department and not signed for: reminded on the receipt date, escalated (督办) to the
    committee `escalate_after_days` after it."""
    day = local(at).date()
    rows = db.session.execute(select(Routing, Case).join(Case, Case.id == Routing.case_id).where(
        Routing.acknowledged_at.is_(None), Routing.returned_at.is_(None), Routing.receipt_due <= day,
        Case.state.in_(HANDLING)).order_by(Routing.receipt_due, Routing.id)).all()
    done = 0
    for routing, case in rows:
        after = int(settings.get(case.unit, "escalate_after_days"))
        phase = "escalate" if day >= calendar.add_working_days(routing.receipt_due, after) else "remind"
        ref = _claim(case, f"receipt_{phase}", ["receipt_escalate"] if phase == "remind" else [])
        if ref is None:
            continue
        due, dept = date_zh(routing.receipt_due), routing.department.name
        people = {u.id: u for u in _members(routing.department_id)}
        if phase == "remind":
            done += _send(people, case, f"【签收提醒】{ref} 请于{due}前签收",
                          f"{case_ref(case)}已交{dept}办理，签收时限为{due}。请登录系统签收；"
                          "如不属于本部门职责，请说明理由退办。")
        else:
            for role in (ROUTERS[case.kind], "committee"):
                people.update({u.id: u for u in holders(role, case.unit)[0]})
            over = calendar.working_days_between(routing.receipt_due, day)
            done += _send(people, case, f"【督办】{ref} 超过签收时限未签收",
                          f"{case_ref(case)}已交{dept}办理，签收时限为{due}，已超过 {over} 个工作日仍未签收，"
                          "已报请督办。")
    return done


@due_task("opinion_reminders")
def remind_opinions(at: datetime) -> int:
    """Co-handling departments whose opinion is due: reminded before and on the day, escalated after, like
    any handler (the phases and settings of the sweep's reminders)."""
    day = local(at).date()
    horizon = _latest_deadline(day, -_setting_range("reminder_before_days")[1])
    rows = db.session.execute(select(Opinion, Case).join(Case, Case.id == Opinion.case_id)
                              .join(Routing, Routing.id == Opinion.routing_id).where(
        Opinion.text.is_(None), Routing.returned_at.is_(None), Opinion.due <= horizon,
        Case.state == "handling").order_by(Opinion.due, Opinion.id)).all()
    done = 0
    for opinion, case in rows:
        phase = phase_of(case, day, opinion.due)
        if phase is None:
            continue
        ref = _claim(case, f"opinion_{phase}:{opinion.department_id}",
                     [f"opinion_{p}:{opinion.department_id}" for p in PHASES[PHASES.index(phase) + 1:]])
        if ref is None:
            continue
        due, dept = date_zh(opinion.due), opinion.department.name
        lead = case.department.name if case.department else "承办部门"
        people = {u.id: u for u in _members(opinion.department_id)}
        if phase == "remind_before":
            left = calendar.working_days_between(day, opinion.due)
            subject, body = (f"【会办提醒】{ref} 会办意见将于{due}到期",
                             f"{case_ref(case)}由{lead}主办、{dept}会办，会办意见时限为{due}，还有 {left} 个工作日。")
        elif phase == "remind_due":
            subject, body = (f"【今日到期】{ref} 会办意见今天到期",
                             f"{case_ref(case)}由{lead}主办、{dept}会办，会办意见时限为今天（{due}）。")
        else:
            people.update({u.id: u for u in holders("committee", case.unit)[0]})
            over = calendar.working_days_between(opinion.due, day)
            subject, body = (f"【督办】{ref} 会办意见超过时限",
                             f"{case_ref(case)}由{lead}主办，{dept}的会办意见时限为{due}，已超过 {over} 个工作日"
                             "仍未提交，已报请督办。")
        done += _send(people, case, subject, body)
    return done
