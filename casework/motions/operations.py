"""Motion reads the pages and the API share: the session report, my motions, co-handling."""
from __future__ import annotations

from datetime import date

from sqlalchemy import or_, select

from ..accounts.models import Department, User
from ..clock import local, today
from ..accounts.models import DepartmentMember
from ..core.models import AuditEntry, CaseCoDepartment, CaseParty, CongressSession
from ..core.permissions import VIEWERS, can_view, roles_at
from ..extensions import db
from .models import Motion

ACTIVE = ("handling", "opinion", "replied")
# Triggers whose audit entries tell when a handling deadline started and when a reply came.
_TIMELINE = ("file", "acknowledge", "convert_to_opinion", "rate_unsatisfied", "reply", "auto_close")


def sees_session(user: User, session: CongressSession) -> bool:
    """Who may read the whole session's report: those who see every motion of its unit."""
    held = roles_at(user, session.unit)
    return any(r in held for r in VIEWERS["motion"])


def co_handles(user: User, motion: Motion) -> bool:
    return bool(set(motion.co_department_ids or ()) & user.department_ids())


def may_read(user: User, motion: Motion) -> bool:
    """The case page's rule, which includes the handlers of co-handling departments."""
    return can_view(user, motion)


def mine(user: User, limit: int = 200) -> list[Motion]:
    """Motions the user wrote or co-signed, newest first."""
    signed = select(CaseParty.case_id).where(CaseParty.user_id == user.id, CaseParty.role == "cosigner")
    from ..core.queries import listed
    return db.session.scalars(listed(select(Motion)).where(or_(Motion.applicant_id == user.id,
                                                               Motion.id.in_(signed)))
                              .order_by(Motion.id.desc()).limit(limit)).all()


def co_handling(user: User) -> list[Motion]:
    """Open motions a department of the user co-handles, the nearest deadline first."""
    mine = select(DepartmentMember.department_id).where(DepartmentMember.user_id == user.id)
    co = select(CaseCoDepartment.case_id).where(CaseCoDepartment.department_id.in_(mine))
    from ..core.queries import listed
    return db.session.scalars(listed(select(Motion)).where(Motion.id.in_(co), Motion.state.in_(ACTIVE),
                                                           Motion.department_id.is_not(None))
                              .order_by(Motion.deadline.is_(None), Motion.deadline, Motion.id)).all()


def replies(motions: list[Motion]) -> dict[int, list[dict]]:
    """motion id -> its replies in order: {at, on (local date), deadline, on_time}."""
    if not motions:
        return {}
    entries = db.session.scalars(select(AuditEntry).where(AuditEntry.case_id.in_([m.id for m in motions]),
                                                          AuditEntry.trigger.in_(_TIMELINE))
                                 .order_by(AuditEntry.case_id, AuditEntry.seq)).all()
    out: dict[int, list[dict]] = {m.id: [] for m in motions}
    deadline: dict[int, date | None] = {}
    for e in entries:
        changes = e.changes or {}
        if e.trigger in ("file", "rate_unsatisfied", "convert_to_opinion"):
            # A deadline given at filing is in the inputs; a default one in the changes.
            raw = (changes.get("inputs") or {}).get("deadline") or (changes.get("deadline") or [None, None])[1]
            deadline[e.case_id] = date.fromisoformat(raw) if raw else None
        elif e.trigger == "acknowledge":
            # The deadline counts from the receipt (签收): a late receipt moves it.
            raw = (changes.get("deadline") or [None, None])[1]
            if raw:
                deadline[e.case_id] = date.fromisoformat(raw)
        elif e.trigger == "reply":
            on = local(e.at).date()
            due = deadline.get(e.case_id)
            out[e.case_id].append({"at": e.at, "on": on, "deadline": due,
                                   "on_time": None if due is None else on <= due})
    return out


def session_report(session: CongressSession) -> dict:
    """Every motion of the session (drafts aside) with its handling state, departments, reply, rating;
    the on-time rate counts motions with a handling deadline that were replied to or are overdue."""
    motions = db.session.scalars(select(Motion).where(Motion.session_id == session.id, Motion.state != "draft")
                                 .order_by(Motion.id)).all()
    by_reply = replies(motions)
    names = dict(db.session.execute(select(Department.id, Department.name)).all())
    numbers = {m.id: m.number for m in motions}
    rows, due, on_time, states, ratings = [], 0, 0, {}, {}
    for m in motions:
        reps = by_reply[m.id]
        last = reps[-1] if reps else None
        late_open = m.state == "handling" and m.deadline is not None and m.deadline < today()
        timed = [r for r in reps if r["on_time"] is not None]
        punctual = None
        if timed or late_open:
            due += 1
            punctual = all(r["on_time"] for r in timed) and not late_open
            on_time += punctual
        rating = m.satisfaction if m.state == "closed" else None
        if m.state == "closed" and rating is None:
            rating = "no_rating"
        states[m.state] = states.get(m.state, 0) + 1
        if rating:
            ratings[rating] = ratings.get(rating, 0) + 1
        rows.append({
            "id": m.id, "number": m.number, "title": m.title, "author": m.applicant.username,
            "author_name": m.applicant.name, "cosigners": len(m.party_ids("cosigner")), "state": m.state,
            "department": names.get(m.department_id), "department_id": m.department_id,
            "co_departments": [names.get(d, str(d)) for d in m.co_department_ids or ()],
            "deadline": m.deadline.isoformat() if m.deadline and m.state == "handling" else
            (last["deadline"].isoformat() if last and last["deadline"] else None),
            "replied_on": last["on"].isoformat() if last else None, "replies": len(reps),
            "on_time": punctual, "reopened": m.reopened, "rating": rating,
            "merged_into": numbers.get(m.merged_into_id) or (db.session.get(Motion, m.merged_into_id).number
                                                              if m.merged_into_id else None),
        })
    return {"session": {"id": session.id, "name": session.name, "unit": session.unit_id,
                        "unit_name": session.unit.name, "status": session.status,
                        "cosigning_until": session.cosigning_until.isoformat()},
            "motions": rows, "count": len(rows), "states": states, "ratings": ratings,
            "due": due, "on_time": on_time, "on_time_rate": round(on_time / due, 4) if due else None}
