"""A year of demo casework: `load_history()` replays it through the engine, each step as of its own moment.

`flask --app wsgi casework demo` loads the demo union (casework/demo.py) and then this history, so that the
dashboard, the public board, the queues and the fund ledgers have something to show. Nothing here writes a
case's state: every step is `kinds.create` or `engine.fire` by the demo person whose job it is, inside
`clock.travel(moment)`, and the scheduler's `run_due` runs every morning in between, so postings end, cases
close and reminders go out at their times. Audit chains, ledger, notices, board and notifications therefore
agree with each other as they would after a real year.

The history runs from early January (or 300 days back when January is too recent) to now: finished cases in
the first nine months, cases at every earlier stage in the last weeks, counted in working days back from
today. The stories' data (people, texts, amounts, when each starts and stops) is casework/demo_story.py;
each story below is a generator that plays one record, yielding the next moment it acts at (or `Until(...)`
a condition the scheduler brings about); the replay runs them in time order. Private facts (illness, income, family)
go only where a person would type them: the circumstances, the category's details and the visit findings.
"""
from __future__ import annotations

import heapq
import io
import itertools
import logging
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Callable, Iterator

from flask import current_app
from sqlalchemy import func, select
from werkzeug.datastructures import FileStorage

from .accounts.models import Unit, User
from .clock import local, to_utc, travel, utcnow
from .core import calendar, engine, kinds
from .core.errors import CaseworkError
from .core.models import Case, CongressSession
from .demo_story import (AID, BRANCH, BRANCH_FUND, BRANCH_GROUP, BRANCH_INCOMES, BRANCH_PEOPLE, BRANCH_THRESHOLDS,
                         CO_HANDLERS, CORRECTION, DOCS, HANDLER_OF, INCOMES, MOTIONS, PROPOSALS, REPORT, UPWARD_RETURN,
                         UPWARD_SUMMARIES, Aid, Motion, Proposal, Start)
from .extensions import db

HISTORY_DAYS = 300  # at least this much history, so the finished stories have room before the recent ones
TICK = time(9, 0)  # the scheduler's morning run (Monday's is the one that makes the weekly board batch)
SIGN_OFF = time(14, 30)  # when the committee signs a waiting board batch off


class HistoryError(Exception):
    """The replay could not take a step; says which story and why."""


@dataclass(frozen=True)
class Until:
    """A story waits until `test()` holds; tested after each scheduler run and board sign-off."""
    test: Callable[[], bool]


# -- when --------------------------------------------------------------------------------------

def history_start(today: date) -> date:
    """The first day of the history: 5 January, unless that leaves less than HISTORY_DAYS before today."""
    return min(date(today.year, 1, 5), today - timedelta(days=HISTORY_DAYS))


def base_moment(now: datetime | None = None) -> datetime:
    """When the demo union itself is dated (accounts, funds and their first income): the history's first
    morning, 08:30 local, as naive UTC."""
    day = history_start(local(now or utcnow()).date())
    return to_utc(datetime.combine(day, time(8, 30)))


def _workday_on_or_after(day: date) -> date:
    while not calendar.is_workday(day):
        day += timedelta(days=1)
    return day


def _workday_on_or_before(day: date) -> date:
    while not calendar.is_workday(day):
        day -= timedelta(days=1)
    return day


def _at(day: date, hhmm: str) -> datetime:
    hour, minute = map(int, hhmm.split(":"))
    return to_utc(datetime.combine(day, time(hour, minute)))


# -- the replay --------------------------------------------------------------------------------

class Replay:
    """Runs stories and the daily scheduler in time order, each event as of its moment."""

    def __init__(self, end: datetime):
        self.end = end
        self.last_day = local(end).date()
        self.first_day = _workday_on_or_after(history_start(self.last_day))
        self.cases: dict[str, Case] = {}
        self.steps = 0
        self._heap: list = []
        self._order = itertools.count()
        self._waiting: list[tuple[str, Iterator, Until]] = []
        self._users: dict[str, User] = {}
        self._sign_days: set[date] = set()
        self._signers = itertools.cycle([("committee1", "committee2", "committee3"),
                                         ("committee2", "committee4", "committee5"),
                                         ("committee1", "committee3", "committee5")])
        self.hq = db.session.scalar(select(Unit).where(Unit.parent_id.is_(None)).order_by(Unit.id))

    # moments a story asks for ----------------------------------------------------------------
    def month(self, offset: int, day: int, hhmm: str = "10:00") -> datetime:
        """`day` of the `offset`-th month of the history (the next working day if that is a day off)."""
        y, m = divmod(self.first_day.month - 1 + offset, 12)
        first = date(self.first_day.year + y, m + 1, 1)
        last = (first.replace(day=28) + timedelta(days=4)).replace(day=1) - timedelta(days=1)
        wanted = _workday_on_or_after(max(first.replace(day=min(day, last.day)), self.first_day))
        return _at(wanted, hhmm)

    def ago(self, workdays: int, hhmm: str = "10:00") -> datetime:
        """`workdays` working days before today; never later than now."""
        day = calendar.add_working_days(_workday_on_or_before(self.last_day), -workdays)
        while _at(day, hhmm) > self.end:
            day = calendar.add_working_days(day, -1)
        return _at(day, hhmm)

    def later(self, workdays: int, hhmm: str = "10:00") -> datetime:
        """`workdays` working days after the current moment's day (0: today, if not past already)."""
        now = utcnow()
        day = local(now).date()
        day = calendar.add_working_days(day, workdays) if workdays else _workday_on_or_after(day)
        moment = _at(day, hhmm)
        return moment if moment > now else now + timedelta(minutes=20)

    @staticmethod
    def until(test: Callable[[], bool]) -> Until:
        return Until(test)

    # what a story does -----------------------------------------------------------------------
    def user(self, username: str) -> User:
        if username not in self._users:
            found = db.session.scalar(select(User).where(User.username == username))
            if found is None:
                raise HistoryError(f"the demo account {username!r} is missing; load the demo union first")
            self._users[username] = found
        return self._users[username]

    def create(self, key: str, kind: str, username: str, data: dict) -> Case:
        case = kinds.create(kind, data, self.user(username))
        db.session.commit()
        self.cases[key] = case
        self.steps += 1
        return case

    def fire(self, case: Case, trigger: str, username: str, note: str = "", **data):
        """`note` is the step's comment; `data` its inputs (a score's own comment among them)."""
        outcome = engine.fire(case, trigger, self.user(username), data, comment=note)
        db.session.commit()
        self.steps += 1
        return outcome

    def attach(self, case: Case, doc_type: str, username: str, filename: str) -> None:
        from .attachments.operations import save
        upload = FileStorage(stream=io.BytesIO(sample_pdf(filename)), filename=filename,
                             content_type="application/pdf")
        save(case, upload, doc_type, self.user(username))
        db.session.commit()

    def read(self, case: Case, username: str, what: str = "details", allowed: bool = True) -> None:
        """Someone opens the request's sensitive parts (or is refused) from their office machine: the reads
        log the case page's "accessed by" shows."""
        from .privacy import access
        access.note(case, self.user(username), what, allowed=allowed,
                    address=f"10.8.1.{20 + sum(map(ord, username)) % 200}")
        db.session.commit()

    def prepare_batch(self, kind: str) -> None:
        """Union staff prepare a board batch now rather than wait for Monday (/disclosures)."""
        from .disclosure import operations
        operations.make_batch(self.hq, kind)
        db.session.commit()

    # running -----------------------------------------------------------------------------------
    def run(self, stories: list[tuple[str, Iterator]]) -> None:
        from .notifications.steps import replaying
        with replaying():  # a replayed year tells nobody of its steps
            self._run(stories)

    def _run(self, stories: list[tuple[str, Iterator]]) -> None:
        day = self.first_day
        while day <= self.last_day:
            # Working days only: nothing falls due on a day off that cannot wait for the next morning, and
            # a third fewer runs keep the replay quick.
            if calendar.is_workday(day):
                self._push(_at(day, TICK.strftime("%H:%M")), "tick", None)
            day += timedelta(days=1)
        self._push(self.end, "tick", None)  # bring everything up to now
        for name, story in stories:
            self._push(next(story), "step", (name, story))  # a story's first yield is when it starts
        while self._heap:
            moment, _n, what, payload = heapq.heappop(self._heap)
            if moment > self.end:
                continue  # the future: the story stays where it is
            with travel(moment):
                try:
                    if what == "tick":
                        self._tick()
                    elif what == "sign_off":
                        self._sign_off()
                    else:
                        self._step(*payload)
                except CaseworkError as exc:
                    db.session.rollback()
                    detail = f" ({exc.fields})" if exc.fields else ""
                    where = getattr(exc, "story", None) or (payload[0] if what == "step" else what)
                    raise HistoryError(f"{where}, as of {local(utcnow()):%Y-%m-%d %H:%M}: "
                                       f"{exc.message}{detail}") from exc

    def _push(self, moment: datetime, what: str, payload) -> None:
        heapq.heappush(self._heap, (moment, next(self._order), what, payload))

    def _schedule(self, name: str, story: Iterator, wanted) -> None:
        if isinstance(wanted, Until):
            self._waiting.append((name, story, wanted))
            return
        now = utcnow()
        self._push(wanted if wanted > now else now + timedelta(minutes=5), "step", (name, story))

    def _step(self, name: str, story: Iterator) -> None:
        try:
            wanted = next(story)
        except StopIteration:
            return
        except CaseworkError as exc:
            exc.story = name  # a story woken by a tick: name it, not the tick
            raise
        self._schedule(name, story, wanted)

    def _tick(self) -> None:
        from .disclosure.models import Disclosure
        from .scheduler import run_due
        report = run_due(utcnow(), parts=("steps", "tasks", "reminders"))
        if report.failures:
            raise HistoryError(f"the scheduler run as of {local(utcnow()):%Y-%m-%d %H:%M} failed "
                               f"{report.failures} time(s); see the log")
        waiting = db.session.scalar(select(func.count()).select_from(Disclosure)
                                    .where(Disclosure.status == "awaiting_signoff"))
        day = _workday_on_or_after(local(utcnow()).date())
        if waiting and day not in self._sign_days:
            self._sign_days.add(day)
            self._push(_at(day, SIGN_OFF.strftime("%H:%M")), "sign_off", None)
        self._wake()

    def _sign_off(self) -> None:
        """The committee signs the waiting batches off. A posting still up today is printed for the 公开栏
        as it goes up; older ones print (dated today) when someone asks for their PDF, which saves the
        replay a dozen PDF renderings."""
        from .disclosure import operations
        from .disclosure.models import Disclosure
        from .notices.operations import for_disclosure
        for d in db.session.scalars(select(Disclosure).where(Disclosure.status == "awaiting_signoff")
                                    .order_by(Disclosure.id)).all():
            for username in next(self._signers):
                if d.status == "awaiting_signoff":
                    operations.sign_off(d, self.user(username), "同意公示")
            if d.ends_on is not None and d.ends_on >= self.last_day:
                for_disclosure(d)
            db.session.commit()
        self._wake()

    def _wake(self) -> None:
        waiting, self._waiting = self._waiting, []
        for name, story, until in waiting:
            if until.test():
                self._step(name, story)
            else:
                self._waiting.append((name, story, until))


def sample_pdf(title: str) -> bytes:
    """A one-page PDF standing in for a scanned document (the upload check reads the content)."""
    text = f"casework demo - sample scan ({len(title)} chars)"
    stream = f"BT /F1 14 Tf 72 760 Td ({text}) Tj ET".encode()
    objects = [b"<< /Type /Catalog /Pages 2 0 R >>",
               b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
               b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents 4 0 R "
               b"/Resources << /Font << /F1 5 0 R >> >> >>",
               b"<< /Length %d >>\nstream\n" % len(stream) + stream + b"\nendstream",
               b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>"]
    out = bytearray(b"%PDF-1.4\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % number + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % o for o in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, xref)
    return bytes(out)


# -- the stories: aid requests -----------------------------------------------------------------

def festival(day: date) -> str:
    if day.month in (12, 1, 2):
        return "春节"
    if day.month in (5, 6):
        return "端午节"
    if day.month in (8, 9, 10):
        return "中秋节、国庆节"
    return "节日"


def _aid_data(spec: Aid, day: date) -> dict:
    data = {"category": spec.category, "amount_requested": spec.amount,
            "circumstances": spec.circumstances.format(festival=festival(day)), "details": dict(spec.details)}
    if spec.category == "education":
        data["details"]["admission_year"] = day.year
    from .privacy.consent import CURRENT
    # Every demo applicant agrees to the consent notice; a group leader records a signed paper form.
    data["consent"] = {"version": CURRENT, "given_by": "self"}
    if spec.filer:
        data["applicant"] = spec.applicant
        data["consent"] = {"version": CURRENT, "given_by": "on_behalf", "how": "written"}
    return data


def aid_story(r: Replay, spec: Aid) -> Iterator:
    yield _start(r, spec.start)
    author = spec.filer or spec.applicant
    case = r.create(spec.key, "aid", author, _aid_data(spec, local(utcnow()).date()))
    if spec.stop == "draft":
        return
    if spec.category in DOCS:
        doc_type, filename = DOCS[spec.category]
        r.attach(case, doc_type, author, filename)
    yield r.later(1, "09:40")
    r.fire(case, "submit", author)
    if spec.returned:
        yield r.later(1, "14:20")
        r.fire(case, "return_for_info", "staff1", reason=spec.returned)
        yield r.later(2, "16:10")
        r.attach(case, "other", spec.applicant, "出院小结.pdf")
        r.fire(case, "resubmit", spec.applicant)
    if spec.stop == "submitted":
        return
    yield r.later(spec.intake_days, "10:00")
    r.fire(case, "start_verification", "staff1", visitors=list(spec.visitors))
    r.read(case, "staff1")
    if spec.category in DOCS:
        r.read(case, "staff1", f"attachment:{DOCS[spec.category][1]}")
    if spec.stop == "verifying":
        return
    yield r.later(2, "14:30")
    for visitor in spec.visitors:
        if visitor != "staff1":
            r.read(case, visitor)
    r.fire(case, "record_visit", "staff1", visited_on=local(utcnow()).date().isoformat(),
           visitors=list(spec.visitors), findings=spec.findings)
    if spec.withdraw:
        yield r.later(3, "15:40")
        r.fire(case, "withdraw", spec.applicant, note=spec.withdraw)
        if spec.hold:
            yield r.later(1, "10:20")
            r.fire(case, "place_hold", "staff1", note=spec.hold)
        return
    yield r.later(1, "11:00")
    r.fire(case, "verify", "staff1", proposed_amount=spec.proposed or spec.amount)
    decision = ("reject", {"reason": spec.reject}) if spec.reject else \
        ("approve", {"amount": spec.approved or spec.proposed or spec.amount})
    for i, voter in enumerate(spec.voters):
        if spec.stop == "pending_approval" and i >= spec.votes_cast:
            return
        yield r.later(*((2, "09:30"), (0, "11:15"), (1, "10:00"))[i])
        r.read(case, voter)
        r.fire(case, decision[0], voter, note="" if spec.reject else "同意", **decision[1])
    if spec.reject or spec.stop == "pending_approval":
        return
    if spec.parent_voters:  # referred: the parent union's committee decides, with its own votes
        for i, voter in enumerate(spec.parent_voters):
            yield r.later(*((3, "10:00"), (0, "15:30"), (1, "09:45"))[i])
            r.fire(case, "parent_approve", voter, note="经上级工会委员会审议，同意救助", amount=spec.parent_amount)
    if spec.prepare_batch:
        yield r.later(0, "16:30")
        if _pending(case):
            r.prepare_batch("aid")
    if spec.objection:
        # Someone objects during the posting; the committee answers once it has checked again, after the
        # posting period (and, as it happens, its own answer deadline) has passed.
        yield r.until(lambda: _posted_item(case) is not None)
        yield r.later(1, "20:40")
        from .disclosure import operations
        operations.object_to(_posted_item(case), spec.objection[0], anonymous=True, user=None)
        db.session.commit()
        for i, voter in enumerate(("committee1", "committee3", "committee5")):
            yield r.later(7 if i == 0 else 0, ("10:00", "11:30", "15:00")[i])
            r.fire(case, "dismiss_objection", voter, answer=spec.objection[1])
    if spec.stop == "posting":
        return
    yield r.until(lambda: case.state == "approved")
    if spec.stop == "approved":
        return
    yield r.later(2, "10:30")
    reference = f"{'转账流水' if spec.method == 'bank_transfer' else '现金领款单'} {case.number}"
    r.fire(case, "disburse", "fund1", method=spec.method, reference=reference)
    if spec.receipt == "applicant":
        yield r.later(2, "17:05")
        r.fire(case, "confirm_receipt", spec.applicant)
    elif spec.receipt == "staff":
        yield r.later(3, "15:20")
        r.fire(case, "confirm_receipt", "staff1", note="已电话确认款项到账")


def _pending(case: Case) -> bool:
    from .disclosure.models import PendingItem
    return db.session.scalar(select(PendingItem.id).where(PendingItem.case_id == case.id,
                                                          PendingItem.disclosure_id.is_(None))) is not None


def _posted_item(case: Case):
    from .disclosure.models import Disclosure, DisclosureItem
    return db.session.scalar(select(DisclosureItem).join(Disclosure).where(
        DisclosureItem.case_id == case.id, Disclosure.status == "posted"))


def _start(r: Replay, start: Start) -> datetime:
    if start[0] == "month":
        return r.month(start[1], start[2], start[3] if len(start) > 3 else "10:00")
    if start[0] == "years_ago":
        return _at(_workday_on_or_after(date(r.first_day.year - start[1], start[2], start[3])), "10:00")
    return r.ago(start[1], start[2] if len(start) > 2 else "10:00")


# -- rationalisation proposals -----------------------------------------------------------------

def proposal_story(r: Replay, spec: Proposal) -> Iterator:
    yield _start(r, spec.start)
    data = {"title": spec.title, "problem": spec.problem, "suggestion": spec.suggestion,
            "expected_benefit": spec.expected_benefit, "coproposers": list(spec.coproposers)}
    case = r.create(spec.key, "proposal", spec.author, data)
    yield r.later(0, "16:40")
    r.fire(case, "submit", spec.author)
    if spec.stop == "submitted":
        return
    yield r.later(2, "10:20")
    if spec.decline:
        r.fire(case, "decline", "staff1", reply=spec.decline)
        yield from _proposal_rating(r, case, spec)
        return
    r.fire(case, "accept", "staff1", evaluators=["evaluator1", "evaluator2"])
    order = ("evaluator2", "evaluator1")
    for i, evaluator in enumerate(order):
        if spec.stop == "evaluating" and i == 1:
            return
        value, comment = spec.scores[1 - i]
        yield r.later(3 if i == 0 else 2, "15:00" if i == 0 else "10:30")
        r.fire(case, "score", evaluator, score=value, comment=comment)
    yield r.later(1, "09:30")
    r.fire(case, "grade", "staff1")
    if spec.stop == "graded":
        return
    for i, voter in enumerate(spec.voters):
        yield r.later(2 if i == 0 else 0, ("09:40", "11:00", "16:20")[i])
        if spec.not_adopt:
            r.fire(case, "not_adopt", voter, reply=spec.not_adopt)
        else:
            deadline = local(utcnow()).date() + timedelta(days=spec.deadline_days)
            r.fire(case, "adopt", voter, department="TECH", deadline=deadline.isoformat())
    if not spec.not_adopt:
        yield r.later(0, "16:40")
        r.fire(case, "acknowledge", "handler1")  # 签收 the day it was adopted: its deadline stands
    if spec.not_adopt or spec.stop == "implementing":
        return
    yield _start(r, spec.implemented_at) if spec.implemented_at else r.later(25, "15:30")
    r.fire(case, "report_implemented", "handler1", result=spec.result, benefit=spec.benefit)
    yield from _proposal_rating(r, case, spec)
    if spec.stop == "implemented":
        return
    for i, voter in enumerate(spec.voters):
        yield r.later(3 if i == 0 else 0, ("09:40", "10:30", "14:00")[i])
        extra = {"bonus": spec.bonus} if spec.bonus else {}
        r.fire(case, "reward", voter, note=spec.reward_comment, **extra)
    if spec.prepare_batch:
        yield r.later(0, "16:30")
        if _pending(case):
            r.prepare_batch("proposal")


def _proposal_rating(r: Replay, case: Case, spec: Proposal) -> Iterator:
    if spec.rating:
        attitude, result, comment = spec.rating
        yield r.later(1, "14:10")
        r.fire(case, "rate", spec.author, attitude=attitude, result=result, note=comment)


# -- congress motions --------------------------------------------------------------------------

def motion_story(r: Replay, spec: Motion, session: CongressSession) -> Iterator:
    yield _start(r, spec.start)
    data = {"title": spec.title, "reasons": spec.reasons, "proposal_text": spec.proposal_text,
            "session": session.id}
    case = r.create(spec.key, "motion", spec.author, data)
    yield r.later(0, "17:10")
    r.fire(case, "open_for_cosigning", spec.author)
    for i, rep in enumerate(x for x in ("rep1", "rep2", "rep3") if x != spec.author):
        if spec.stop == "cosigning" and i == 1:
            return
        yield r.later(1, ("09:20", "14:45")[i])
        r.fire(case, "cosign", rep)
    yield r.later(1, "10:10")
    r.fire(case, "submit", spec.author)
    if spec.stop == "submitted":
        return
    if spec.outcome == "merge":
        target = lambda: r.cases.get(spec.merge_into)  # noqa: E731
        yield r.until(lambda: target() is not None and target().state in ("handling", "replied", "closed"))
        yield r.later(1, "10:40")
        r.fire(case, "merge", "motions1", into=target().id, note="与该提案内容相近，合并办理")
        return
    yield r.later(3, "10:40")
    if spec.outcome == "not_file":
        r.fire(case, "not_file", "motions1", reason=spec.reason)
        return
    if spec.outcome == "opinion":
        r.fire(case, "convert_to_opinion", "motions1", department="TECH", note="作为意见建议转生产技术部办理")
    else:
        if spec.returned_by:  # filed to a department that is not responsible: it returns it (退办)
            r.fire(case, "file", "motions1", department=spec.returned_by)
            yield r.later(1, "09:20")
            r.fire(case, "acknowledge", HANDLER_OF[spec.returned_by])
            yield r.later(2, "14:30")
            r.fire(case, "return_misrouted", HANDLER_OF[spec.returned_by], reason=spec.return_reason)
            yield r.later(1, "10:15")
        extra = {"deadline": calendar.add_working_days(local(utcnow()).date(), spec.deadline_days).isoformat()
                 } if spec.deadline_days else {}
        r.fire(case, "file", "motions1", department=spec.department, co_departments=list(spec.co_departments),
               **extra)
        yield r.later(1, "09:20")
        r.fire(case, "acknowledge", HANDLER_OF[spec.department])
    elapsed = yield from _handling(r, spec, case)
    if elapsed is None or spec.stop == "handling":
        return
    yield r.later(max(spec.reply_days - elapsed, 1), "15:00")
    r.fire(case, "reply", "handler1", text=spec.reply)
    if spec.rating == "none":
        return  # no rating: it closes by itself after 10 working days
    for i, (rep, attitude, result, comment) in enumerate(spec.cosigner_ratings):
        yield r.later(1 + i, "09:50")
        r.fire(case, "rate", rep, attitude=attitude, result=result, note=comment)
    yield r.later(3, "11:20")
    if spec.rating == "reopen":
        r.fire(case, "rate_unsatisfied", spec.author, note=spec.reopen_comment)
    elif spec.rating == "unsatisfied":
        r.fire(case, "rate", spec.author, attitude="basically_satisfied", result="unsatisfied",
               note="只做了清洁整理，休息室空间和床位问题没有解决。")
    else:
        r.fire(case, "rate", spec.author, attitude="satisfied", result=spec.rating)
    if spec.callback:
        yield r.later(2, "10:30")
        how, notes, outcome, explanation = spec.callback
        extra = {"explanation": explanation} if outcome == "explain" else {}
        if outcome == "fix":
            extra["deadline"] = calendar.add_working_days(local(utcnow()).date(), spec.reply_days + 5).isoformat()
        r.fire(_callback_of(case), "record", "staff1", how=how, notes=notes, outcome=outcome, **extra)
    if spec.rating == "reopen":
        yield r.later(spec.reply_days, "15:00")
        r.fire(case, "reply", "handler1", text=spec.second_reply)
        yield r.later(2, "11:20")
        r.fire(case, "rate", spec.author, attitude="satisfied", result="basically_satisfied")


def _callback_of(case: Case):
    from .ratings.models import Callback
    return db.session.scalar(select(Callback).where(Callback.case_id == case.id, Callback.state == "due")
                             .order_by(Callback.id.desc()).limit(1))


def _handling(r: Replay, spec: Motion, case: Case) -> Iterator:
    """While the department handles it, on one timeline counted in working days from the lead's receipt:
    co-handlers' opinions, progress notes, a staff slip, answers on open slips. The sweep's own slips come
    from the morning runs. Returns the last event's day, or None when the next event is still to come."""
    from .supervision import operations as supervision
    events = sorted([(days, 0, "opinion", (dept, text)) for dept, days, text in spec.opinions]
                    + [(days, 1, "note", text) for days, text in spec.progress]
                    + ([(spec.staff_slip[0], 2, "slip", spec.staff_slip[1:])] if spec.staff_slip else [])
                    + ([(spec.slip_answer[0], 3, "answer", spec.slip_answer[1])] if spec.slip_answer else []),
                    key=lambda e: e[:2])
    done = 0
    for days, _order, what, value in events:
        moment = r.later(days - done, "16:10" if what == "opinion" else "16:20")
        if moment > r.end:
            return None
        yield moment
        done = days
        if what == "opinion":
            r.fire(case, "contribute", HANDLER_OF[value[0]], text=value[1])
        elif what == "note":
            r.fire(case, "progress", "handler1", text=value)
        elif what == "slip":
            colour, remark = value
            supervision.issue(case, r.user("staff1"), colour=colour, remark=remark)
        else:
            for slip in supervision.for_case(case):
                if slip.status == "issued":
                    supervision.answer(slip, r.user("handler1"), value)
        db.session.commit()
    return done


# -- the rest of the union's year --------------------------------------------------------------

def fund_story(r: Replay) -> Iterator:
    """Income during the year, and the aid fund's quarterly report for each quarter that has ended."""
    from .funds.models import Fund
    from .funds.operations import add_income
    from .notices.operations import fund_report
    aid = db.session.scalar(select(Fund).where(Fund.purpose == "aid").order_by(Fund.id))
    events = [(r.month(*when), ("income", amount, source, note)) for when, amount, source, note in INCOMES]
    quarter = date(r.first_day.year, 3 * ((r.first_day.month - 1) // 3) + 1, 1)
    while True:
        nxt = (date(quarter.year + 1, 1, 1) if quarter.month == 10
               else quarter.replace(month=quarter.month + 3))
        due = _at(calendar.add_working_days(nxt, 2), "10:00")
        if due > r.end:
            break
        events.append((due, ("report", quarter.year, (quarter.month - 1) // 3 + 1)))
        quarter = nxt
    for moment, (what, *args) in sorted(events):
        yield moment
        if what == "income":
            amount, source, note = args
            add_income(aid, amount, source, note, r.user("fund1"))
        else:
            fund_report(aid, args[0], args[1], r.user("fund1"))
        db.session.commit()


def branch_union(r: Replay) -> None:
    """The parts factory's union joins on the history's first morning: its group, people, aid fund and
    thresholds (casework/demo_story.py, BRANCH)."""
    from .demo import PASSWORD
    from .accounts.models import RoleAssignment
    from .core import settings
    from .funds.models import Fund
    with travel(_at(r.first_day, "08:40")):
        units = {"HQ": r.hq}
        for code, name, level, parent in (BRANCH, BRANCH_GROUP):
            unit = Unit(code=code, name=name, level=level, parent=units[parent])
            db.session.add(unit)
            db.session.flush()
            unit.set_path()
            units[code] = unit
        for username, name, emp, phone, at, role in BRANCH_PEOPLE:
            user = User(username=username, name=name, employee_no=emp, phone=phone, unit=units[at],
                        email=f"{username}@union.example.com")
            user.set_password(PASSWORD)
            user.roles.append(RoleAssignment(role="worker", unit=units[at]))
            if role != "worker":
                user.roles.append(RoleAssignment(role=role, unit=units[BRANCH[0]]))
            db.session.add(user)
        db.session.add(Fund(code=BRANCH_FUND[0], name=BRANCH_FUND[1], unit=units[BRANCH[0]], purpose="aid",
                            balance=0, reserved=0))
        for category, fen in BRANCH_THRESHOLDS.items():
            settings.put(units[BRANCH[0]], f"aid_parent_threshold_{category}", fen)
        db.session.commit()


def branch_fund_story(r: Replay) -> Iterator:
    from .funds.models import Fund
    from .funds.operations import add_income
    fund = db.session.scalar(select(Fund).where(Fund.code == BRANCH_FUND[0]))
    for when, amount, source, note in BRANCH_INCOMES:
        yield r.month(*when)
        add_income(fund, amount, source, note, r.user("fund1"))
        db.session.commit()


def report_story(r: Replay) -> Iterator:
    """A report (举报) of undisclosed aid, checked and answered by staff."""
    from .disclosure import operations
    yield r.month(*REPORT.at)
    row = operations.report(r.hq, REPORT.text, anonymous=True, user=None)
    db.session.commit()
    yield r.later(*REPORT.answered)
    operations.answer_report(row, r.user(REPORT.answered_by), REPORT.answer, substantiated=False, reward=None)
    db.session.commit()


def upward_story(r: Replay) -> Iterator:
    """The year's upward reports (年度上报) to the company union near the end: the parts factory's union (B3)
    submits its own and HQ's staff accept it after one return; the offices' branch (B1) has just submitted."""
    from .core import engine
    from .upward import operations as upward
    b3, b1 = (db.session.scalar(select(Unit).where(Unit.code == c)) for c in (BRANCH[0], "B1"))
    yield r.ago(8, "09:30")
    year = local(utcnow()).year
    report = upward.draft(r.user("committee6"), {"unit": b3.id, "year": year, "summary": UPWARD_SUMMARIES[0]})
    engine.fire(report, "submit", r.user("committee6"))
    db.session.commit()
    yield r.later(1, "14:20")
    engine.fire(report, "return_report", r.user("staff1"), {"reason": UPWARD_RETURN})
    db.session.commit()
    yield r.later(1, "10:10")
    upward.correct(report, r.user("committee6"), {"summary": UPWARD_SUMMARIES[1]})
    engine.fire(report, "submit", r.user("committee6"))
    db.session.commit()
    yield r.later(1, "15:40")
    engine.fire(report, "accept_report", r.user("staff1"))
    db.session.commit()
    yield r.ago(1, "16:30")
    other = upward.draft(r.user("committee1"), {"unit": b1.id, "year": year, "summary": UPWARD_SUMMARIES[2]})
    engine.fire(other, "submit", r.user("committee1"))
    db.session.commit()


def privacy_story(r: Replay) -> Iterator:
    """我的数据 and the reads log at work: a worker opens another's aid request and is refused, asks for
    a correction of their data that union staff answer, and takes their e-mail as a daily digest."""
    from .notifications.models import set_mode
    from .privacy import corrections
    yield r.month(1, 12, "20:10")
    yield r.until(lambda: "A3" in r.cases and r.cases["A3"].state != "draft")
    r.read(r.cases["A3"], "worker2", allowed=False)
    yield r.later(3, "19:30")
    row = corrections.ask(r.user(CORRECTION.asked_by), CORRECTION.text)
    set_mode(r.user(CORRECTION.asked_by), "digest")
    db.session.commit()
    yield r.later(1, "10:40")
    corrections.answer(row, r.user(CORRECTION.answered_by), CORRECTION.answer)
    db.session.commit()


# -- loading -----------------------------------------------------------------------------------

def has_cases() -> bool:
    return db.session.scalar(select(Case.id).limit(1)) is not None


@contextmanager
def _quietly():
    """While replaying: no e-mail about the past, and no log line per step (they are not live traffic)."""
    config = current_app.config
    smtp, config["CASEWORK_SMTP_HOST"] = config.get("CASEWORK_SMTP_HOST"), ""
    logger = logging.getLogger("casework")
    level = logger.level
    logger.setLevel(logging.WARNING)
    try:
        yield
    finally:
        config["CASEWORK_SMTP_HOST"] = smtp
        logger.setLevel(level)


def _co_handlers(r: Replay) -> None:
    """The co-handling departments' handlers join with the history (the demo union has the lead's only)."""
    from .accounts.models import Department, DepartmentMember, RoleAssignment
    from .demo import PASSWORD
    unit = r.user("handler1").unit
    for username, name, employee_no, phone, code in CO_HANDLERS:
        if db.session.scalar(select(User).where(User.username == username)) is not None:
            continue
        user = User(username=username, name=name, employee_no=employee_no, phone=phone, unit=unit,
                    email=f"{username}@union.example.com")
        user.set_password(PASSWORD)
        user.roles.append(RoleAssignment(role="worker", unit=unit))
        db.session.add(user)
        db.session.flush()
        dept = db.session.scalar(select(Department).where(Department.code == code))
        db.session.add(DepartmentMember(user=user, department=dept))
    db.session.commit()


def load_history(now: datetime | None = None) -> dict | None:
    """Replays the demo history up to `now` (default: now). Returns what it made, or None when the database
    already has cases (then it adds nothing). Needs the demo union (demo.load) first; commits as it goes."""
    if has_cases():
        return None
    r = Replay(now or utcnow())
    session = db.session.scalar(select(CongressSession).where(CongressSession.status == "open")
                                .order_by(CongressSession.id))
    for username in ("staff1", "fund1", "handler1", "motions1", "rep1", "committee5", "evaluator2"):
        r.user(username)  # fails early, with a clear message, without the demo union
    _co_handlers(r)
    if session is None:
        raise HistoryError("the demo union has no open congress session; load the demo union first")
    # The session opens in the history's third month, when its motions are raised, and is still open for
    # motions now (as the demo union's session is).
    session.starts_on = local(r.month(2, 1)).date()
    session.cosigning_until = max(session.cosigning_until,
                                  datetime.combine(r.last_day + timedelta(days=30), time.min))
    session.ends_on = max(session.ends_on, r.last_day + timedelta(days=60))
    db.session.commit()
    branch_union(r)
    stories = ([("branch_funds", branch_fund_story(r))]
               + [(s.key, aid_story(r, s)) for s in AID] + [(s.key, proposal_story(r, s)) for s in PROPOSALS]
               + [(s.key, motion_story(r, s, session)) for s in MOTIONS]
               + [("funds", fund_story(r)), ("report", report_story(r)), ("privacy", privacy_story(r)),
                  ("upward", upward_story(r))])
    with _quietly():
        r.run(stories)
    from .disclosure.models import Disclosure
    counts = dict(db.session.execute(select(Case.kind, func.count()).group_by(Case.kind)).all())
    return {"aid": counts.get("aid", 0), "proposals": counts.get("proposal", 0),
            "motions": counts.get("motion", 0), "steps": r.steps,
            "postings": db.session.scalar(select(func.count()).select_from(Disclosure)
                                          .where(Disclosure.status.in_(("posted", "ended")))),
            "from": r.first_day.isoformat(), "to": r.last_day.isoformat()}


__all__ = ["load_history", "history_start", "base_moment", "has_cases", "HistoryError", "AID", "PROPOSALS",
           "MOTIONS"]
