"""A year of demo casework: `load_history()` replays it through the engine, each step as of its own moment.

`flask --app wsgi casework demo` loads the demo union (casework/demo.py) and then this history, so that the
dashboard, the public board, the queues and the fund ledgers have something to show. Nothing here writes a
case's state: every step is `kinds.create` or `engine.fire` by the demo person whose job it is, inside
`clock.travel(moment)`, and the scheduler's `run_due` runs every morning in between, so postings end, cases
close and reminders go out at their times. Audit chains, ledger, notices, board and notifications therefore
agree with each other as they would after a real year.

The history runs from early January (or 300 days back when January is too recent) to now: finished cases in
the first nine months, cases at every earlier stage in the last weeks, counted in working days back from
today. Each story below is a generator that yields the next moment it acts at (or `Until(...)` a condition
the scheduler brings about); the replay runs them in time order. Private facts (illness, income, family)
go only where a person would type them: the circumstances, the category's details and the visit findings.
"""
from __future__ import annotations

import heapq
import io
import itertools
import logging
from contextlib import contextmanager
from dataclasses import dataclass, field
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

    def prepare_batch(self, kind: str) -> None:
        """Union staff prepare a board batch now rather than wait for Monday (/disclosures)."""
        from .disclosure import operations
        operations.make_batch(self.hq, kind)
        db.session.commit()

    # running -----------------------------------------------------------------------------------
    def run(self, stories: list[tuple[str, Iterator]]) -> None:
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

# Where a story starts: ("month", offset, day) in the history's months, or ("ago", working days) before today.
Start = tuple


@dataclass(frozen=True)
class Aid:
    key: str
    applicant: str
    category: str
    amount: str
    circumstances: str
    findings: str
    start: Start
    details: dict = field(default_factory=dict)
    proposed: str | None = None
    approved: str | None = None
    filer: str | None = None  # a group leader applying on the applicant's behalf (代申请)
    visitors: tuple[str, ...] = ("staff1", "committee4")
    voters: tuple[str, ...] = ("committee1", "committee2", "committee3")
    returned: str = ""  # staff return it for this, the applicant adds a document and resubmits
    intake_days: int = 2  # working days from submission to the start of verification
    reject: str = ""
    objection: tuple[str, str] | None = None  # (the objection on the board, the committee's answer)
    prepare_batch: bool = False  # staff prepare the board batch the same day instead of waiting for Monday
    method: str = "bank_transfer"
    receipt: str = "applicant"  # who confirms receipt: applicant, staff, or nobody (it closes by itself)
    stop: str | None = None  # the state the story stops in (now)
    votes_cast: int = 0  # with stop="pending_approval": committee votes already cast


DOCS = {"hardship": ("income_proof", "家庭收入证明.pdf"), "illness": ("medical_bills", "住院费用清单及票据.pdf"),
        "education": ("admission_letter", "录取通知书.pdf")}


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
    if spec.filer:
        data["applicant"] = spec.applicant
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
    if spec.stop == "verifying":
        return
    yield r.later(2, "14:30")
    r.fire(case, "record_visit", "staff1", visited_on=local(utcnow()).date().isoformat(),
           visitors=list(spec.visitors), findings=spec.findings)
    yield r.later(1, "11:00")
    r.fire(case, "verify", "staff1", proposed_amount=spec.proposed or spec.amount)
    decision = ("reject", {"reason": spec.reject}) if spec.reject else \
        ("approve", {"amount": spec.approved or spec.proposed or spec.amount})
    for i, voter in enumerate(spec.voters):
        if spec.stop == "pending_approval" and i >= spec.votes_cast:
            return
        yield r.later(*((2, "09:30"), (0, "11:15"), (1, "10:00"))[i])
        r.fire(case, decision[0], voter, note="" if spec.reject else "同意", **decision[1])
    if spec.reject or spec.stop == "pending_approval":
        return
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
    return r.ago(start[1], start[2] if len(start) > 2 else "10:00")


AID = [
    Aid("A1", "worker2", "holiday_visit", "800.00",
        "本人丈夫常年患慢性肾病在家休养，每月透析费用较高，女儿在读高中，家庭主要依靠本人工资维持。{festival}前申请节日慰问。",
        "入户走访，申请人家中陈设简陋，丈夫需定期透析，家庭月收入约三千元，情况属实。",
        ("month", 0, 6), visitors=("staff1", "committee4"), method="cash"),
    Aid("A2", "rep3", "holiday_visit", "600.00",
        "父母年迈多病，长期由本人赡养，妻子无固定工作，{festival}前家庭生活较为困难。",
        "走访了解，申请人赡养两位老人，母亲患高血压、糖尿病需长期服药，妻子打零工，收入不稳定，情况属实。",
        ("month", 0, 6, "14:30"), visitors=("staff1", "committee5"),
        voters=("committee2", "committee3", "committee5"),
        method="cash", receipt="staff"),
    Aid("A3", "worker1", "illness", "20000.00",
        "爱人去年底确诊乳腺癌，已行手术并进行化疗，医保报销后个人自付费用约4.68万元，家中积蓄已基本用尽，"
        "现申请大病救助。",
        "到医院及家中走访，核对了住院费用清单和医保结算单，自付费用属实；申请人爱人仍在化疗，孩子读初中。",
        ("month", 1, 3), details={"diagnosis": "乳腺癌术后化疗", "hospital": "市第一人民医院",
                                  "out_of_pocket": "46800.00"},
        proposed="15000.00", visitors=("staff1", "leader1")),
    Aid("A4", "worker3", "hardship", "5000.00",
        "母亲瘫痪在床需专人护理，女儿读高三、儿子读初中，爱人为照顾老人辞去工作，家庭仅靠本人收入。",
        "入户核实，申请人母亲长期卧床，家庭人均月收入约八百元，低于本单位困难职工认定标准，情况属实。",
        ("month", 2, 2), details={"household_size": 5, "monthly_income": "4100.00",
                                  "cause": "母亲瘫痪需专人护理，爱人无收入"},
        proposed="4000.00", intake_days=7, voters=("committee1", "committee3", "committee4"),
        visitors=("staff1", "committee5"), receipt="nobody"),
    Aid("A5", "rep1", "hardship", "3000.00",
        "妻子所在企业停产后一直没有稳定工作，父亲患脑梗后行动不便，家庭开支较大。",
        "入户走访，申请人父亲脑梗后遗症需康复治疗，妻子待业，家庭收入仅靠申请人工资，情况属实。",
        ("month", 3, 7), details={"household_size": 4, "monthly_income": "3600.00", "cause": "妻子待业，父亲脑梗康复"},
        filer="leader1", visitors=("staff1", "committee3"), receipt="staff"),
    Aid("A6", "handler1", "illness", "15000.00",
        "本人突发脑溢血住院治疗，医保报销后个人自付约3.85万元，出院后仍需康复治疗。",
        "到家中看望，申请人已出院在家康复，核对了住院结算单据，自付费用属实，家中老人和孩子需要照顾。",
        ("month", 4, 11), details={"diagnosis": "脑溢血", "hospital": "省人民医院", "out_of_pocket": "38500.00"},
        proposed="12000.00", returned="请补充出院小结及医保结算单，以便核定自付费用。",
        visitors=("staff1", "committee3"), voters=("committee1", "committee2", "committee5")),
    Aid("A7", "evaluator1", "hardship", "4000.00",
        "爱人患病后长期休养，孩子读大学，家庭开支较大。",
        "入户核实，申请人爱人已恢复工作，家庭人均月收入约二千六百元，高于本单位困难职工认定标准。",
        ("month", 5, 8), details={"household_size": 3, "monthly_income": "7800.00", "cause": "爱人病休，孩子读大学"},
        visitors=("staff1", "committee4"), voters=("committee2", "committee4", "committee5"),
        reject="经入户核实，申请人家庭人均收入高于本单位困难职工认定标准，不符合困难帮扶条件。"
               "如家庭情况发生变化，可重新提出申请。"),
    Aid("A8", "evaluator2", "illness", "12000.00",
        "女儿患急性淋巴细胞白血病，在儿童医院住院化疗，医保报销后个人自付约5.2万元，本人与爱人轮流请假陪护。",
        "到儿童医院及家中走访，核对住院费用清单，自付费用属实；家庭为照顾患儿已借款两万余元。",
        ("month", 6, 6), details={"diagnosis": "女儿急性淋巴细胞白血病", "hospital": "省儿童医院",
                                  "out_of_pocket": "52000.00"},
        proposed="10000.00", visitors=("staff1", "committee5"),
        voters=("committee1", "committee2", "committee4"),
        objection=("该职工家庭条件较好，不应享受大病救助，请工会核查。",
                   "经工会再次入户核实，申请人家庭医疗支出符合大病救助条件，异议不成立，按原决定发放救助金。")),
    Aid("A9", "worker3", "education", "5000.00",
        "女儿今年考入大学，学费及住宿费每年约五千八百元，母亲长期卧床，家庭难以承担子女入学费用。",
        "入户核实，申请人女儿已收到录取通知书，家庭仍需照顾卧床老人，符合金秋助学条件。",
        ("month", 7, 3), details={"child_name": "欧阳晓雨", "school": "华东理工大学", "tuition": "5800.00"},
        proposed="3000.00", visitors=("staff1", "committee5")),
    Aid("A10", "rep2", "education", "4000.00",
        "儿子今年考入大学，爱人下岗后打零工，收入微薄，子女考入大学学费困难。",
        "入户核实，录取通知书及学费标准属实，家庭主要收入为申请人工资，符合金秋助学条件。",
        ("month", 7, 3, "15:10"), details={"child_name": "王子涵", "school": "河南工业大学", "tuition": "4400.00"},
        proposed="3000.00", visitors=("staff1", "committee4"),
        voters=("committee3", "committee4", "committee5")),
    Aid("A11", "leader1", "holiday_visit", "800.00",
        "爱人长期患类风湿性关节炎，不能从事体力劳动，{festival}前申请节日慰问。",
        "走访了解，申请人爱人关节变形，需长期服药，家庭负担较重，情况属实。",
        ("month", 8, 7), visitors=("staff1", "committee3"), method="cash"),
    # Now: one approved and waiting to be paid, one on the board, one before the committee, one being
    # verified, one just submitted, one draft.
    Aid("A12", "rep3", "illness", "10000.00",
        "本人确诊腰椎间盘突出症并行手术治疗，医保报销后个人自付约2.9万元，术后三个月不能上班。",
        "到家中看望，申请人术后恢复中，核对了手术及住院费用票据，自付费用属实。",
        ("ago", 22), details={"diagnosis": "腰椎间盘突出症手术", "hospital": "市中心医院",
                              "out_of_pocket": "29000.00"},
        proposed="8000.00", visitors=("staff1", "committee4"), prepare_batch=True, stop="approved"),
    Aid("A13", "worker2", "hardship", "3000.00",
        "丈夫透析费用逐年增加，女儿今年上大学，家庭入不敷出。",
        "再次入户核实，申请人丈夫每周透析三次，女儿在外地读大学，家庭人均月收入不足一千元，情况属实。",
        ("ago", 12), details={"household_size": 3, "monthly_income": "2900.00", "cause": "丈夫长期透析，女儿读大学"},
        visitors=("staff1", "committee4"), voters=("committee1", "committee3", "committee5"),
        prepare_batch=True, stop="posting"),
    Aid("A14", "rep2", "hardship", "4000.00",
        "爱人下岗后打零工收入不稳定，婆婆近期住院，儿子读大学，家庭生活困难。",
        "入户核实，申请人婆婆因心衰住院，家庭月收入约三千二百元，有一名在读大学生，情况属实。",
        ("ago", 8), details={"household_size": 4, "monthly_income": "3200.00", "cause": "婆婆住院，儿子读大学"},
        proposed="3000.00", visitors=("staff1", "committee3"), voters=("committee2",),
        stop="pending_approval", votes_cast=1),
    Aid("A15", "rep1", "illness", "8000.00",
        "母亲确诊肺癌，正在进行靶向药物治疗，每月自付药费约六千元。",
        "", ("ago", 5), details={"diagnosis": "母亲肺癌靶向治疗", "hospital": "省肿瘤医院",
                                 "out_of_pocket": "36000.00"},
        visitors=("staff1", "leader1"), stop="verifying"),
    Aid("A16", "worker1", "hardship", "3000.00",
        "爱人化疗结束后仍无法工作，孩子明年中考，家庭收入仅靠本人工资，医疗借款尚未还清。",
        "", ("ago", 2), details={"household_size": 3, "monthly_income": "3900.00", "cause": "爱人病后无法工作"},
        stop="submitted"),
    Aid("A17", "handler1", "hardship", "2000.00",
        "脑溢血康复期间收入减少，孩子上高中，家庭开支较大。",
        "", ("ago", 1, "16:00"), stop="draft"),
]


# -- rationalisation proposals -----------------------------------------------------------------

@dataclass(frozen=True)
class Proposal:
    key: str
    author: str
    title: str
    problem: str
    suggestion: str
    start: Start
    expected_benefit: str = ""
    coproposers: tuple[str, ...] = ()
    decline: str = ""
    scores: tuple[tuple[int, str], tuple[int, str]] = ((80, "建议可行"), (80, "建议可行"))
    not_adopt: str = ""
    deadline_days: int = 60  # implementation deadline, calendar days after adoption
    result: str = ""
    benefit: str = "0.00"
    implemented_at: Start | None = None  # when the department reports it done (default: before the deadline)
    bonus: str = ""
    reward_comment: str = "予以表彰"
    prepare_batch: bool = False
    stop: str | None = None
    voters: tuple[str, ...] = ("committee1", "committee2", "committee3")


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
    if spec.not_adopt or spec.stop == "implementing":
        return
    yield _start(r, spec.implemented_at) if spec.implemented_at else r.later(25, "15:30")
    r.fire(case, "report_implemented", "handler1", result=spec.result, benefit=spec.benefit)
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


PROPOSALS = [
    Proposal("P1", "worker1", "冲压车间照明节能改造",
             "冲压车间现有照明为传统金卤灯，功率大、启动慢，夜班期间整夜常开，耗电量高，部分工位照度不足。",
             "将车间照明更换为LED节能灯具，按作业区域分组控制，并在通道、库区加装人体感应开关，非作业区域夜间自动调暗。",
             ("month", 0, 19), expected_benefit="预计每年节约电费约3万元", coproposers=("leader1",),
             scores=((92, "节能效果明显，投资回收期短，建议优先实施"), (88, "方案可行，需注意灯具防护等级")),
             deadline_days=75, result="已完成冲压车间240盏灯具更换及分区控制改造，经三个月运行统计，照明用电下降约45%，"
                                      "工位照度全部达到标准。",
             benefit="36000.00", bonus="300.00", reward_comment="节能降耗成效显著，予以表彰"),
    Proposal("P2", "worker2", "二车间设备点检记录电子化",
             "设备点检依靠纸质记录，填写不规范，数据难以汇总分析，设备隐患发现滞后。",
             "利用现有手持终端建立电子点检表，点检数据自动上传，参数超限时自动提醒维修班组。",
             ("month", 1, 5), expected_benefit="减少非计划停机，提高设备完好率",
             scores=((78, "思路清晰，需与设备管理系统对接"), (82, "实用性强")),
             result="已在二车间32台主要设备推行电子点检，隐患平均处理时间由3天缩短到1天。",
             benefit="15000.00"),
    Proposal("P3", "rep3", "办公区域推行双面打印和无纸化会议",
             "机关各部门打印量大，单面打印普遍，会议材料印发后大多一次性使用。",
             "打印机默认设置为双面打印，例会材料改为投屏和电子传阅，建立部门用纸台账。",
             ("month", 2, 9), scores=((62, "效益有限，但易于推行"), (65, "可在机关范围推广")),
             result="机关各部门打印机已统一设为双面打印，例会材料实行电子传阅，月用纸量下降约三成。",
             benefit="4000.00", voters=("committee2", "committee4", "committee5")),
    Proposal("P4", "leader1", "职工食堂增设夜班热餐供应",
             "夜班职工凌晨就餐只能选择面包、方便面，食堂就餐不便。",
             "食堂在夜班时段保留一个窗口，提供热汤面、水饺等简餐。",
             ("month", 3, 2),
             decline="经研究，该建议属于后勤服务日常管理事项，已转后勤保障部研究落实夜班就餐安排，"
                     "不列入合理化建议评审。感谢您对职工生活的关心。"),
    Proposal("P5", "worker3", "更换二车间老旧空压机",
             "二车间两台空压机使用已超过十五年，能耗高、故障多。",
             "更换为变频螺杆空压机，并加装余热回收装置。",
             ("month", 4, 6), scores=((50, "投资较大，回收期长"), (55, "需结合空压站整体改造统筹考虑")),
             not_adopt="经评审，该建议所需投资较大，且公司已将空压站整体改造列入明年技术改造计划，本建议暂不采纳。"
                       "感谢您的关注与支持。"),
    Proposal("P6", "rep1", "一车间夜班交接班信息化",
             "夜班交接依靠口头和纸质交接本，交接时间长，设备异常、物料短缺等信息容易遗漏。",
             "在班组终端上建立电子交接单，按设备、质量、安全、物料分项填写，接班人确认后方可开工。",
             ("month", 5, 4), expected_benefit="每班缩短交接时间约15分钟",
             scores=((80, "管理效益明显"), (76, "需做好班组培训")),
             deadline_days=150, result="一车间四个班组已全部使用电子交接单，交接时间平均缩短15分钟，交接遗漏问题明显减少。",
             benefit="20000.00", implemented_at=("ago", 7, "15:30"), prepare_batch=True,
             voters=("committee1", "committee4", "committee5")),
    Proposal("P7", "worker1", "冲压模具快速更换",
             "冲压线换模依靠人工找正，一次换模需要90分钟左右，影响设备利用率。",
             "制作标准化模具垫板和快速定位销，换模前预先准备工装，推行快速换模作业法。",
             ("month", 6, 8), expected_benefit="换模时间缩短一半以上",
             scores=((84, "效益明显，可先在一条线试点"), (79, "需评估定位销的加工周期")), deadline_days=30,
             stop="implementing"),
    Proposal("P8", "rep2", "仓库物料定置管理",
             "二车间线边仓物料摆放混乱，找料时间长，先进先出难以落实。",
             "按物料类别划线定置，设置标识牌和先进先出货架，每班由专人检查。",
             ("ago", 20), scores=((75, "简单易行"), (72, "可推广到其他车间")), stop="graded"),
    Proposal("P9", "worker2", "焊接烟尘局部收集改造",
             "二车间焊接工位烟尘较大，现有排风效果不好，职工反映咽喉不适。",
             "在固定焊接工位加装移动式烟尘净化器和局部吸风罩。",
             ("ago", 9), scores=((0, ""), (85, "有利于职业健康，建议尽快实施")), stop="evaluating"),
    Proposal("P10", "worker3", "一车间照明加装感应开关",
             "一车间通道和库区照明整夜常开，无人时也不关灯。",
             "在通道和库区照明回路加装人体感应开关。", ("ago", 2, "14:00"), stop="submitted"),
]


# -- congress motions --------------------------------------------------------------------------

@dataclass(frozen=True)
class Motion:
    key: str
    author: str
    title: str
    reasons: str
    proposal_text: str
    start: Start
    outcome: str = "file"  # file, merge, opinion, not_file
    co_departments: tuple[str, ...] = ()
    reason: str = ""  # not_file
    merge_into: str = ""
    reply: str = ""
    reply_days: int = 20
    rating: str = "satisfied"  # satisfied, basically_satisfied, reopen, none (closes by itself)
    reopen_comment: str = ""
    second_reply: str = ""
    stop: str | None = None


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
        r.fire(case, "file", "motions1", department="TECH", co_departments=list(spec.co_departments))
    if spec.stop == "handling":
        return
    yield r.later(spec.reply_days, "15:00")
    r.fire(case, "reply", "handler1", text=spec.reply)
    if spec.rating == "none":
        return  # no rating: it closes by itself after 10 working days
    yield r.later(3, "11:20")
    if spec.rating == "reopen":
        r.fire(case, "rate_unsatisfied", spec.author, note=spec.reopen_comment)
        yield r.later(spec.reply_days, "15:00")
        r.fire(case, "reply", "handler1", text=spec.second_reply)
        yield r.later(2, "11:20")
        r.fire(case, "rate", spec.author, satisfaction="basically_satisfied")
    else:
        r.fire(case, "rate", spec.author, satisfaction=spec.rating)


MOTIONS = [
    Motion("M1", "rep1", "关于实施车间照明改造、改善作业环境的提案",
           "一车间、二车间部分区域照明不足，灯具老化，夜班作业存在安全隐患，职工反映强烈。",
           "建议对车间照明系统进行全面检测，更换老化灯具，增设局部作业照明，并纳入年度安全技术措施计划。",
           ("month", 2, 2), co_departments=("LOG",),
           reply="生产技术部会同后勤保障部完成了一车间、二车间照明检测，更换灯具312盏，增设局部作业照明46处，"
                 "各作业区照度均已达到国家标准要求。"),
    Motion("M2", "rep2", "关于加强高温季节车间防暑降温工作的提案",
           "夏季车间温度高，部分工位超过35℃，职工中暑风险大。",
           "建议增设通风降温设备，高温时段调整作业安排，足额发放防暑降温用品。",
           ("month", 2, 3), co_departments=("LOG", "HR"), reply_days=25, rating="basically_satisfied",
           reply="已为各车间增设工业冷风机20台，高温时段实行错峰作业，并按标准发放防暑降温用品和高温津贴。"),
    Motion("M3", "rep3", "关于治理冲压车间噪声的提案",
           "冲压车间噪声长期超过85分贝，职工听力受到影响。",
           "建议从设备源头进行减振降噪改造，同时为一线职工配发合格的护听器，定期开展职业健康检查。",
           ("month", 2, 4), reply_days=18, rating="reopen",
           reply="已对3台冲床加装隔音罩，并为一线职工配发降噪耳塞。",
           reopen_comment="隔音罩效果有限，噪声仍然较大，希望从设备源头治理。",
           second_reply="已将冲压设备减振降噪改造列入技改项目，完成2台冲床基础减振改造，车间噪声平均下降6分贝，"
                        "并为一线职工安排了职业健康检查。"),
    Motion("M4", "rep2", "关于增加二车间照明的提案",
           "二车间装配区照明偏暗，职工看图作业吃力。",
           "建议增设装配区照明灯具。", ("month", 2, 5), outcome="merge", merge_into="M1"),
    Motion("M5", "rep3", "关于加强新入职职工岗前安全培训的建议",
           "近年新入职职工较多，部分职工安全意识和操作技能不足。",
           "建议完善岗前安全培训内容，实行师带徒制度，考核合格后方可独立上岗。",
           ("month", 2, 9), outcome="opinion", reply_days=12, rating="none",
           reply="已修订新员工三级安全教育培训大纲，推行师带徒制度，新员工经考核合格后方可独立上岗。"),
    Motion("M6", "rep1", "关于调整职工食堂就餐时间的提案",
           "中午下班后食堂就餐拥挤，排队时间长。",
           "建议各车间错峰就餐，延长食堂供餐时间。", ("month", 2, 10), outcome="not_file",
           reason="该事项属于后勤日常管理，不符合大会提案立案条件，已转后勤保障部研究改进食堂就餐安排。"),
    Motion("M7", "rep1", "关于完善一线岗位劳动防护用品配备的提案",
           "部分一线岗位劳动防护用品更换周期长，款式不适合夏季作业。",
           "建议按岗位风险重新核定劳动防护用品配备标准，缩短易耗品更换周期。",
           ("ago", 22), co_departments=("HR",), stop="handling"),
    Motion("M8", "rep2", "关于改善夜班职工通勤条件的提案",
           "夜班下班时间为凌晨，公交已停运，职工多骑电动车回家，存在交通安全隐患。",
           "建议开通夜班通勤班车，或与公交公司协商延长末班车运营时间。", ("ago", 3), stop="cosigning"),
    Motion("M9", "rep3", "关于开展职工子女暑期托管的提案",
           "双职工家庭子女暑期无人照看，职工后顾之忧较大。",
           "建议由工会牵头，利用职工之家场地开办暑期托管班。", ("ago", 6), stop="submitted"),
]


# -- the rest of the union's year --------------------------------------------------------------

def fund_story(r: Replay) -> Iterator:
    """Income during the year, and the aid fund's quarterly report for each quarter that has ended."""
    from .funds.models import Fund
    from .funds.operations import add_income
    from .notices.operations import fund_report
    aid = db.session.scalar(select(Fund).where(Fund.purpose == "aid").order_by(Fund.id))
    events = [(r.month(5, 10), ("income", 2000000, "government", "财政帮扶补助（第二批）")),
              (r.month(7, 1), ("income", 860000, "donation", "“金秋助学”专项捐款"))]
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


def report_story(r: Replay) -> Iterator:
    """A report (举报) of undisclosed aid, checked and answered by staff."""
    from .disclosure import operations
    yield r.month(7, 20, "21:15")
    row = operations.report(r.hq, "反映二车间有职工家中经营门市，收入较高，却领取过困难补助，请工会核查。",
                            anonymous=True, user=None)
    db.session.commit()
    yield r.later(3, "16:00")
    operations.answer_report(row, r.user("staff1"), "经核查，所反映的职工近年未申领困难帮扶资金，"
                             "所反映情况与事实不符。感谢您对工会工作的监督。", substantiated=False, reward=None)
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
    if session is None:
        raise HistoryError("the demo union has no open congress session; load the demo union first")
    # The session opens in the history's third month, when its motions are raised, and is still open for
    # motions now (as the demo union's session is).
    session.starts_on = local(r.month(2, 1)).date()
    session.cosigning_until = max(session.cosigning_until,
                                  datetime.combine(r.last_day + timedelta(days=30), time.min))
    session.ends_on = max(session.ends_on, r.last_day + timedelta(days=60))
    db.session.commit()
    stories = ([(s.key, aid_story(r, s)) for s in AID] + [(s.key, proposal_story(r, s)) for s in PROPOSALS]
               + [(s.key, motion_story(r, s, session)) for s in MOTIONS]
               + [("funds", fund_story(r)), ("report", report_story(r))])
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
