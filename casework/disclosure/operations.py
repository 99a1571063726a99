"""Disclosure operations: batches, sign-off, posting, end of period, objections, reports, corrections.

Views, the API and the scheduler all call these; the caller commits once. Sign-off, ending and superseding
are the `board` workflow's steps (workflows/board.py), fired through the engine.
"""
from __future__ import annotations

import logging
import secrets
from datetime import datetime, timedelta

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.orm import joinedload

from ..accounts.models import Unit, User
from ..clock import local, today, utcnow
from ..core import calendar, engine, settings
from ..core.errors import CaseworkError, Conflict, Forbidden, Invalid, NotFound
from ..core.models import Case
from ..core.permissions import roles_at
from ..extensions import db
from ..labels import BOARD_TITLES, in_chinese
from .masking import mask_name
from .models import Disclosure, DisclosureItem, Objection, PendingItem

log = logging.getLogger(__name__)

settings.declare("report_reward", 50000, "money",
                 _l("Reward for a report (举报) that proved substantiated, in yuan."))
settings.declare("report_ack_days", 7, "days",
                 _l("Days within which union staff acknowledge an objection or report before they are reminded."),
                 lo=1, hi=60)
CODE_ALPHABET = "23456789ABCDEFGHJKLMNPQRSTUVWXYZ"  # no 0/O, 1/I: read aloud and typed by hand
CODE_LENGTH = 16  # 16 symbols of 32 = 80 bits, the floor GlobaLeaks' auditors set for receipts


def posting_unit(case: Case) -> Unit:
    """The unit whose board carries the case: where the paying fund (and its committee) sits."""
    from ..funds.operations import fund_for
    fund = fund_for(case.unit, "aid" if case.kind == "aid" else "reward")
    return fund.unit if fund is not None else case.unit


def join(case: Case) -> PendingItem:
    row = db.session.scalar(select(PendingItem).where(PendingItem.case_id == case.id))
    if row is None:
        row = PendingItem(case_id=case.id, kind=case.kind, unit_id=posting_unit(case).id)
        db.session.add(row)
    return row


def make_batch(unit: Unit, kind: str, batch_key: str | None = None) -> Disclosure | None:
    """A disclosure of everything of this kind waiting at this unit; None when nothing waits."""
    pending = db.session.scalars(select(PendingItem).where(PendingItem.unit_id == unit.id, PendingItem.kind == kind,
                                                           PendingItem.disclosure_id.is_(None))
                                 .order_by(PendingItem.id)).all()
    if not pending:
        return None
    d = Disclosure(unit_id=unit.id, kind=kind, title=in_chinese(BOARD_TITLES, kind), status="awaiting_signoff",
                   period_days=int(settings.get(unit, "posting_days")), batch_key=batch_key)
    db.session.add(d)
    db.session.flush()
    for p in pending:
        p.disclosure_id = d.id
    engine.record_creation(d, None)
    return d


def weekly_batches(at: datetime) -> list[Disclosure]:
    """Monday 09:00 (union time) or later in that week: one batch per unit and kind, once."""
    here = local(at)
    monday = here.date() - timedelta(days=here.weekday())
    if here.weekday() == 0 and here.hour < 9:
        return []
    year, week, _day = monday.isocalendar()
    made = []
    for unit_id, kind in db.session.execute(select(PendingItem.unit_id, PendingItem.kind)
                                            .where(PendingItem.disclosure_id.is_(None)).distinct()).all():
        key = f"{kind}:{unit_id}:{year}-W{week:02d}"
        if db.session.scalar(select(Disclosure.id).where(Disclosure.batch_key == key)):
            continue
        d = make_batch(db.session.get(Unit, unit_id), kind, key)
        if d is not None:
            made.append(d)
    return made


def preview_items(d: Disclosure) -> list[dict]:
    """What the items will say once posted (the same function freezes them at posting)."""
    return previews([d]).get(d.id, [])


def previews(ds) -> dict[int, list[dict]]:
    """preview_items of several disclosures at once: disclosure id -> its items, in one read."""
    ids = [d.id for d in ds]
    if not ids:
        return {}
    out: dict[int, list[dict]] = {}
    rows = db.session.execute(select(Case, PendingItem.disclosure_id)
                              .join(PendingItem, PendingItem.case_id == Case.id)
                              .where(PendingItem.disclosure_id.in_(ids))
                              .options(joinedload(Case.applicant), joinedload(Case.unit)).order_by(Case.id)).all()
    for case, disclosure_id in rows:
        out.setdefault(disclosure_id, []).append(_item_values(case))
    return out


def _item_values(case: Case) -> dict:
    from ..labels import CHOICE_LABELS
    if case.kind == "aid":
        category, amount = str(CHOICE_LABELS.get(case.category, case.category)), case.amount_approved
    elif case.kind == "proposal":
        category, amount = str(CHOICE_LABELS.get(case.grade or "", case.grade or "")), case.reward
    else:
        category, amount = case.title[:40], None
    # Only what may be public: never ID numbers, phones, addresses, illness, income, family or free text.
    return {"case_id": case.id, "case_number": case.number, "masked_name": mask_name(case.applicant.name),
            "unit_name": case.unit.name, "category": category, "amount": amount}


def can_sign(user: User, d: Disclosure) -> bool:
    """Whether `user` may sign `d` off now (a committee seat at its unit, no conflict, not voted yet)."""
    return "sign_off" in engine.available(d, user)


def may_read_audit(user: User, d: Disclosure) -> bool:
    held = roles_at(user, d.unit)
    return any(r in held for r in ("committee", "union_staff", "admin"))


def sign_off(d: Disclosure, user: User, comment: str = "") -> tuple[int, int]:
    """A committee member signs the disclosure off; at the quorum it is posted. Returns (votes, quorum)."""
    outcome = engine.fire(d, "sign_off", user, {}, comment=(comment or "")[:2000])
    return outcome.votes, outcome.quorum


def post(d: Disclosure, signers=None) -> None:
    """Freeze the items and open the objection period (the sign-off's effect)."""
    now = utcnow()
    d.starts_at, d.signed_off_at = now, now
    d.ends_on = calendar.add_working_days(today(), d.period_days)
    d.signers = [v.user.name for v in signers or []]
    for seq, values in enumerate(preview_items(d), start=1):
        d.items.append(DisclosureItem(seq=seq, **values))
        case = db.session.get(Case, values["case_id"])
        if case.kind == "aid" and case.state == "posting":
            case.deadline = d.ends_on  # the case's objection period is the posting's


@engine.effect("post_disclosure")
def _post(step) -> None:
    post(step.case, step.carried)
    step.record("ends_on", None, step.case.ends_on)


@engine.effect("issue_board_pdf")
def _issue_pdf(step) -> None:
    # Issued with the sign-off, inside its transaction: the audit entry carries the PDF's number and hash.
    from ..notices.operations import for_disclosure
    db.session.flush()
    notice = for_disclosure(step.case)
    step.changes["notices"] = [f"{notice.number} sha256:{notice.sha256}"]


def posting_ends_on(case: Case):
    """The last day of the posting the case is currently on (its objection period), or None before posting."""
    return db.session.scalar(
        select(Disclosure.ends_on).join(DisclosureItem, DisclosureItem.disclosure_id == Disclosure.id)
        .where(DisclosureItem.case_id == case.id, DisclosureItem.withdrawn.is_(False),
               Disclosure.status.in_(("posted", "ended")))
        .order_by(Disclosure.id.desc()).limit(1))


def end_due(at_day=None) -> list[Disclosure]:
    """Postings whose period is over end; each case without an open objection moves on.

    A case the engine refuses stays where it is (the sweep's automatic steps try again) and never holds
    back the other cases or postings."""
    day = at_day or today()
    ended = []
    for d in db.session.scalars(select(Disclosure).where(Disclosure.status == "posted", Disclosure.ends_on < day)):
        engine.fire(d, "end", None, {})
        ended.append(d)
        for item in d.items:
            if item.withdrawn or item.case_id is None:
                continue
            case = db.session.get(Case, item.case_id)
            trigger = {"aid": "end_posting", "proposal": "close"}.get(case.kind)
            if trigger and trigger in engine.workflows.get(case.kind).triggers_from(case.state):
                try:
                    with db.session.begin_nested():
                        engine.fire(case, trigger, None, {})
                except CaseworkError as exc:
                    db.session.refresh(case)
                    log.warning("posting %s ended but case %s stays %s: %s", d.id, case.number, case.state,
                                exc.message)
    return ended


def _tracking_code() -> str:
    return "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))


def normalise_code(code) -> str:
    """What a person typed, as stored: upper case, without spaces or dashes."""
    return "".join(ch for ch in str(code or "").upper() if ch not in " -\t\u00a0\u2010\u2011\u2013\u2014")


def grouped(code: str) -> str:
    """XXXX-XXXX-XXXX-XXXX for reading aloud; older 10-symbol codes as they were given."""
    code = code or ""
    if len(code) != CODE_LENGTH:
        return code
    return "-".join(code[i:i + 4] for i in range(0, CODE_LENGTH, 4))


def _ack_due(unit: Unit):
    return today() + timedelta(days=int(settings.get(unit, "report_ack_days")))


def object_to(item: DisclosureItem, text: str, anonymous: bool, user: User | None, contact: str = "") -> Objection:
    d = item.disclosure
    if d.status != "posted" or d.ends_on is None or today() > d.ends_on:
        raise Invalid(_("The objection period of this posting has ended."), code="period_over")
    if item.withdrawn:
        raise Invalid(_("This item has been withdrawn."), code="withdrawn")
    text = _check_text(text)
    row = Objection(kind="objection", tracking_code=_tracking_code(), disclosure_id=d.id, item_id=item.id,
                    unit_id=d.unit_id, text=text, ack_due_on=_ack_due(d.unit), anonymous=anonymous or user is None,
                    user_id=None if (anonymous or user is None) else user.id, contact=(contact or "")[:100],
                    due_on=calendar.add_working_days(today(), int(settings.get(d.unit, "objection_answer_days"))))
    db.session.add(row)
    case = db.session.get(Case, item.case_id) if item.case_id else None
    if case is not None and case.kind == "aid" and case.state == "posting":
        engine.fire(case, "object", None, {})
    return row


def report(unit: Unit, text: str, anonymous: bool, user: User | None, disclosure: Disclosure | None = None,
           contact: str = "") -> Objection:
    """举报: a false or missing disclosure, at any time."""
    row = Objection(kind="report", tracking_code=_tracking_code(), disclosure_id=disclosure.id if disclosure else None,
                    unit_id=unit.id, text=_check_text(text), ack_due_on=_ack_due(unit), anonymous=anonymous or user is None,
                    user_id=None if (anonymous or user is None) else user.id, contact=(contact or "")[:100],
                    due_on=calendar.add_working_days(today(), int(settings.get(unit, "objection_answer_days"))))
    db.session.add(row)
    return row


def _check_text(text) -> str:
    if not isinstance(text, str) or not text.strip():
        raise Invalid(_("Please write what is wrong."), fields={"text": _("This field is required.")})
    if len(text) > 5000:
        raise Invalid(_("The text is too long (at most %(n)s characters).", n=5000),
                      fields={"text": _("too long")})
    return text.strip()


def answer_report(row: Objection, user: User, answer: str, substantiated: bool, reward: int | None) -> None:
    if row.kind != "report":
        raise Invalid(_("Objections are answered by the committee's decision on the case."))
    held = roles_at(user, db.session.get(Unit, row.unit_id))
    if not any(r in held for r in ("union_staff", "committee")):
        raise Forbidden(_("Only union staff and the committee answer reports."))
    if row.status == "answered":
        raise Conflict(_("This report has already been answered."), code="not_possible")
    if reward is not None and (isinstance(reward, bool) or not isinstance(reward, int) or reward <= 0):
        raise Invalid(_("The reward must be a positive amount."), fields={"reward": _("positive amount")})
    row.answer, row.status, row.answered_at = _check_text(answer), "answered", utcnow()
    row.acknowledged_at = row.acknowledged_at or row.answered_at
    row.substantiated = substantiated
    row.reward = reward if substantiated else None
    if row.reward:
        pay_report_reward(row, user)


def pay_report_reward(row: Objection, user: User):
    """The reward leaves the unit's reward fund against the tracking code: the ledger names no person, and
    the free balance must cover it (funds.pay's rule)."""
    from ..funds.operations import fund_for, pay_against_code
    fund = fund_for(db.session.get(Unit, row.unit_id), "reward")
    if fund is None:
        raise Invalid(_("No reward fund covers this unit."), code="guard")
    return pay_against_code(fund, row, row.reward, user)


def acknowledge(row: Objection, user: User) -> None:
    """Union staff confirm they have the objection or report in hand; the reporter sees it on /board/track."""
    held = roles_at(user, db.session.get(Unit, row.unit_id))
    if not any(r in held for r in ("union_staff", "committee")):
        raise Forbidden(_("Only union staff and the committee acknowledge objections and reports."))
    if row.acknowledged_at is not None:
        raise Conflict(_("This has already been acknowledged."), code="not_possible")
    row.acknowledged_at = utcnow()


def overdue_acknowledgements(day) -> list[Objection]:
    return db.session.scalars(select(Objection).where(
        Objection.status == "open", Objection.acknowledged_at.is_(None), Objection.ack_reminded_at.is_(None),
        Objection.ack_due_on.is_not(None), Objection.ack_due_on < day).order_by(Objection.id)).all()


def receipt_text(row: Objection, track_url: str) -> str:
    """The reporter's receipt: the code, when, what it concerns and how to follow it; nothing of who."""
    kind = "异议" if row.kind == "objection" else "举报"
    about = "（未指明公示）"
    if row.disclosure is not None:
        about = f"{row.disclosure.title}（第{row.disclosure.id}号公示，第{row.disclosure.version}版）"
        if row.item is not None:
            about += f" 第{row.item.seq}项"
    lines = [f"{kind}回执 / Receipt", "",
             f"查询码 Tracking code: {grouped(row.tracking_code)}",
             f"提交时间 Received: {local(row.at):%Y-%m-%d %H:%M}",
             f"涉及公示 Concerns: {about}",
             f"确认期限 Acknowledged by: {row.ack_due_on.isoformat() if row.ack_due_on else '-'}",
             f"答复期限 Answer due by: {row.due_on.isoformat()}", "",
             f"查询进展：在 {track_url} 输入查询码（大小写、空格和连字符均可）。",
             "Follow it at the address above with the tracking code (case, spaces and dashes do not matter).",
             "查询码是查询进展和领取举报奖励的唯一凭证，请妥善保管，不要告诉他人。",
             "The code is the only way to follow this and to claim a reward: keep it safe and to yourself.", ""]
    return "\n".join(lines)


def find_tracking(code: str) -> Objection:
    code = normalise_code(code)
    row = db.session.scalar(select(Objection).where(Objection.tracking_code == code)) if code else None
    if row is None:
        raise NotFound(_("No objection or report has this tracking code."))
    return row


def case_objections(case) -> list[Objection]:
    """Every objection to the case's board items, oldest first: what the committee decides on."""
    if case is None or not getattr(case, "id", None):
        return []
    return db.session.scalars(select(Objection).join(DisclosureItem, Objection.item_id == DisclosureItem.id)
                              .where(DisclosureItem.case_id == case.id, Objection.kind == "objection")
                              .order_by(Objection.at, Objection.id)).all()


def open_objections(case: Case) -> list[Objection]:
    return db.session.scalars(select(Objection).join(DisclosureItem, Objection.item_id == DisclosureItem.id)
                              .where(DisclosureItem.case_id == case.id, Objection.status == "open")).all()


def correct(case: Case, answer: str) -> Disclosure | None:
    """An upheld objection: a new version of the posting without the item, saying what changed and why."""
    item = db.session.scalar(select(DisclosureItem).join(Disclosure).where(
        DisclosureItem.case_id == case.id, Disclosure.status.in_(("posted", "ended")), DisclosureItem.withdrawn.is_(False)))
    if item is None:
        return None
    old = item.disclosure
    new = Disclosure(unit_id=old.unit_id, kind=old.kind, title=old.title, status=old.status,
                     version=old.version + 1, supersedes_id=old.id, period_days=old.period_days,
                     starts_at=old.starts_at, ends_on=old.ends_on, signed_off_at=old.signed_off_at,
                     signers=list(old.signers or []),
                     correction=f"撤销第{item.seq}项（{item.masked_name}，{item.case_number}）：{answer}")
    for it in old.items:
        new.items.append(DisclosureItem(seq=it.seq, case_id=it.case_id, case_number=it.case_number,
                                        masked_name=it.masked_name, unit_name=it.unit_name, category=it.category,
                                        amount=it.amount, note=it.note,
                                        withdrawn=it.withdrawn or it.case_id == case.id))
    db.session.add(new)
    db.session.flush()
    engine.record_creation(new, None, comment=new.correction)
    engine.fire(old, "supersede", None, {}, comment=new.correction)
    from ..notices.operations import for_disclosure
    if new.starts_at is not None:
        for_disclosure(new)  # the corrected version's PDF, superseding the earlier one's
    # Objections follow the current version's items.
    for obj in db.session.scalars(select(Objection).where(Objection.disclosure_id == old.id)):
        obj.disclosure_id = new.id
        match = next((i for i in new.items if i.seq == obj.item.seq), None) if obj.item else None
        if match is not None:
            obj.item_id = match.id
    return new


def versions(d: Disclosure) -> list[Disclosure]:
    """Every version of this posting, oldest first."""
    first = d
    while first.supersedes_id:
        first = db.session.get(Disclosure, first.supersedes_id)
    chain, current = [first], first
    while True:
        nxt = db.session.scalar(select(Disclosure).where(Disclosure.supersedes_id == current.id))
        if nxt is None:
            return chain
        chain.append(nxt)
        current = nxt
