"""Funds and their ledger. Money in fen; nothing is deleted, a mistake gets a counter-entry."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import (BigInteger, CheckConstraint, DateTime, ForeignKey, String, Text,
                        UniqueConstraint)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..accounts.models import Unit, User
from ..clock import utcnow
from ..extensions import db

INCOME_SOURCES = ("union_dues", "government", "donation", "other")  # 工会经费, 财政补助, 一日捐, 其他
# debit: a payment out of a reservation (aid); payment: straight from the free balance (rewards);
# reversal: the counter-entry to a mistaken income record.
LEDGER_KINDS = ("income", "reserve", "release", "debit", "payment", "reversal")
# Each kind's effect on a fund's (balance, reserved): its running totals are these sums over its ledger.
EFFECT = {"income": (1, 0), "reserve": (0, 1), "release": (0, -1), "debit": (-1, -1), "payment": (-1, 0),
          "reversal": (-1, 0)}


def totals(sums) -> tuple[int, int]:
    """(balance, reserved) from the amounts of a fund's ledger lines summed by kind."""
    return (sum(EFFECT[kind][0] * amount for kind, amount in sums.items()),
            sum(EFFECT[kind][1] * amount for kind, amount in sums.items()))


class Fund(db.Model):
    __tablename__ = "funds"
    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(40), unique=True)
    name: Mapped[str] = mapped_column(String(100))
    unit_id: Mapped[int] = mapped_column(ForeignKey("units.id"))
    purpose: Mapped[str] = mapped_column(String(20), default="aid")
    # Running totals, changed only by conditional UPDATEs that keep free >= 0.
    balance: Mapped[int] = mapped_column(BigInteger, default=0)
    reserved: Mapped[int] = mapped_column(BigInteger, default=0)
    unit: Mapped[Unit] = relationship()
    __table_args__ = (CheckConstraint("balance >= 0", name="balance"),
                      CheckConstraint("reserved >= 0", name="reserved"),
                      CheckConstraint("balance >= reserved", name="free"),
                      CheckConstraint("purpose IN ('aid', 'reward')", name="purpose"))

    @property
    def free(self) -> int:
        return self.balance - self.reserved


class LedgerEntry(db.Model):
    __tablename__ = "ledger_entries"
    id: Mapped[int] = mapped_column(primary_key=True)
    fund_id: Mapped[int] = mapped_column(ForeignKey("funds.id"), index=True)
    kind: Mapped[str] = mapped_column(String(20))
    amount: Mapped[int] = mapped_column(BigInteger)
    case_id: Mapped[int | None] = mapped_column(ForeignKey("cases.id"), index=True)
    # A reward for a founded report (举报) is paid against its tracking code, never a person.
    objection_id: Mapped[int | None] = mapped_column(ForeignKey("objections.id"), unique=True)
    source: Mapped[str | None] = mapped_column(String(20))
    reverses_id: Mapped[int | None] = mapped_column(ForeignKey("ledger_entries.id"))
    note: Mapped[str] = mapped_column(Text, default="")
    method: Mapped[str | None] = mapped_column(String(20))
    reference: Mapped[str | None] = mapped_column(String(100))
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    fund: Mapped[Fund] = relationship()
    actor: Mapped[User | None] = relationship()
    __table_args__ = (
        CheckConstraint(f"kind IN {LEDGER_KINDS}", name="kind"),
        CheckConstraint("amount > 0", name="amount"),
        CheckConstraint("kind <> 'income' OR source IS NOT NULL", name="income_source"),
        CheckConstraint("kind NOT IN ('reserve', 'release', 'debit', 'payment') OR case_id IS NOT NULL "
                        "OR (kind = 'payment' AND objection_id IS NOT NULL)", name="case_link"),
        UniqueConstraint("reverses_id"),
    )


# Rows of one union: seen only within its people's scope (casework/core/tenancy.py).
from ..core.tenancy import unit_scoped  # noqa: E402

unit_scoped(Fund)
