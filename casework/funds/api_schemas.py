"""OpenAPI shapes of the fund endpoints (API.md "Funds"); inputs are checked by funds.operations."""
from __future__ import annotations

from apiflask import Schema
from apiflask.fields import Boolean, Integer, List, Nested, String

from .models import INCOME_SOURCES, LEDGER_KINDS

MONEY = {"description": "yuan, two decimals", "example": "2000.00"}


class FundOut(Schema):
    id = Integer(required=True)
    code = String(required=True)
    name = String(required=True)
    purpose = String(required=True, metadata={"enum": ["aid", "reward"]})
    unit = Integer(required=True)
    unit_name = String(required=True)
    balance = String(required=True, metadata={**MONEY, "description": "income − payments"})
    reserved = String(required=True, metadata={**MONEY, "description": "held for approved, unpaid aid"})
    free = String(required=True, metadata={**MONEY, "description": "balance − reserved; never below zero"})
    may_record_income = Boolean(required=True)


class FundItem(FundOut):
    """FundOut inside a list or a booking (one schema class per place in the OpenAPI document)."""


class FundList(Schema):
    items = List(Nested(FundItem), required=True)


class LedgerOut(Schema):
    id = Integer(required=True)
    kind = String(required=True, metadata={"enum": list(LEDGER_KINDS)})
    amount = String(required=True, metadata=MONEY)
    balance_change = String(required=True, allow_none=True, metadata={
        "description": "signed, e.g. -2000.00; null when the balance is unchanged"})
    balance_after = String(required=True, metadata={
        **MONEY, "description": "the fund's balance just after this line (all lines up to and including it)"})
    reserved_change = String(required=True, allow_none=True, metadata={
        "description": "signed, e.g. +2000.00; null when the reserve is unchanged"})
    case = String(allow_none=True,
                  metadata={"description": "the case number, for reserve/release/debit/payment"})
    case_id = Integer(allow_none=True)
    case_kind = String(allow_none=True)
    source = String(allow_none=True, metadata={"enum": [*INCOME_SOURCES, None], "description": "income only"})
    method = String(allow_none=True)
    reference = String(allow_none=True)
    note = String()
    reverses = Integer(allow_none=True, metadata={"description": "the income record this reversal cancels"})
    reversed_by = Integer(allow_none=True,
                          metadata={"description": "the reversal that cancels this income record"})
    actor = String(allow_none=True, metadata={"description": "null for the system"})
    at = String(required=True)


class LedgerPage(Schema):
    items = List(Nested(LedgerOut), required=True)
    next = String(allow_none=True,
                  metadata={"description": "pass as ?before= for the next (older) page; null at the end"})


class IncomeIn(Schema):
    amount = String(required=True, metadata=MONEY)
    source = String(required=True, metadata={"enum": list(INCOME_SOURCES),
                                             "description": "工会经费, 财政补助, 一日捐, other"})
    note = String(metadata={"description": "at most 500 characters"})


class ReversalIn(Schema):
    note = String(required=True, metadata={"description": "why the income record was a mistake"})


class BookingOut(Schema):
    entry = Nested(LedgerOut, required=True)
    fund = Nested(FundItem, required=True)
