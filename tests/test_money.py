"""The one strict money parser: every amount (fund income, case amounts, the engine's money fields) goes
through casework.money.parse_money, on the web and in the API, with the field's own message in Chinese."""
from __future__ import annotations

import html

import pytest
from sqlalchemy import func, select

from casework.extensions import db as _db
from casework.funds.models import Fund, LedgerEntry
from casework.money import parse_money

from .factories import aid_to

REQUIRED = "此项为必填项。"
GENERAL = "请输入以元为单位的金额，例如 2000.00。"
GROUPS = "千位分隔符只能每三位一个，例如 12,000.00。"
DECIMALS = "金额最多保留两位小数（精确到分）。"
NEGATIVE = "金额不能为负数。"
TOO_LARGE = "金额过大。"

# input -> fen, or the message it is refused with (the documented answers: casework/money.py)
TABLE = [
    ("1,5", GROUPS),
    ("1_000", GENERAL),
    ("١٠٠", GENERAL),  # Arabic-Indic digits
    ("۱۰۰", GENERAL),  # Extended Arabic-Indic
    ("१००", GENERAL),  # Devanagari
    ("１００", 10000),  # full-width digits, as a Chinese input method types them
    ("１，０００．５０", 100050),
    ("1,000.00", 100000),
    ("12,345,678.9", 1234567890),
    ("1000.005", DECIMALS),
    ("1,000.005", DECIMALS),
    ("-0", NEGATIVE),
    ("-0.00", NEGATIVE),
    ("－5", NEGATIVE),
    ("\u22125", NEGATIVE),
    (" 100", 10000),
    ("100\u3000", 10000),
    ("1,00,000", GROUPS),
    ("10,00", GROUPS),
    (",100", GENERAL),
    ("1e3", GENERAL),
    ("0x10", GENERAL),
    ("+5", GENERAL),
    (".5", GENERAL),
    ("5.", GENERAL),
    ("0100", GENERAL),
    ("NaN", GENERAL),
    ("Infinity", GENERAL),
    ("1 000", GENERAL),
    ("100元", GENERAL),
    ("100000001", TOO_LARGE),
    ("2000.5", 200050),
]


# JSON values besides strings: numbers, and what is no amount at all
JSON_VALUES = [(2000, 200000), (0.1, 10), (1e20, GENERAL), (True, GENERAL), (None, GENERAL), ([1], GENERAL),
               (-0.0, NEGATIVE), (12.345, DECIMALS)]


@pytest.mark.parametrize("raw,expected", TABLE + JSON_VALUES)
def test_parse_money_table(app, raw, expected):
    with app.test_request_context(headers={"Accept-Language": "zh-CN"}):
        if isinstance(expected, int):
            assert parse_money(raw) == expected
        else:
            with pytest.raises(ValueError) as err:
                parse_money(raw)
            assert str(err.value) == expected


def _fund() -> Fund:
    fund = _db.session.scalar(select(Fund).where(Fund.code == "AID"))
    _db.session.refresh(fund)
    return fund


def _income_total() -> int:
    _db.session.expire_all()
    return _db.session.scalar(select(func.coalesce(func.sum(LedgerEntry.amount), 0))
                              .where(LedgerEntry.kind == "income"))


WEB_TABLE = TABLE[:12] + [("", REQUIRED), ("   ", REQUIRED)]


@pytest.mark.parametrize("raw,expected", WEB_TABLE)
def test_fund_income_through_the_api(api, demo, raw, expected):
    fund = _fund()
    before = _income_total()
    r = api.as_("fund1").post(f"/api/v1/funds/{fund.id}/income", json={"amount": raw, "source": "donation"})
    if isinstance(expected, int):
        assert r.status_code == 201, r.get_json()
        assert _income_total() == before + expected
    else:
        assert r.status_code == 422, r.get_json()
        assert r.get_json()["error"]["fields"] == {"amount": expected}
        assert _income_total() == before


@pytest.mark.parametrize("raw,expected", WEB_TABLE)
def test_fund_income_through_the_web_form(web, demo, raw, expected):
    fund = _fund()
    before = _income_total()
    web.login("fund1")
    r = web.post(f"/funds/{fund.id}/income", {"amount": raw, "source": "donation", "note": ""},
                 form_page=f"/funds/{fund.id}")
    if isinstance(expected, int):
        assert r.status_code == 303
        assert _income_total() == before + expected
    else:
        assert r.status_code == 422
        assert expected in html.unescape(r.get_data(as_text=True))
        assert _income_total() == before


@pytest.mark.parametrize("raw,expected", [("1,5", GROUPS), ("1_000", GENERAL), ("١٠٠", GENERAL),
                                          ("１，８００", 180000), ("-0", NEGATIVE), ("1800.005", DECIMALS)])
def test_engine_money_fields_through_the_api_and_the_web(api, web, demo, raw, expected):
    """A workflow's `money` field (verify: proposed_amount) is read by the same parser."""
    case = aid_to(demo, "verifying+visit")
    r = api.as_("staff1").post(f"/api/v1/cases/aid/{case.id}/transitions/verify",
                               json={"version": case.version, "proposed_amount": raw})
    _db.session.expire_all()
    if isinstance(expected, int):
        assert r.status_code == 200, r.get_json()
        assert case.amount_proposed == expected and case.state == "pending_approval"
        return
    assert r.status_code == 422, r.get_json()
    assert r.get_json()["error"]["fields"]["proposed_amount"] == expected
    web.login("staff1")
    page = f"/cases/aid/{case.id}"
    r = web.post(f"/cases/aid/{case.id}/do/verify", {"verify-proposed_amount": raw,
                                                      "verify-version": str(case.version)}, form_page=page)
    assert expected in html.unescape(r.get_data(as_text=True))
    _db.session.expire_all()
    assert case.state == "verifying" and case.amount_proposed is None


@pytest.mark.parametrize("raw,expected", [("3,0", GROUPS), ("３０００", 300000), ("3000.001", DECIMALS)])
def test_case_amount_and_details_through_the_api(api, demo, raw, expected):
    body = {"category": "hardship", "amount_requested": raw, "circumstances": "爱人重病，家庭收入微薄",
            "details": {"household_size": 4, "monthly_income": raw, "cause": "爱人患病"}}
    r = api.as_("worker1").post("/api/v1/cases/aid", json=body)
    if isinstance(expected, int):
        assert r.status_code == 201, r.get_json()
        assert r.get_json()["amount_requested"] == f"{expected / 100:.2f}"
    else:
        assert r.status_code == 422, r.get_json()
        fields = r.get_json()["error"]["fields"]
        assert fields["amount_requested"] == expected
        assert expected in str(fields)  # the detail's own message too
