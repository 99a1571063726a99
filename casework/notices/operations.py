"""Issuing notices: number, render once, store with the hash; plus the plain values each kind prints.

The caller commits once (the transition's transaction, or the view's); nothing here commits.
"""
from __future__ import annotations

import hashlib
import json
import secrets
from datetime import date, datetime, time, timedelta

from flask_babel import force_locale, gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError

from ..accounts.models import Department, Unit, User
from ..clock import local, to_utc, utcnow
from ..config import public_url
from ..core import kinds, settings, tenancy
from ..core.models import AuditEntry, Case, next_serial
from ..core.permissions import can_view
from ..extensions import db
from ..labels import CHOICE_LABELS, GRADE_LABELS, METHOD_LABELS, SOURCE_LABELS, in_chinese
from . import renderer, signing
from .models import KINDS, Notice

# The unit's own code in front of the 代字 (工帮〔2026〕12号); a branch may set its own, e.g. 机工.
settings.declare("notice_org_code", "工", "text",
                 _l("The unit's short name in notice numbers, e.g. 工 in 工助〔2026〕12号."))
CODE_ALPHABET = "23456789ABCDEFGHJKLMNPQRSTUVWXYZ"  # no 0/O, 1/I: read aloud and typed by hand
CODE_LENGTH = 12  # 60 bits: not guessable, short enough to type from paper



# -- issuing ---------------------------------------------------------------------------------

def new_code() -> str:
    return "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))


def normalise_code(raw: str) -> str:
    return "".join(ch for ch in (raw or "").upper() if ch.isalnum())[:CODE_LENGTH + 4]


def public_base() -> str:
    """Where /verify lives for people holding the paper: CASEWORK_PUBLIC_URL only, never the request's Host
    (a forged Host on the first fetch would be printed in the official notice for good)."""
    return public_url()


def number_for(kind: str, unit: Unit, year: int, seq: int) -> str:
    code = settings.get(unit, "notice_org_code") or "工"
    return f"{code}{KINDS[kind].mark}〔{year}〕{seq}号"


def issue(kind: str, *, unit: Unit, values: dict, case: Case | None = None, subject: str | None = None,
          user: User | None = None, now: datetime | None = None,
          supersedes: list[Notice] | None = None) -> Notice:
    """Take the next 文号 of this kind at this unit for the year, render the PDF once, store it with its hash.

    Rendered synchronously inside the caller's transaction: a one-page notice takes ~0.1-0.2 s with
    libharfbuzz-subset0 installed, and the number is printed in the PDF, so it must be taken first; the
    counter row stays locked until the caller commits, which keeps numbers gap-free and unique.
    """
    spec = KINDS[kind]
    now = now or utcnow()
    day = local(now).date()
    seq = next_serial(f"notice:{kind}:{unit.id}", day.year)
    code = new_code()
    url = f"{public_base()}/verify/{code}"
    stored = {**values, "kind": kind, "title": values.get("title") or spec.title,
              "org": values.get("org") or unit.name, "number": number_for(kind, unit, day.year, seq),
              "date": renderer.date_zh(day), "verify_code": _display(code), "verify_url": url}
    with force_locale("zh"):  # a notice is Chinese, whatever the language of the request that issues it
        pdf = renderer.render(spec.template, {**stored, "qr": renderer.qr_svg(url)})
    pdf = signing.sign(pdf, org=_root_name(unit), reason=f"{stored['title']} {stored['number']}")
    notice = Notice(kind=kind, unit_id=unit.id, year=day.year, seq=seq, number=stored["number"],
                    issued_at=now, case_id=case.id if case is not None else None, subject=subject,
                    sha256=hashlib.sha256(pdf).hexdigest(), size=len(pdf), verify_code=code,
                    issued_by_id=user.id if user is not None else None, fields=stored, pdf=pdf)
    db.session.add(notice)
    db.session.flush()
    earlier = supersedes if supersedes is not None else _replaced_by(notice)
    for old in earlier:
        if old.id != notice.id and old.superseded_by_id is None:
            old.superseded_by_id = notice.id
    return notice


def _root_name(unit: Unit) -> str:
    """The organisation a signing certificate is made for when none exists yet: the unit's own union."""
    return tenancy.union_of(unit).name


def _replaced_by(notice: Notice) -> list[Notice]:
    if notice.case_id is None or not notice.spec.supersedes:
        return []
    return db.session.scalars(select(Notice).where(
        Notice.case_id == notice.case_id, Notice.kind.in_(notice.spec.supersedes),
        Notice.superseded_by_id.is_(None), Notice.id != notice.id)).all()


def _display(code: str) -> str:
    return "-".join(code[i:i + 4] for i in range(0, len(code), 4))


# -- reading ---------------------------------------------------------------------------------

def for_case(case: Case) -> list[Notice]:
    return db.session.scalars(select(Notice).where(Notice.case_id == case.id).order_by(Notice.id)).all()


def by_code(raw: str) -> Notice | None:
    code = normalise_code(raw)
    if len(code) != CODE_LENGTH:
        return None
    return db.session.scalar(select(Notice).where(Notice.verify_code == code))


def may_see(user, notice: Notice) -> bool:
    """Public kinds to all; statistics reports to whoever may see the statistics of their unit; the others to
    whoever may see their case, except that those who see an aid request only as its payee (the fund manager)
    see its receipt, not the letters about the decision."""
    if notice.spec.public:
        return True
    if notice.spec.statistics:
        from ..stats.tables import may_see_statistics
        return getattr(user, "is_authenticated", False) and may_see_statistics(user, notice.unit)
    case = notice.case
    if case is None or not getattr(user, "is_authenticated", False) or not can_view(user, case):
        return False
    if notice.kind != "aid_receipt":
        return kinds.view_level(case, user) == "full"
    return True


def visible_for_case(case: Case, user) -> list[Notice]:
    return [n for n in for_case(case) if may_see(user, n)]


# -- what each kind prints (plain values only) -------------------------------------------------

def issuing_unit(case: Case) -> Unit:
    """Who signs: the unit of the fund that pays (aid, rewards), the congress's unit for motions."""
    from ..funds.models import Fund
    from ..funds.operations import fund_for
    if case.kind == "motion":
        return case.session.unit
    fund = db.session.get(Fund, case.fund_id) if getattr(case, "fund_id", None) else None
    if fund is None and getattr(case, "referred_unit", None) is not None:
        return case.referred_unit  # the parent union decided (its rejection): it signs
    fund = fund or fund_for(case.unit, "aid" if case.kind == "aid" else "reward")
    return fund.unit if fund is not None else case.unit


def _submitted_on(case: Case) -> str:
    at = db.session.scalar(select(func.min(AuditEntry.at)).where(AuditEntry.case_id == case.id,
                                                                 AuditEntry.trigger == "submit"))
    return renderer.date_zh(local(at or case.created_at).date())


def _case_common(case: Case) -> dict:
    return {"case_number": case.number, "case_title": case.title, "name": case.applicant.name,
            "person_unit": case.unit.name, "submitted": _submitted_on(case)}


def case_values(kind: str, case: Case, *, text: str = "", actor: User | None = None,
                now: datetime | None = None, trigger: str = "") -> dict:
    """The plain values a case's notice prints. Never circumstances, visit findings, income, illness, family
    or ID numbers: only what the letter is about."""
    v = _case_common(case)
    now = now or utcnow()
    if case.kind == "aid":
        from ..funds.models import Fund
        fund = db.session.get(Fund, case.fund_id) if case.fund_id else None
        v.update(category=in_chinese(CHOICE_LABELS, case.category), amount=case.amount_approved or 0,
                 fund=fund.name if fund else "", posting_days=int(settings.get(case.unit, "posting_days")))
        # A decision of the parent union: the letter says both committees decided.
        v.update(referred_from="")
        if trigger in ("parent_approve", "parent_reject"):
            from ..aid.levels import grassroots_unit
            v.update(referred_from=grassroots_unit(case).name)
        if kind == "aid_rejection":
            v.update(reason=text, after_objection=trigger == "uphold_objection")
        if kind == "aid_receipt":
            from ..funds.models import LedgerEntry
            debit = db.session.scalar(select(LedgerEntry).where(LedgerEntry.case_id == case.id,
                                                                LedgerEntry.kind == "debit")
                                      .order_by(LedgerEntry.id.desc()).limit(1))
            v.update(employee_no=case.applicant.employee_no or "",
                     amount=debit.amount if debit else case.amount_approved or 0,
                     method=in_chinese(METHOD_LABELS, debit.method if debit else "", "—"),
                     reference=(debit.reference if debit else "") or "",
                     paid_on=renderer.date_zh(local(debit.at if debit else now).date()),
                     handler=actor.name if actor else "")
    elif case.kind == "proposal":
        names = [case.applicant.name] + [p.user.name for p in case.parties if p.role == "coproposer"]
        outcome = {"decline": "declined", "not_adopt": "not_adopted"}.get(trigger, "rewarded")
        v.update(names=list(dict.fromkeys(names)), grade=in_chinese(GRADE_LABELS, case.grade or "", ""),
                 reward=case.reward or 0, benefit=case.benefit or 0, reply=text or case.reply or "",
                 outcome=outcome, department=case.department.name if case.department else "")
    else:
        co = [d.name for d in db.session.scalars(select(Department).where(
            Department.id.in_(case.co_department_ids or [])).order_by(Department.id))]
        v.update(session=case.session.name, department=case.department.name if case.department else "",
                 co_departments=co, deadline=renderer.date_zh(case.deadline) if case.deadline else "",
                 cosigners=[p.user.name for p in case.parties if p.role == "cosigner"],
                 reason=text, reply=text or case.reply or "", final=bool(case.reopened),
                 rating_days=int(settings.get(case.unit, "motion_rating_days")))
    return v


# What a case's notice prints about the person beyond the pseudonym: cleared when the case is anonymised.
PERSONAL = ("employee_no", "reason", "reference", "case_title")


def reissue_anonymised(case: Case, pseudonym: User) -> int:
    """Each notice of an anonymised case printed again, number and verify code kept, with the pseudonym for
    the name and no personal words; its hash is the new PDF's (the old one's bytes are gone)."""
    count = 0
    for notice in db.session.scalars(select(Notice).where(Notice.case_id == case.id).order_by(Notice.id)):
        stored = {**notice.fields, "name": pseudonym.name, **{k: "" for k in PERSONAL if k in notice.fields}}
        spec = KINDS[notice.kind]
        pdf = renderer.render(spec.template, {**stored, "qr": renderer.qr_svg(stored["verify_url"])})
        pdf = signing.sign(pdf, org=_root_name(notice.unit), reason=f"{stored['title']} {stored['number']}")
        # Notices are otherwise immutable (models.py): this one rewrite is the law's, not an edit.
        table = Notice.__table__
        db.session.execute(update(table).where(table.c.id == notice.id).values(
            fields=stored, pdf=pdf, sha256=hashlib.sha256(pdf).hexdigest(), size=len(pdf)))
        db.session.expire(notice)
        count += 1
    return count


def issue_for_case(kind: str, case: Case, *, text: str = "", user: User | None = None,
                   now: datetime | None = None, trigger: str = "") -> Notice:
    values = case_values(kind, case, text=text, actor=user, now=now, trigger=trigger)
    return issue(kind, unit=issuing_unit(case), values=values, case=case, user=user, now=now)


# -- public notices ----------------------------------------------------------------------------

def for_disclosure(d) -> Notice:
    """The 公开栏 posting of a disclosure version, issued once (its items are frozen at posting); a corrected
    version's notice supersedes the earlier version's."""
    subject = f"disclosure:{d.id}"
    found = db.session.scalar(select(Notice).where(Notice.subject == subject))
    if found is not None:
        return found
    if d.status not in ("posted", "ended", "superseded") or d.starts_at is None:
        from ..core.errors import Conflict
        raise Conflict("This disclosure has not been posted yet.", code="not_posted")
    items = [{"seq": i.seq, "name": i.masked_name, "unit": i.unit_name, "category": i.category,
              "amount": i.amount, "withdrawn": bool(i.withdrawn)} for i in d.items]
    values = {"title": d.title, "version": d.version, "correction": d.correction or "",
              "starts": renderer.date_zh(local(d.starts_at).date()),
              "ends": renderer.date_zh(d.ends_on) if d.ends_on else "", "period_days": d.period_days,
              "items": items, "total": sum(i["amount"] or 0 for i in items if not i["withdrawn"]),
              "has_amounts": any(i["amount"] is not None for i in items), "signers": list(d.signers or [])}
    earlier = db.session.scalars(select(Notice).where(
        Notice.subject == f"disclosure:{d.supersedes_id}")).all() if d.supersedes_id else []
    try:
        with db.session.begin_nested():
            return issue("board_posting", unit=d.unit, values=values, subject=subject, supersedes=earlier)
    except IntegrityError:  # someone issued it at the same moment: theirs stands (and their number)
        return db.session.scalar(select(Notice).where(Notice.subject == subject))


def quarter_bounds(year: int, quarter: int) -> tuple[date, date]:
    if quarter not in (1, 2, 3, 4):
        raise ValueError("quarter must be 1-4")
    start = date(year, 3 * quarter - 2, 1)
    end = date(year + (quarter == 4), (3 * quarter) % 12 + 1, 1)
    return start, end


def fund_report_values(fund, year: int, quarter: int) -> dict:
    """Totals only, from the ledger: no names, no cases."""
    from ..funds.models import LedgerEntry
    start, end = quarter_bounds(year, quarter)
    lo, hi = to_utc(datetime.combine(start, time())), to_utc(datetime.combine(end, time()))

    def sums(cond):
        rows = db.session.execute(select(LedgerEntry.kind, LedgerEntry.source, func.count(),
                                         func.coalesce(func.sum(LedgerEntry.amount), 0))
                                  .where(LedgerEntry.fund_id == fund.id, cond)
                                  .group_by(LedgerEntry.kind, LedgerEntry.source)).all()
        # PostgreSQL's sums are Decimal
        return [(kind, src, int(n), int(amount)) for kind, src, n, amount in rows]

    def balance(rows):
        total = {"income": 0, "out": 0, "reserve": 0}
        for kind, _src, _n, amount in rows:
            if kind == "income":
                total["income"] += amount
            elif kind in ("debit", "payment", "reversal"):
                total["out"] += amount
            if kind == "reserve":
                total["reserve"] += amount
            elif kind in ("release", "debit"):
                total["reserve"] -= amount
        return total["income"] - total["out"], total["reserve"]

    opening, _reserved = balance(sums(LedgerEntry.at < lo))
    period = sums((LedgerEntry.at >= lo) & (LedgerEntry.at < hi))
    closing, reserved = balance(sums(LedgerEntry.at < hi))
    income = {}
    for kind, src, _n, amount in period:
        if kind == "income":
            label = in_chinese(SOURCE_LABELS, src or "other")
            income[label] = income.get(label, 0) + amount
    count = {k: (n, a) for k, s, n, a in period if k in ("debit", "payment", "reversal")}
    return {"title": f"{fund.name}{year}年第{'一二三四'[quarter - 1]}季度收支情况报告", "fund": fund.name,
            "period": f"{renderer.date_zh(start)}至{renderer.date_zh(end - timedelta(days=1))}",
            "opening": opening, "income": [{"source": k, "amount": a} for k, a in income.items()],
            "income_total": sum(income.values()),
            "aid_count": count.get("debit", (0, 0))[0], "aid_total": count.get("debit", (0, 0))[1],
            "paid_count": count.get("payment", (0, 0))[0], "paid_total": count.get("payment", (0, 0))[1],
            "reversal_total": count.get("reversal", (0, 0))[1],
            "closing": closing, "reserved": reserved, "free": closing - reserved}


def fund_report(fund, year: int, quarter: int, user: User | None = None) -> Notice:
    """The quarterly fund report; issued again (superseding the last) only when the figures changed."""
    notice, _issued = issue_report("fund_report", unit=fund.unit, about=f"fund:{fund.id}:{year}Q{quarter}",
                                   values=fund_report_values(fund, year, quarter), user=user)
    return notice


# -- reports: one current notice per subject, reissued when its figures change -------------------

def current_report(kind: str, about: str) -> tuple[Notice | None, int]:
    """The current (not superseded) report of this kind about `about`, and how many were ever issued."""
    earlier = db.session.scalars(select(Notice).where(
        Notice.kind == kind, Notice.subject.startswith(f"{about}/", autoescape=True))
        .order_by(Notice.id)).all()
    return next((n for n in reversed(earlier) if n.superseded_by_id is None), None), len(earlier)


def issue_report(kind: str, *, unit: Unit, about: str, values: dict,
                 user: User | None = None) -> tuple[Notice, bool]:
    """(notice, issued): the current report about `about` (e.g. "fund:1:2026Q4") when it printed the same
    figures, else a new one (subject "<about>/<n>") that supersedes it. Figures are compared as stored (JSON),
    so values must be plain JSON: the issue date and number are not figures and do not count."""
    values = json.loads(json.dumps(values, ensure_ascii=False))
    current, count = current_report(kind, about)
    if current is not None and {k: current.fields.get(k) for k in values} == values:
        return current, False
    try:
        with db.session.begin_nested():
            return issue(kind, unit=unit, values=values, subject=f"{about}/{count + 1}", user=user,
                         supersedes=[current] if current else []), True
    except IntegrityError:  # issued by someone else at the same moment: theirs stands if it says the same
        current, _count = current_report(kind, about)
        if current is not None and {k: current.fields.get(k) for k in values} == values:
            return current, False
        from ..core.errors import Conflict
        raise Conflict(_("Someone issued this report at the same moment. Please try again."),
                       code="report_race") from None
