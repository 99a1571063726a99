"""The hardship register's operations: propose (after a verification visit), committee vote at the unit's
quorum, yearly re-check, review reminders, aid totals, statistics. Views call these; none of them commits:
the caller commits once (the scheduler's sweep commits `send_review_reminders` in its own unit of work).

The register is not a case kind (no serial, no public posting), but its review is a workflow
(workflows/register.py) fired through the engine like a case's: the committee's decision is a vote of the one
vote service (seats, delegation, quorum), the proposer, the worker and their relatives never decide it (回避),
and every step is in the household's hash-chained audit trail.
"""
from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime

from flask_babel import gettext as _
from sqlalchemy import func, or_, select
from sqlalchemy.exc import IntegrityError

from ..accounts.models import RoleAssignment, Unit, User
from ..aid.models import AidRequest
from ..clock import local, today, utcnow
from ..core import engine, settings, votes as vote_service
from ..core.errors import Conflict, Forbidden, Invalid
from ..core.permissions import has_role, roles_at
from ..extensions import db
from ..labels import HOUSEHOLD_GRADE_LABELS, in_chinese
from ..names import normalise_name
from ..notifications.models import notify
from .models import (CAUSES, GRADES, OUTCOMES, POSITIONS, RELATIONS, Household, HouseholdMember,
                     HouseholdReview, ReviewReminder)

VIEWERS = ("union_staff", "committee", "admin")
VISITOR_ROLES = ("union_staff", "group_leader", "committee")
APPROVED_STATES = ("posting", "objection_review", "approved", "disbursed", "closed")
PAID_STATES = ("disbursed", "closed")


def add_years(day: date, years: int) -> date:
    try:
        return day.replace(year=day.year + years)
    except ValueError:  # 29 February
        return day.replace(year=day.year + years, day=28)


# -- who may do what ----------------------------------------------------------------------------------------

def can_view(user: User, household: Household) -> bool:
    held = roles_at(user, household.unit)
    return any(r in held for r in VIEWERS)


def visible_units(user: User):
    """A WHERE clause over Household for the units where `user` holds a register role."""
    from ..core.permissions import grants
    paths = sorted({g.unit_path for g in grants(user) if g.role in VIEWERS})
    if not paths:
        return Household.id.is_(None)
    return Household.unit_id.in_(select(Unit.id).where(or_(*[Unit.path.startswith(p) for p in paths])))


def may_view_register(user: User) -> bool:
    return any(has_role(user, r) for r in VIEWERS)


# -- propose, vote ----------------------------------------------------------------------------------------

@dataclass
class Proposal:
    worker: User
    grade: str
    causes: list[str]
    circumstances: str
    visited_on: date
    visitors: list[User]
    findings: str
    members: list[dict]  # name, relation, monthly_income (fen), note


def read_proposal(data: dict) -> Proposal:
    """Form or JSON values -> a Proposal; Invalid names each wrong field."""
    from ..core.inputs import Reader
    from ..money import parse_money
    r = Reader(data)
    login = r.text("worker", max_len=60)
    worker = None
    if login:
        from ..accounts.models import find_login
        worker = find_login(login)
        if worker is None or not worker.active:
            r.fail("worker", _("No active member with this user name, employee number or phone."))
    grade = r.choice("grade", GRADES)
    causes = data.get("causes") or []
    if isinstance(causes, str):
        causes = [c for c in causes.replace("，", ",").split(",") if c.strip()]
    causes = [c.strip() for c in causes if isinstance(c, str)]
    if not causes:
        r.fail("causes", _("Choose at least one cause."))
    elif any(c not in CAUSES for c in causes):
        r.fail("causes", _("Choose one of: %(choices)s.", choices=", ".join(CAUSES)))
    circumstances = r.text("circumstances", required=False)
    visited_on = data.get("visited_on")
    if isinstance(visited_on, str):
        try:
            visited_on = date.fromisoformat(visited_on.strip())
        except ValueError:
            visited_on = None
    if not isinstance(visited_on, date):
        r.fail("visited_on", _("Enter the date of the verification visit."))
    elif visited_on > today():
        r.fail("visited_on", _("The visit date is in the future."))
    names = data.get("visitors") or []
    if isinstance(names, str):
        names = [n for n in names.replace("，", ",").replace(" ", ",").split(",")]
    visitors = []
    for name in (n.strip() for n in names if isinstance(n, str) and n.strip()):
        person = db.session.scalar(select(User).where(User.username == name, User.active.is_(True)))
        if person is None:
            r.fail("visitors", _("No active user %(name)s.", name=name))
        elif person not in visitors:
            visitors.append(person)
    findings = r.text("findings", max_len=20000)
    members = []
    for index, raw in enumerate(data.get("members") or []):
        name = normalise_name(raw.get("name") or "") if isinstance(raw, dict) else ""
        if not name:
            continue
        relation = raw.get("relation") or "other"
        if relation not in RELATIONS:
            r.fail("members", _("Row %(n)s: choose one of: %(choices)s.", n=index + 1,
                                choices=", ".join(RELATIONS)))
            continue
        try:
            income = parse_money(raw.get("monthly_income") or "0")
        except ValueError as exc:
            r.fail("members", _("Row %(n)s: %(message)s", n=index + 1, message=str(exc)))
            continue
        person = None
        if str(raw.get("person") or "").strip():
            from ..accounts.models import find_login
            person = find_login(str(raw["person"]).strip())
            if person is None:
                r.fail("members", _("Row %(n)s: no member with this user name or employee number.", n=index + 1))
                continue
        note = str(raw.get("note") or "").strip()
        if len(name) > 60 or len(note) > 200:
            r.fail("members", _("Row %(n)s: %(message)s", n=index + 1, message=_(
                "The text is too long (at most %(n)s characters).", n=60 if len(name) > 60 else 200)))
            continue
        members.append({"name": name, "relation": relation, "monthly_income": income, "note": note,
                        "user_id": person.id if person else None})
    if not members and "members" not in r.errors:  # a row's own refusal says more
        r.fail("members", _("List the household's members, the worker included."))
    r.done()
    return Proposal(worker, grade, causes, circumstances, visited_on, visitors, findings, members)


def propose(p: Proposal, staff: User) -> Household:
    """Union staff file a household after visiting it; it waits for the committee's vote."""
    unit = p.worker.unit
    if "union_staff" not in roles_at(staff, unit):
        raise Forbidden(_("Only union staff of the worker's unit may register a household."))
    if staff.id == p.worker.id:
        raise Forbidden(_("You cannot register your own household."))
    minimum = settings.get(unit, "min_visitors")
    if len(p.visitors) < minimum:
        raise Invalid(_("A verification visit needs at least %(n)s visitors.", n=minimum),
                      fields={"visitors": _("at least %(n)s", n=minimum)})
    for person in p.visitors:
        if person.id == p.worker.id or not any(r in roles_at(person, unit) for r in VISITOR_ROLES):
            raise Invalid(_("%(name)s cannot be a visitor here: they hold no fitting role for this unit.",
                            name=person.name), fields={"visitors": person.username})
    household = db.session.scalar(select(Household).where(Household.user_id == p.worker.id))
    if household is not None and household.status in ("proposed", "registered"):
        raise Conflict(_("%(name)s's household is already on the register or waiting for approval.",
                         name=p.worker.name))
    fresh = household is None
    if fresh:
        household = Household(user_id=p.worker.id, round=1, status="proposed")
        db.session.add(household)
    else:  # a rejected or removed household proposed again: a new voting round, history kept
        household.round += 1
        household.members.clear()
        household.registered_on = household.next_review_on = household.decided_at = None
        household.removed_reason = ""
    household.unit_id, household.unit = unit.id, unit
    household.grade, household.causes = p.grade, list(p.causes)
    household.circumstances, household.findings = p.circumstances, p.findings
    household.visited_on, household.visitor_ids = p.visited_on, [u.id for u in p.visitors]
    household.proposed_by_id, household.proposed_at = staff.id, utcnow()
    household.members.extend(HouseholdMember(**m) for m in p.members)
    db.session.flush()
    if fresh:
        engine.record_creation(household, staff)
    else:
        engine.fire(household, "propose", staff, {})
    return household


@dataclass
class Tally:
    approve: int
    reject: int
    quorum: int
    decided: str | None = None
    positions: list | None = None  # the vote service's tally of the round


def tally(household: Household, groups: list | None = None) -> Tally:
    groups = vote_service.tally(household) if groups is None else groups
    counts = {p: sum(g["votes"] for g in groups if g["trigger"] == p) for p in POSITIONS}
    return Tally(counts["approve"], counts["reject"], settings.get(household.unit, "committee_quorum"),
                 positions=groups)


def may_vote(user: User, household: Household) -> bool:
    return "approve" in engine.available(household, user)


def round_votes(household: Household):
    return vote_service.round_votes(household)


def vote(household: Household, user: User, position: str, comment: str = "") -> Tally:
    """One committee vote (the `register` workflow's approve or reject); the household is registered (or
    rejected) when a quorum of seats agrees."""
    if position not in POSITIONS:
        raise Invalid(_("Choose one of: %(choices)s.", choices=", ".join(POSITIONS)),
                      fields={"position": position})
    outcome = engine.fire(household, position, user, {}, comment=comment or "")
    result = tally(household, outcome.tally)  # the round just voted in, closed or not
    if outcome.moved:
        result.decided = position
    return result


@engine.effect("register_household")
def _register(step) -> None:
    household = step.case
    household.decided_at, household.registered_on = step.now, today()
    household.next_review_on = add_years(household.registered_on, 1)
    step.record("registered_on", None, household.registered_on)
    _tell_proposer(household, "已登记入档")


@engine.effect("decline_household")
def _decline(step) -> None:
    step.case.decided_at = step.now
    _tell_proposer(step.case, "未获批准", step.text())


def _tell_proposer(household: Household, word: str, reasons: str = "") -> None:
    body = f"{household.user.name}（{household.unit.name}）的困难职工档案经工会委员会表决{word}。"
    if reasons:
        body += f"理由：{reasons}"
    notify(household.proposed_by, f"困难职工档案：{household.user.name}家庭{word}", body)


@engine.conflict
def _household_members(user: User) -> set[int]:
    """Members of the household of `user`, and those in whose household `user` is: relatives (回避)."""
    mine = select(Household.user_id).join(HouseholdMember).where(HouseholdMember.user_id == user.id)
    theirs = select(HouseholdMember.user_id).join(Household).where(Household.user_id == user.id)
    return {i for i in db.session.scalars(mine.union(theirs)) if i is not None}


# -- yearly re-check ----------------------------------------------------------------------------------------

def review(household: Household, staff: User, outcome: str, new_grade: str | None = None,
           reason: str = "") -> HouseholdReview:
    """The yearly re-check (the `register` workflow's recheck, or remove with a reason)."""
    if household.status != "registered":
        raise Conflict(_("Only registered households are re-checked."))
    if "union_staff" not in roles_at(staff, household.unit):
        raise Forbidden(_("Only union staff of the household's unit re-check it."))
    reason = (reason or "").strip()
    if outcome not in OUTCOMES:
        raise Invalid(_("Choose one of: %(choices)s.", choices=", ".join(OUTCOMES)),
                      fields={"outcome": outcome})
    if outcome == "grade_changed" and (new_grade not in GRADES or new_grade == household.grade):
        raise Invalid(_("Choose the new grade."), fields={"new_grade": _("a different grade")})
    if outcome in ("grade_changed", "removed") and not reason:
        raise Invalid(_("Say why in the reason."), fields={"reason": _("This field is required.")})
    row = HouseholdReview(household_id=household.id, due_on=household.next_review_on, reviewed_on=today(),
                          outcome=outcome, old_grade=household.grade,
                          new_grade=new_grade if outcome == "grade_changed" else None, reason=reason,
                          reviewed_by_id=staff.id)
    try:
        with db.session.begin_nested():
            db.session.add(row)
    except IntegrityError:
        raise Conflict(_("This year's re-check was recorded meanwhile.")) from None
    if outcome == "removed":
        engine.fire(household, "remove", staff, {}, comment=reason)
        household.removed_reason, household.next_review_on = reason, None
    else:
        engine.fire(household, "recheck", staff, {}, comment=reason or outcome)
        if outcome == "grade_changed":
            household.grade = new_grade
        household.next_review_on = add_years(today(), 1)
    db.session.flush()
    return row


def due_reviews(at: datetime | None = None) -> list[Household]:
    """Registered households whose yearly re-check is due as of `at` (naive UTC; the union's date counts)."""
    day = local(at or utcnow()).date()
    return db.session.scalars(select(Household).where(Household.status == "registered",
                                                      Household.next_review_on <= day)
                              .order_by(Household.next_review_on, Household.id)).all()


def _reminder_year(due: date, day: date) -> int:
    """The year of the latest anniversary of `due` on or before `day`: an overdue re-check is reminded
    again a year later, never twice in one year."""
    years = day.year - due.year
    if add_years(due, years) > day:
        years -= 1
    return due.year + years


def send_review_reminders(at: datetime | None = None) -> int:
    """Reminds the union staff of each due household once per household and year (unique key
    household + year, inserted with the notices). Safe to repeat and to run in parallel; the caller
    commits (the scheduler's sweep does, per task). Returns how many households were reminded."""
    day = local(at or utcnow()).date()
    sent = 0
    for household in due_reviews(at):
        year = _reminder_year(household.next_review_on, day)
        if db.session.scalar(select(ReviewReminder.id).where(ReviewReminder.household_id == household.id,
                                                             ReviewReminder.year == year)):
            continue
        staff = _staff_for(household.unit)
        try:
            with db.session.begin_nested():
                db.session.add(ReviewReminder(household_id=household.id, year=year, recipients=len(staff),
                                              due_on=household.next_review_on))
                db.session.flush()
                for person in staff:
                    notify(person, f"困难职工档案年度复核提醒：{household.user.name}",
                           f"{household.user.name}（{household.unit.full_name()}，{in_chinese(HOUSEHOLD_GRADE_LABELS, household.grade)}）"
                           f"的困难职工档案应于 {household.next_review_on.isoformat()} 前完成年度复核。"
                           f"请入户核实后在档案中记录：继续保留、调整困难等级或退出档案（须写明原因）。")
        except IntegrityError:  # another process sent it first
            continue
        sent += 1
    return sent


def _staff_for(unit: Unit) -> list[User]:
    """Union staff at the unit or above, nearest first; the admins when there are none."""
    ids = unit.ancestor_ids()
    holders = select(User, RoleAssignment.unit_id).join(RoleAssignment, RoleAssignment.user_id == User.id) \
        .where(User.active.is_(True))
    rows = db.session.execute(holders.where(RoleAssignment.role == "union_staff",
                                            RoleAssignment.unit_id.in_(ids))).all()
    if not rows:
        rows = db.session.execute(holders.where(RoleAssignment.role == "admin")).all()
    out: dict[int, User] = {}
    for user, _unit in sorted(rows, key=lambda r: -ids.index(r[1]) if r[1] in ids else 0):
        out.setdefault(user.id, user)
    return list(out.values())


# -- aid links and statistics -------------------------------------------------------------------------------

def aid_cases(household: Household) -> list[AidRequest]:
    return db.session.scalars(select(AidRequest).where(AidRequest.applicant_id == household.user_id)
                              .order_by(AidRequest.created_at.desc())).all()


def aid_totals(cases: list[AidRequest]) -> list[dict]:
    """Per year (of the request): how many requests, and the sums approved and paid, in fen."""
    years: dict[int, dict] = defaultdict(lambda: {"count": 0, "requested": 0, "approved": 0, "paid": 0})
    for case in cases:
        row = years[local(case.created_at).year]
        row["count"] += 1
        row["requested"] += case.amount_requested or 0
        if case.state in APPROVED_STATES:
            row["approved"] += case.amount_approved or 0
        if case.state in PAID_STATES:
            row["paid"] += case.amount_approved or 0
    return [{"year": y, **v} for y, v in sorted(years.items(), reverse=True)]


def statistics(user: User) -> dict:
    """Counts and sums only: no names, no amounts per person."""
    scope = visible_units(user)
    by_status = dict(db.session.execute(select(Household.status, func.count()).where(scope)
                                        .group_by(Household.status)).all())
    registered = db.session.scalars(select(Household).where(scope, Household.status == "registered")).all()
    grades = {g: sum(1 for h in registered if h.grade == g) for g in GRADES}
    causes = {c: sum(1 for h in registered if c in (h.causes or [])) for c in CAUSES}
    units: dict[str, int] = defaultdict(int)
    for h in registered:
        units[h.unit.full_name()] += 1
    aid = aid_totals(db.session.scalars(select(AidRequest).where(
        AidRequest.applicant_id.in_([h.user_id for h in registered]))).all()) if registered else []
    overdue = sum(1 for h in registered if h.next_review_on and h.next_review_on <= today())
    return {"by_status": by_status, "grades": grades, "causes": causes, "units": sorted(units.items()),
            "aid": aid, "registered": len(registered), "overdue": overdue}


def has_registered_household(user_id: int) -> bool:
    return bool(db.session.scalar(select(Household.id).where(Household.user_id == user_id,
                                                             Household.status == "registered")))
