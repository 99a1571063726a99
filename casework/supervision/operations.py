"""Supervision (督办): progress notes, slips (issue, answer, close, the sweep's own), the supervision board's
figures and the monthly bulletin. Nothing here commits: the caller commits once.

The colour rules are data in workflows/supervision.py; this module feeds them a case's facts.
"""
from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import func, or_, select
from sqlalchemy.exc import IntegrityError

from workflows import supervision as rules

from .. import labels

from ..accounts.models import Department, Unit, User
from ..clock import local, to_utc, today, utcnow
from ..core import calendar, engine, settings
from ..core.errors import Conflict, Forbidden, Invalid, NotFound
from ..core.inputs import Reader
from ..core.models import Case
from ..core.permissions import grants, roles_at
from ..extensions import db
from ..notifications.mail import case_ref, date_zh
from ..notifications.models import notify
from ..ratings import ledger
from .models import BulletinPosting, ProgressNote, Slip

settings.declare("slip_blue_days", rules.SETTINGS["slip_blue_days"], "count",
                 _l("Supervision: a blue slip when a handling deadline is at most this many working days away."),
                 lo=0, hi=60)
settings.declare("slip_yellow_days", rules.SETTINGS["slip_yellow_days"], "count",
                 _l("Supervision: a yellow slip when a case being handled has had no progress note for this many "
                    "working days."),
                 lo=1, hi=120)
settings.declare("slip_reply_days", rules.SETTINGS["slip_reply_days"], "count",
                 _l("Supervision: working days a department has to answer a slip."), lo=1, hi=60)

# Who issues slips and sees the supervision board.
STAFF = ("union_staff",)
BOARD_ROLES = ("union_staff", "committee", "motion_committee", "admin")


# -- the facts the rules read ----------------------------------------------------------------------------

def rating_of(case: Case) -> str | None:
    """The case's standing rating from the ratings ledger (satisfied / basically_satisfied / unsatisfied: 不满意
    on either part of any rater's rating), or None: what the colour rules read."""
    return ledger.standing_rating(case)


def supervised(case: Case) -> bool:
    return case.state in rules.SUPERVISED.get(case.kind, ()) and case.department_id is not None


def notes_of(case: Case) -> list[ProgressNote]:
    return db.session.scalars(select(ProgressNote).where(ProgressNote.case_id == case.id)
                              .order_by(ProgressNote.at, ProgressNote.id)).all()


def last_progress(case: Case) -> date:
    """The day of the last progress note in the current handling, else the day handling began."""
    started = case.state_entered_at
    last = db.session.scalar(select(func.max(ProgressNote.at)).where(ProgressNote.case_id == case.id,
                                                                     ProgressNote.at >= started))
    return local(last or started).date()


def finding(case: Case, day: date | None = None) -> rules.Rule | None:
    """The rule a slip for `case` would be issued under on `day`, or None."""
    if not supervised(case):
        return None
    return rules.finding(case.deadline, last_progress(case), rating_of(case), day or today(), calendar,
                         blue_days=int(settings.get(case.unit, "slip_blue_days")),
                         yellow_days=int(settings.get(case.unit, "slip_yellow_days")))


def basis_of(case: Case, rule: rules.Rule) -> str:
    """The condition a sweep slip answers: the same condition never gets a second slip."""
    if rule.reason in ("overdue", "deadline_near"):
        return f"{rule.colour}:{rule.reason}:{case.deadline.isoformat()}"
    if rule.reason == "no_progress":
        return f"{rule.colour}:{rule.reason}:{last_progress(case).isoformat()}"
    return f"{rule.colour}:{rule.reason}:{case.state_seq}"


# -- progress notes ------------------------------------------------------------------------------------

def record_progress(step) -> ProgressNote:
    case = step.case
    note = ProgressNote(case_id=case.id, department_id=case.department_id, user_id=step.user.id,
                        at=step.now, text=step.data["text"])
    db.session.add(note)
    # the author and co-signers hear of it through the step (workflows' NOTIFY)
    step.record("progress_note", None, note.text)
    return note


# -- slips ---------------------------------------------------------------------------------------------

def may_issue(user: User | None, case: Case) -> bool:
    return user is not None and any(r in roles_at(user, case.unit) for r in STAFF)


def addressees(department: Department) -> list[User]:
    """The department's handlers and its leader (a handler marked as leader), active ones only."""
    return [u for u in department.handlers if u.active]


def issue(case: Case, user: User | None, *, colour: str, reason: str = "staff", remark: str = "",
          basis: str | None = None, now: datetime | None = None) -> Slip:
    """A numbered 督办单 to the case's handling department, with a reply-by date; the department's handlers
    and leader are notified. `user` None: the sweep."""
    from ..notices import operations as notices
    if colour not in rules.COLOURS:
        raise Invalid(_("Choose one of: %(choices)s.", choices=", ".join(rules.COLOURS)),
                      fields={"colour": _("Choose a colour.")})
    if user is not None and not may_issue(user, case):
        raise Forbidden(_("Only union staff of the case's unit may issue a supervision slip."))
    if not supervised(case):
        raise Conflict(_("Only a motion or an adopted proposal being handled by a department can be supervised."),
                       code="not_supervised")
    if len(remark or "") > 5000:
        raise Invalid(_("The comment is too long (at most 5000 characters)."), fields={"remark": "too long"})
    now = now or utcnow()
    day = local(now).date()
    reply_by = calendar.add_working_days(day, int(settings.get(case.unit, "slip_reply_days")))
    slip = Slip(case_id=case.id, case=case, unit_id=case.unit_id, unit=case.unit,
                department_id=case.department_id, department=case.department, colour=colour, reason=reason,
                basis=basis, status="issued", remark=(remark or "").strip(),
                issued_by_id=user.id if user else None, issued_at=now, case_deadline=case.deadline,
                reply_by=reply_by)
    db.session.add(slip)
    db.session.flush()  # a second slip for the same condition stops here, on the unique key
    leaders = [u.name for u in case.department.leaders]
    values = {"department": case.department.name, "leaders": leaders, "case_number": case.number,
              "case_title": case.title, "case_kind": _kind_zh(case), "colour": labels.in_chinese(labels.SLIP_COLOUR_LABELS, colour),
              "colour_key": colour, "reason": labels.in_chinese(labels.SLIP_REASON_LABELS, reason), "remark": slip.remark,
              "deadline": date_zh(case.deadline) if case.deadline else "", "reply_by": date_zh(reply_by)}
    unit = notices.issuing_unit(case)
    notice = notices.issue("supervision_slip", unit=unit, values=values, case=case, subject=f"slip:{slip.id}",
                           user=user, now=now)
    slip.number, slip.notice_id = notice.number, notice.id
    engine.record_creation(slip, user, slip.remark, changes={
        "case": case.number, "colour": colour, "reason": reason, "reply_by": reply_by.isoformat(),
        "notices": [f"{notice.number} sha256:{notice.sha256}"]})
    subject = f"【{labels.in_chinese(labels.SLIP_COLOUR_LABELS, colour)}督办】{notice.number} {case.number}"
    body = (f"{case_ref(case)}：{labels.in_chinese(labels.SLIP_REASON_LABELS, reason)}。"
            + (f"办理时限为{date_zh(case.deadline)}。" if case.deadline else "")
            + f"请于{date_zh(reply_by)}前在督办单上答复。" + (f"督办意见：{slip.remark}" if slip.remark else ""))
    for person in addressees(case.department):
        notify(person, subject, body, case)
    return slip


def _kind_zh(case: Case) -> str:
    return labels.in_chinese(labels.KIND_LABELS, case.kind)


def load(slip_id: int, user: User) -> Slip:
    slip = db.session.get(Slip, slip_id)
    if slip is None or not may_see(user, slip):
        raise NotFound(_("No such supervision slip."))
    return slip


def may_see(user: User, slip: Slip) -> bool:
    if not getattr(user, "is_authenticated", False):
        return False
    if slip.department_id in user.department_ids():
        return True
    return any(r in roles_at(user, slip.unit) for r in BOARD_ROLES)


def answer(slip: Slip, user: User, text, version: int | None = None) -> Slip:
    engine.fire(slip, "answer", user, {"answer": text}, version=version)
    return slip


def close(slip: Slip, user: User | None, comment: str = "", version: int | None = None) -> Slip:
    engine.fire(slip, "close" if user is not None else "auto_close", user, {}, version=version,
                comment=comment)
    return slip


def record_answer(step) -> None:
    slip = step.case
    slip.answer, slip.answered_at, slip.answered_by_id = step.data["answer"], step.now, step.user.id
    slip.answered_on_time = local(step.now).date() <= slip.reply_by
    step.record("answered_on_time", None, slip.answered_on_time)
    if slip.issued_by is not None and slip.issued_by.active:
        notify(slip.issued_by, f"【督办答复】{slip.number} {slip.case.number}",
               f"{slip.department.name}已答复督办单{slip.number}：{slip.answer}", slip.case)


def record_close(step) -> None:
    step.case.closed_at = step.now


def for_case(case: Case) -> list[Slip]:
    return db.session.scalars(select(Slip).where(Slip.case_id == case.id).order_by(Slip.id)).all()


def open_for_user(user: User) -> list[Slip]:
    """The open slips addressed to the user's departments, oldest reply-by date first (their queue)."""
    depts = user.department_ids()
    if not depts:
        return []
    return db.session.scalars(select(Slip).where(Slip.department_id.in_(depts), Slip.status != "closed")
                              .order_by(Slip.reply_by, Slip.id)).all()


# -- the sweep -------------------------------------------------------------------------------------------

def sweep(at: datetime) -> int:
    """Issues the slips due as of `at`, once per condition, and closes the open slips of cases no longer
    under supervision. Returns how many slips it issued or closed."""
    day = local(at).date()
    done = 0
    states = [(kind, state) for kind, names in rules.SUPERVISED.items() for state in names]
    watched = or_(*[(Case.kind == k) & (Case.state == s) for k, s in states])
    for case in db.session.scalars(select(Case).where(watched, Case.department_id.is_not(None))
                                   .order_by(Case.id)).all():
        rule = finding(case, day)
        if rule is None:
            continue
        basis = basis_of(case, rule)
        if db.session.scalar(select(Slip.id).where(Slip.case_id == case.id, Slip.basis == basis)):
            continue
        try:
            with db.session.begin_nested():
                issue(case, None, colour=rule.colour, reason=rule.reason, basis=basis, now=at)
            done += 1
        except IntegrityError:  # another process issued it first
            continue
    stale = db.session.scalars(select(Slip).join(Case, Case.id == Slip.case_id)
                               .where(Slip.status != "closed", ~watched).order_by(Slip.id)).all()
    for slip in stale:
        close(slip, None, comment="案件已办结或不在办理环节，督办单自动关闭。")
        done += 1
    return done


# -- the supervision board -------------------------------------------------------------------------------

@dataclass
class Period:
    start: date
    end: date  # exclusive
    key: str   # YYYY-MM, YYYY, or YYYY-MM-DD/YYYY-MM-DD (first and last day)

    @property
    def label(self) -> str:
        if len(self.key) == 7:
            return f"{self.start.year}年{self.start.month}月"
        if len(self.key) == 4:
            return f"{self.start.year}年"
        return f"{date_zh(self.start)}至{date_zh(self.end - timedelta(days=1))}"

    @property
    def last(self) -> date:
        return self.end - timedelta(days=1)


def parse_period(raw: str | None) -> Period:
    """YYYY-MM (a month) or YYYY (a year); default this month."""
    raw = (raw or "").strip() or today().strftime("%Y-%m")
    try:
        if len(raw) == 7 and raw[4] == "-":
            year, month = int(raw[:4]), int(raw[5:])
            start = date(year, month, 1)
            end = date(year + (month == 12), month % 12 + 1, 1)
        elif len(raw) == 4 and raw.isdigit():
            start, end = date(int(raw), 1, 1), date(int(raw) + 1, 1, 1)
        else:
            raise ValueError(raw)
        if not 2000 <= start.year <= 2100:
            raise ValueError(raw)
    except ValueError:
        message = _("Enter a period as YYYY-MM or YYYY.")
        raise Invalid(message, fields={"period": message}) from None
    return Period(start, end, raw)


def span_period(start: date | None, end: date | None) -> Period:
    """The days from `start` to `end`, both included: `start` alone runs to today (or to itself when it is
    later), `end` alone from the first of its month."""
    end = end or max(start, today())
    start = start or end.replace(day=1)
    return Period(start, end + timedelta(days=1), f"{start.isoformat()}/{end.isoformat()}")


def board_period(args) -> Period:
    """The board's period from a query: `from`/`to` (ISO days, either may be left out; they win over
    `period`), else `period` (YYYY-MM or YYYY, default this month). Wrong days are a malformed query."""
    read = Reader(args)
    start, end = read.span("from", "to")
    read.done_query()
    return span_period(start, end) if start or end else parse_period(args.get("period"))


def board_units(user: User) -> list[Unit]:
    """The units whose board `user` may see: where they hold a board role, highest first."""
    paths = sorted({g.unit_path for g in grants(user) if g.role in BOARD_ROLES})
    if not paths:
        return []
    return db.session.scalars(select(Unit).where(Unit.path.in_(paths)).order_by(Unit.path)).all()


def may_see_board(user: User, unit: Unit) -> bool:
    return getattr(user, "is_authenticated", False) and any(r in roles_at(user, unit) for r in BOARD_ROLES)


def _utc(day: date) -> datetime:
    return to_utc(datetime.combine(day, time()))


def figures(unit: Unit, period: Period, day: date | None = None) -> dict:
    """Per department, for the unit and the units below it: open items now, slips issued in the period by
    colour and still open, the on-time rate of the slips due in the period, the average rating given in it,
    and the ranking. Departments and figures only: no person's name."""
    day = day or today()
    lo, hi = _utc(period.start), _utc(period.end)
    in_unit = Case.unit_id.in_(select(Unit.id).where(Unit.path.startswith(unit.path)))
    rows: dict[int, dict] = defaultdict(lambda: {"open_items": 0, "slips": {c: 0 for c in rules.COLOURS},
                                                 "open_slips": 0, "due": 0, "on_time": 0})
    states = [(kind, state) for kind, names in rules.SUPERVISED.items() for state in names]
    watched = or_(*[(Case.kind == k) & (Case.state == s) for k, s in states])
    for dept_id, n in db.session.execute(select(Case.department_id, func.count()).where(
            watched, in_unit, Case.department_id.is_not(None)).group_by(Case.department_id)):
        rows[dept_id]["open_items"] = int(n)
    slips = db.session.scalars(select(Slip).join(Case, Case.id == Slip.case_id).where(
        in_unit, Slip.issued_at >= lo, Slip.issued_at < hi)).all()
    for s in slips:
        row = rows[s.department_id]
        row["slips"][s.colour] += 1
        row["open_slips"] += s.status != "closed"
        # Due: answered, or its reply-by date has passed.
        if s.answered_at is not None or s.reply_by < day:
            row["due"] += 1
            row["on_time"] += bool(s.answered_on_time)
    days = (period.start, period.last)
    rated = ledger.by_department(days, unit)
    called = ledger.callback_rates_by_department(days, unit)
    for dept_id in {*rated, *called} - {None}:  # rated or called back in the period: it has a row
        rows.setdefault(dept_id, rows.default_factory())
    depts = {d.id: d for d in db.session.scalars(select(Department).where(Department.id.in_(list(rows))))}
    out = []
    for dept_id, row in rows.items():
        dept = depts.get(dept_id)
        if dept is None:
            continue
        rating = rated.get(dept_id) or {"answers": 0, "average": None, "satisfied_rate": None}
        callbacks = called.get(dept_id) or {"opened": 0, "made": 0, "rate": None}
        out.append({"department_id": dept_id, "department": dept.name, "code": dept.code,
                    "open_items": row["open_items"], "open_slips": row["open_slips"], "slips": row["slips"],
                    "slips_total": sum(row["slips"].values()), "due": row["due"], "on_time": row["on_time"],
                    "on_time_rate": round(row["on_time"] / row["due"], 4) if row["due"] else None,
                    "ratings": rating["answers"], "average_rating": rating["average"],
                    "satisfaction": rating["satisfied_rate"], "callbacks_opened": callbacks["opened"],
                    "callbacks_made": callbacks["made"], "callback_rate": callbacks["rate"]})
    # Ranking: on-time rate first (none due counts as full), then fewer red slips, then the better rating.
    out.sort(key=lambda r: (-(r["on_time_rate"] if r["on_time_rate"] is not None else 1.0), r["slips"]["red"],
                            -(r["average_rating"] or 0), r["code"]))
    for rank, row in enumerate(out, start=1):
        row["rank"] = rank
    totals = {"open_items": sum(r["open_items"] for r in out), "open_slips": sum(r["open_slips"] for r in out),
              "slips": {c: sum(r["slips"][c] for r in out) for c in rules.COLOURS}}
    return {"unit": {"id": unit.id, "name": unit.name}, "period": period.key, "period_label": period.label,
            "departments": out, "totals": totals}


# -- the monthly bulletin ---------------------------------------------------------------------------------

def bulletin_values(unit: Unit, period: Period) -> dict:
    f = figures(unit, period, day=min(today(), period.end - timedelta(days=1)))
    rows = [{"rank": r["rank"], "department": r["department"], "open_items": r["open_items"],
             "blue": r["slips"]["blue"], "yellow": r["slips"]["yellow"], "red": r["slips"]["red"],
             "open_slips": r["open_slips"],
             "on_time_rate": "—" if r["on_time_rate"] is None else f"{r['on_time_rate'] * 100:.0f}%",
             "average_rating": "—" if r["average_rating"] is None else f"{r['average_rating']:.2f}"}
            for r in f["departments"]]
    return {"title": f"{unit.name}{period.label}督办通报", "period": period.label, "rows": rows,
            "totals": f["totals"]}


def issue_bulletin(unit: Unit, period: Period, user: User | None = None):
    """(notice, issued): the month's bulletin, issued again (superseding the last) only when its figures
    changed."""
    from ..notices.operations import issue_report
    if len(period.key) != 7:
        raise Invalid(_("A bulletin covers one month: enter the period as YYYY-MM."),
                      fields={"period": _("Enter a period as YYYY-MM.")})
    return issue_report("supervision_bulletin", unit=unit, about=f"supervision:{unit.id}:{period.key}",
                        values=bulletin_values(unit, period), user=user)


def post_bulletin(notice, user: User) -> BulletinPosting:
    """Puts a bulletin on the public board (it names departments and figures only)."""
    if notice.kind != "supervision_bulletin":
        raise NotFound(_("No such bulletin."))
    if not any(r in roles_at(user, notice.unit) for r in STAFF):
        raise Forbidden(_("Only union staff of the unit may post its bulletin on the public board."))
    period = notice.subject.split(":")[2].split("/")[0]
    row = db.session.scalar(select(BulletinPosting).where(BulletinPosting.unit_id == notice.unit_id,
                                                          BulletinPosting.period == period))
    if row is None:
        row = BulletinPosting(unit_id=notice.unit_id, period=period, notice_id=notice.id, posted_by_id=user.id,
                              posted_at=utcnow())
        db.session.add(row)
    else:
        row.notice_id, row.posted_by_id, row.posted_at = notice.id, user.id, utcnow()
    return row


def bulletins(unit: Unit) -> list:
    """The unit's bulletins, newest first, with where each is posted."""
    from ..notices.models import Notice
    notices = db.session.scalars(select(Notice).where(Notice.kind == "supervision_bulletin",
                                                      Notice.unit_id == unit.id).order_by(Notice.id.desc())).all()
    posted = {p.notice_id for p in db.session.scalars(select(BulletinPosting).where(
        BulletinPosting.unit_id == unit.id))}
    return [(n, n.id in posted) for n in notices]


def public_postings() -> list[BulletinPosting]:
    return db.session.scalars(select(BulletinPosting).order_by(BulletinPosting.period.desc(),
                                                               BulletinPosting.id.desc()).limit(100)).all()
