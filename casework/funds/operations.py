"""Fund movements. Every change is a conditional UPDATE that keeps free balance >= 0 even when
approvals race, plus a ledger line linked to its case or income record."""
from __future__ import annotations

from flask_babel import gettext as _
from sqlalchemy import func, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import joinedload

from ..accounts.models import Unit
from ..core import paging
from ..core.errors import Conflict, Invalid
from ..extensions import db
from .models import EFFECT, INCOME_SOURCES, Fund, LedgerEntry, totals


def fund_for(unit, purpose: str = "aid") -> Fund | None:
    """The nearest fund of this purpose at the unit or above."""
    ids = unit.ancestor_ids()
    funds = db.session.scalars(select(Fund).where(Fund.unit_id.in_(ids), Fund.purpose == purpose)).all()
    if not funds:
        return None
    depth = {uid: i for i, uid in enumerate(ids)}
    return max(funds, key=lambda f: (depth[f.unit_id], -f.id))


def add_income(fund: Fund, amount: int, source: str, note: str, actor) -> LedgerEntry:
    db.session.execute(update(Fund).where(Fund.id == fund.id).values(balance=Fund.balance + amount))
    entry = LedgerEntry(fund_id=fund.id, kind="income", amount=amount, source=source, note=note,
                        actor_id=actor.id if actor else None)
    db.session.add(entry)
    db.session.flush()
    db.session.refresh(fund)
    return entry


def reserve(fund: Fund, case, amount: int, actor) -> LedgerEntry:
    done = db.session.execute(
        update(Fund).where(Fund.id == fund.id, Fund.balance - Fund.reserved >= amount)
        .values(reserved=Fund.reserved + amount)).rowcount
    if not done:
        raise Invalid(_("The fund %(name)s does not have %(amount)s yuan free.", name=fund.name,
                        amount=f"{amount / 100:.2f}"), code="guard")
    entry = LedgerEntry(fund_id=fund.id, kind="reserve", amount=amount, case_id=case.id,
                        actor_id=actor.id if actor else None)
    db.session.add(entry)
    return entry


def reserved_for(case) -> tuple[int | None, int]:
    """(fund id, amount still reserved) for a case."""
    rows = db.session.execute(select(LedgerEntry.fund_id, LedgerEntry.kind, func.sum(LedgerEntry.amount))
                              .where(LedgerEntry.case_id == case.id)
                              .group_by(LedgerEntry.fund_id, LedgerEntry.kind)).all()
    fund_id, held = None, 0
    for fid, kind, total in rows:
        if kind == "reserve":
            fund_id, held = fid, held + total
        elif kind in ("release", "debit"):
            held -= total
    return fund_id, held


def release(case, actor) -> LedgerEntry | None:
    fund_id, held = reserved_for(case)
    if not held:
        return None
    db.session.execute(update(Fund).where(Fund.id == fund_id).values(reserved=Fund.reserved - held))
    entry = LedgerEntry(fund_id=fund_id, kind="release", amount=held, case_id=case.id,
                        actor_id=actor.id if actor else None)
    db.session.add(entry)
    return entry


def debit_reserved(case, method: str, reference: str, actor) -> LedgerEntry:
    fund_id, held = reserved_for(case)
    if not held:
        raise Invalid(_("Nothing is reserved for this case."), code="guard")
    done = db.session.execute(
        update(Fund).where(Fund.id == fund_id, Fund.reserved >= held, Fund.balance >= held)
        .values(balance=Fund.balance - held, reserved=Fund.reserved - held)).rowcount
    if not done:
        raise Invalid(_("The fund's balance does not cover this payment."), code="guard")
    entry = LedgerEntry(fund_id=fund_id, kind="debit", amount=held, case_id=case.id, method=method,
                        reference=reference, actor_id=actor.id if actor else None)
    db.session.add(entry)
    return entry


def _take_free(fund: Fund, amount: int) -> None:
    """Takes `amount` off the balance in one conditional UPDATE, or refuses: free balance must cover it."""
    done = db.session.execute(
        update(Fund).where(Fund.id == fund.id, Fund.balance - Fund.reserved >= amount)
        .values(balance=Fund.balance - amount)).rowcount
    if not done:
        raise Invalid(_("The fund %(name)s does not have %(amount)s yuan free.", name=fund.name,
                        amount=f"{amount / 100:.2f}"), code="guard")


def pay(fund: Fund, case, amount: int, method: str, reference: str, actor) -> LedgerEntry:
    """A payment without a prior reservation (rewards): free balance must cover it."""
    _take_free(fund, amount)
    entry = LedgerEntry(fund_id=fund.id, kind="payment", amount=amount, case_id=case.id, method=method,
                        reference=reference, actor_id=actor.id if actor else None)
    db.session.add(entry)
    return entry


def pay_against_code(fund: Fund, objection, amount: int, actor) -> LedgerEntry:
    """A reward for a founded report: like `pay`, but against the report's tracking code instead of a case."""
    _take_free(fund, amount)
    entry = LedgerEntry(fund_id=fund.id, kind="payment", amount=amount, objection_id=objection.id, method="cash",
                        reference=f"举报 {objection.tracking_code}", note="举报奖励，凭查询码领取",
                        actor_id=actor.id if actor else None)
    db.session.add(entry)
    return entry


def reverse_income(entry: LedgerEntry, note: str, actor) -> LedgerEntry:
    """Counter-entry for a mistaken income record; refused if the money is already spoken for."""
    if entry.kind != "income":
        raise Invalid(_("Only income records can be reversed here."))
    if db.session.scalar(select(LedgerEntry.id).where(LedgerEntry.reverses_id == entry.id)):
        raise Invalid(_("This record has already been reversed."))
    done = db.session.execute(
        update(Fund).where(Fund.id == entry.fund_id, Fund.balance - Fund.reserved >= entry.amount)
        .values(balance=Fund.balance - entry.amount)).rowcount
    if not done:
        raise Invalid(_("The fund's free balance is smaller than this income; it cannot be reversed now."))
    counter = LedgerEntry(fund_id=entry.fund_id, kind="reversal", amount=entry.amount, reverses_id=entry.id,
                          note=note, actor_id=actor.id if actor else None)
    db.session.add(counter)
    return counter


def ledger_balance(fund: Fund) -> tuple[int, int]:
    """(balance, reserved) recomputed from the ledger: must equal the fund's running totals."""
    sums = dict(db.session.execute(select(LedgerEntry.kind, func.coalesce(func.sum(LedgerEntry.amount), 0))
                                   .where(LedgerEntry.fund_id == fund.id).group_by(LedgerEntry.kind)).all())
    return totals(sums)


# -- who sees a fund, income records, the ledger page -----------------------------------------

VIEW_ROLES = ("fund_manager", "committee", "union_staff", "admin")
INCOME_NOTE_MAX = 500


def _paths(user, roles) -> list[str]:
    from ..core.permissions import grants
    if user is None or not user.is_authenticated:
        return []
    return [g.unit_path for g in grants(user) if g.role in roles]


def can_see(user, fund: Fund) -> bool:
    """Fund managers, the committee, union staff and admins at the fund's unit or above."""
    return any(fund.unit.path.startswith(p) for p in _paths(user, VIEW_ROLES))


def can_manage(user, fund: Fund) -> bool:
    """Only fund managers (at the fund's unit or above) record income and reverse it."""
    return any(fund.unit.path.startswith(p) for p in _paths(user, ("fund_manager",)))


def sees_any_fund(user) -> bool:
    """Whether `user` sees at least one fund (the menu's link, on every page): one row at most, no objects."""
    paths = _paths(user, VIEW_ROLES)
    if not paths:
        return False
    return db.session.scalar(select(Fund.id).join(Unit, Unit.id == Fund.unit_id)
                             .where(or_(*(Unit.path.startswith(p) for p in paths))).limit(1)) is not None


def visible_funds(user) -> list[Fund]:
    paths = _paths(user, VIEW_ROLES)
    if not paths:
        return []
    funds = db.session.scalars(select(Fund).options(joinedload(Fund.unit)).order_by(Fund.code)).all()
    return [f for f in funds if any(f.unit.path.startswith(p) for p in paths)]


def record_income(fund: Fund, data: dict, actor) -> LedgerEntry:
    """Checks an income record's fields (amount, source, note) and books it."""
    from ..core.inputs import Reader
    r = Reader(data)
    amount = r.money("amount")
    if amount == 0:
        r.fail("amount", _("The amount must be more than zero."))
    source = r.choice("source", INCOME_SOURCES)
    note = r.text("note", required=False, max_len=INCOME_NOTE_MAX)
    r.done()
    return add_income(fund, amount, source, note, actor)


def reverse(fund: Fund, entry_id, note, actor) -> LedgerEntry:
    """Reverses one of this fund's income records; a reason is required."""
    from ..core.errors import NotFound
    from ..core.inputs import Reader
    entry = db.session.get(LedgerEntry, entry_id) if isinstance(entry_id, int) else None
    if entry is None or entry.fund_id != fund.id:
        raise NotFound(_("This fund has no such ledger entry."))
    r = Reader({"note": note})
    note = r.text("note", max_len=INCOME_NOTE_MAX)
    r.done()
    counter = reverse_income(entry, note, actor)
    try:
        db.session.flush()
    except IntegrityError:  # a simultaneous reversal of the same record won (unique reverses_id)
        raise Conflict(_("This record has already been reversed.")) from None
    db.session.refresh(fund)
    return counter


def ledger_page(fund: Fund, before: int | None = None,
                size: int = 50) -> tuple[list[LedgerEntry], int | None]:
    """The fund's ledger, newest first, `size` lines older than entry `before`; and the next cursor."""
    return paging.newest_first(select(LedgerEntry).options(joinedload(LedgerEntry.actor))
                               .where(LedgerEntry.fund_id == fund.id), LedgerEntry.id, before, size)


def balances_after(entries) -> dict[int, int]:
    """Entry id -> the fund's balance just after that line, in fen: the sum of the fund's lines up to and
    including it. One query per page, bounded by the page's newest line, then walked down the page, so a
    line's balance is the same whichever page (or export chunk) it is shown on."""
    if not entries:
        return {}
    top = max(e.id for e in entries)
    sums = dict(db.session.execute(select(LedgerEntry.kind, func.coalesce(func.sum(LedgerEntry.amount), 0))
                                   .where(LedgerEntry.fund_id == entries[0].fund_id, LedgerEntry.id <= top)
                                   .group_by(LedgerEntry.kind)).all())
    running = int(totals(sums)[0])
    out = {}
    for e in sorted(entries, key=lambda e: e.id, reverse=True):
        out[e.id] = running
        running -= EFFECT[e.kind][0] * e.amount
    return out


def reversed_ids(entries) -> set[int]:
    ids = [e.id for e in entries if e.kind == "income"]
    if not ids:
        return set()
    return set(db.session.scalars(select(LedgerEntry.reverses_id).where(LedgerEntry.reverses_id.in_(ids))))
