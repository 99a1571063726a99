"""Funds: who sees them, income and its reversal, the ledger, and approvals racing for the free balance."""
from __future__ import annotations

import re
import threading
from datetime import date

import pytest
from sqlalchemy import func, select

from casework.accounts.models import Unit, User
from casework.aid.models import AidRequest
from casework.core import engine
from casework.core.errors import CaseworkError
from casework.extensions import db as _db
from casework.funds import operations as ops
from casework.funds.models import Fund, LedgerEntry

from .factories import aid_to, fire, new_case, post_on_board

EN = {"Accept-Language": "en"}


def _fund(code="AID") -> Fund:
    fund = _db.session.scalar(select(Fund).where(Fund.code == code))
    _db.session.refresh(fund)
    return fund


def _entries() -> int:
    return _db.session.scalar(select(func.count()).select_from(LedgerEntry))


def _assert_ledger_matches(*funds):
    for fund in funds:
        _db.session.refresh(fund)
        assert ops.ledger_balance(fund) == (fund.balance, fund.reserved), fund.code
        assert fund.free >= 0


# -- who sees funds --------------------------------------------------------------------------

SEES = {"fund1": True, "committee1": True, "staff1": True, "admin": True,
        "worker1": False, "leader1": False, "evaluator1": False, "motions1": False}


@pytest.mark.parametrize("username", sorted(SEES))
def test_who_sees_funds_in_the_api(api, demo, username):
    fund = _fund()
    who = api.as_(username)
    listing = who.get("/api/v1/funds").get_json()["items"]
    one = who.get(f"/api/v1/funds/{fund.id}")
    if not SEES[username]:
        assert listing == [] and one.status_code == 404
        assert who.get(f"/api/v1/funds/{fund.id}/ledger").status_code == 404
        assert one.get_json() == who.get("/api/v1/funds/99999").get_json()
        return
    assert {f["code"] for f in listing} == {"AID", "REWARD"}
    body = one.get_json()
    assert one.status_code == 200
    assert (body["balance"], body["reserved"], body["free"]) == ("133456.50", "0.00", "133456.50")
    assert body["may_record_income"] is (username == "fund1")


@pytest.mark.parametrize("username", sorted(SEES))
def test_who_sees_funds_on_the_web(web, demo, username):
    fund = _fund()
    web.login(username)
    listing, page = web.get("/funds"), web.get(f"/funds/{fund.id}")
    if not SEES[username]:
        assert listing.status_code == 403 and page.status_code == 403
        return
    assert listing.status_code == 200 and "困难职工救助基金" in listing.get_data(as_text=True)
    text = page.get_data(as_text=True)
    assert page.status_code == 200 and "133456.50" in text
    assert ('name="amount"' in text) is (username == "fund1")
    assert web.get("/funds/99999").status_code == 404


def test_a_branch_role_does_not_see_the_union_fund(api, demo):
    # A role covers its unit and the units below it, not the ones above.
    b2 = _db.session.scalar(select(Unit).where(Unit.code == "B2"))
    branch_fund = Fund(code="B2AID", name="车间救助基金", unit=b2, purpose="aid", balance=0, reserved=0)
    _db.session.add(branch_fund)
    from casework.accounts.models import RoleAssignment
    worker2 = demo["worker2"]
    worker2.roles.append(RoleAssignment(role="fund_manager", unit=b2))
    _db.session.commit()
    who = api.as_("worker2")
    assert [f["code"] for f in who.get("/api/v1/funds").get_json()["items"]] == ["B2AID"]
    assert who.get(f"/api/v1/funds/{_fund().id}").status_code == 404
    assert who.post(f"/api/v1/funds/{branch_fund.id}/income", json={"amount": "10", "source": "donation"}
                    ).status_code == 201
    # The union's fund manager manages the branch fund too.
    assert api.as_("fund1").post(f"/api/v1/funds/{branch_fund.id}/income",
                                 json={"amount": "5", "source": "other"}).status_code == 201
    assert _fund("B2AID").balance == 1500


# -- income ----------------------------------------------------------------------------------

def test_fund_manager_records_income(api, demo):
    fund = _fund()
    r = api.as_("fund1").post(f"/api/v1/funds/{fund.id}/income",
                              json={"amount": "1000.50", "source": "donation", "note": "第二次一日捐"})
    assert r.status_code == 201, r.get_json()
    body = r.get_json()
    assert body["entry"]["kind"] == "income" and body["entry"]["amount"] == "1000.50"
    assert body["entry"]["balance_change"] == "+1000.50" and body["entry"]["source"] == "donation"
    assert body["entry"]["actor"] == "fund1" and body["entry"]["note"] == "第二次一日捐"
    assert body["fund"]["balance"] == "134457.00" and body["fund"]["free"] == "134457.00"
    _assert_ledger_matches(_fund())
    ledger = api.as_("committee1").get(f"/api/v1/funds/{fund.id}/ledger").get_json()["items"]
    assert ledger[0]["id"] == body["entry"]["id"]  # newest first


@pytest.mark.parametrize("username,status", [("committee1", 403), ("staff1", 403), ("admin", 403),
                                             ("worker1", 404)])
def test_only_the_fund_manager_records_income(api, demo, username, status):
    fund = _fund()
    before = _entries()
    r = api.as_(username).post(f"/api/v1/funds/{fund.id}/income", json={"amount": "100", "source": "other"})
    assert r.status_code == status
    assert _entries() == before and _fund().balance == 13345650


@pytest.mark.parametrize("body,fields", [
    ({"amount": "-100.00", "source": "donation"}, {"amount"}),
    ({"amount": "100.001", "source": "donation"}, {"amount"}),
    ({"amount": "0", "source": "donation"}, {"amount"}),
    ({"amount": "0.00", "source": "donation"}, {"amount"}),
    ({"amount": True, "source": "donation"}, {"amount"}),
    ({"amount": "一百", "source": "donation"}, {"amount"}),
    ({"amount": "100.00", "source": "salary"}, {"source"}),
    ({"amount": "100.00", "source": ["donation"]}, {"source"}),
    ({"amount": "100.00", "source": "donation", "note": "x" * 501}, {"note"}),
    ({"amount": "100.00", "source": "donation", "note": 5}, {"note"}),
    ({}, {"amount", "source"}),
    ({"amount": "-1", "source": "工会经费", "note": "x" * 600}, {"amount", "source", "note"}),
])
def test_income_validation(api, demo, body, fields):
    fund = _fund()
    before = _entries()
    r = api.as_("fund1").post(f"/api/v1/funds/{fund.id}/income", json=body, headers=EN)
    assert r.status_code == 422
    err = r.get_json()["error"]
    assert err["code"] == "invalid" and set(err["fields"]) == fields
    assert _entries() == before and _fund().balance == 13345650


def test_income_needs_a_json_object(api, demo):
    fund = _fund()
    fund1 = api.as_("fund1")
    assert fund1.post(f"/api/v1/funds/{fund.id}/income", data="not json", content_type="application/json"
                      ).status_code == 400
    assert fund1.post(f"/api/v1/funds/{fund.id}/income", json=["100", "donation"]).status_code == 400


def test_income_on_the_web(web, demo):
    fund = _fund()
    web.login("fund1")
    page = f"/funds/{fund.id}?lang=en"
    r = web.post(f"/funds/{fund.id}/income", {"amount": "-5", "source": "donation", "note": ""},
                 form_page=page)
    assert r.status_code == 422 and "The amount cannot be negative." in r.get_data(as_text=True)
    r = web.post(f"/funds/{fund.id}/income", {"amount": "12.345", "source": "nonsense"}, form_page=page)
    text = r.get_data(as_text=True)
    assert r.status_code == 422 and "two decimal places" in text and "Choose one of" in text
    assert _fund().balance == 13345650
    r = web.post(f"/funds/{fund.id}/income", {"amount": "2,000.00", "source": "government", "note": "区财政补助"},
                 form_page=page)
    assert r.status_code == 303
    text = web.get(r.headers["Location"]).get_data(as_text=True)
    assert "区财政补助" in text and "+2000.00" in text
    assert _fund().balance == 13345650 + 200000
    # Without the form's token nothing is booked.
    r = web.client.post(f"/funds/{fund.id}/income", data={"amount": "1", "source": "other"})
    assert r.status_code == 400 and _fund().balance == 13545650


def test_committee_cannot_post_income_on_the_web(web, demo):
    fund = _fund()
    web.login("committee1")
    r = web.post(f"/funds/{fund.id}/income", {"amount": "100", "source": "donation"},
                 form_page=f"/funds/{fund.id}")
    assert r.status_code == 403 and _fund().balance == 13345650


# -- reversal --------------------------------------------------------------------------------

def test_reversal_by_counter_entry(api, demo):
    fund = _fund()
    fund1 = api.as_("fund1")
    entry = fund1.post(f"/api/v1/funds/{fund.id}/income", json={"amount": "500", "source": "donation"}
                       ).get_json()["entry"]
    url = f"/api/v1/funds/{fund.id}/ledger/{entry['id']}/reversal"
    assert fund1.post(url, json={}).status_code == 422  # a reason is required
    assert api.as_("committee1").post(url, json={"note": "录错"}).status_code == 403
    r = fund1.post(url, json={"note": "重复录入"})
    assert r.status_code == 201, r.get_json()
    body = r.get_json()
    assert body["entry"]["kind"] == "reversal" and body["entry"]["reverses"] == entry["id"]
    assert body["entry"]["balance_change"] == "-500.00" and body["fund"]["balance"] == "133456.50"
    again = fund1.post(url, json={"note": "再冲一次"}, headers=EN)
    assert again.status_code == 422 and "already been reversed" in again.get_json()["error"]["message"]
    ledger = fund1.get(f"/api/v1/funds/{fund.id}/ledger").get_json()["items"]
    assert ledger[0]["reverses"] == entry["id"] and ledger[1]["reversed_by"] == ledger[0]["id"]
    # Nothing was deleted: both lines stay.
    assert _db.session.scalar(select(func.count()).select_from(LedgerEntry).where(
        LedgerEntry.id.in_((entry["id"], ledger[0]["id"])))) == 2
    _assert_ledger_matches(_fund())


def test_only_income_of_this_fund_is_reversed(api, demo):
    case = aid_to(demo, "posting")
    fund, other = _fund(), _fund("REWARD")
    reserve = _db.session.scalar(select(LedgerEntry).where(LedgerEntry.case_id == case.id))
    fund1 = api.as_("fund1")
    r = fund1.post(f"/api/v1/funds/{fund.id}/ledger/{reserve.id}/reversal", json={"note": "x"}, headers=EN)
    assert r.status_code == 422 and "Only income records" in r.get_json()["error"]["message"]
    income = _db.session.scalar(select(LedgerEntry).where(LedgerEntry.fund_id == other.id))
    assert fund1.post(f"/api/v1/funds/{fund.id}/ledger/{income.id}/reversal", json={"note": "x"}
                      ).status_code == 404
    assert fund1.post(f"/api/v1/funds/{fund.id}/ledger/99999/reversal", json={"note": "x"}).status_code == 404


def test_a_reversal_never_overdraws_the_free_balance(api, demo):
    b2 = _db.session.scalar(select(Unit).where(Unit.code == "B2"))
    small = Fund(code="B2AID", name="车间救助基金", unit=b2, purpose="aid", balance=0, reserved=0)
    _db.session.add(small)
    _db.session.flush()
    income = ops.add_income(small, 300000, "donation", "", demo["fund1"])
    _db.session.commit()
    case = aid_to(demo, "posting")  # worker1's unit is under B2: the branch fund reserves 2000 of its 3000
    assert case.fund_id == small.id
    r = api.as_("fund1").post(f"/api/v1/funds/{small.id}/ledger/{income.id}/reversal", json={"note": "错"},
                              headers=EN)
    assert r.status_code == 422 and "free balance" in r.get_json()["error"]["message"]
    _assert_ledger_matches(_fund("B2AID"))
    assert _fund("B2AID").reserved == 200000


def test_reversal_on_the_web(web, demo):
    fund = _fund()
    income = _db.session.scalar(select(LedgerEntry).where(
        LedgerEntry.fund_id == fund.id, LedgerEntry.kind == "income").order_by(LedgerEntry.id))
    web.login("fund1")
    page = f"/funds/{fund.id}?lang=en"
    r = web.post(f"/funds/{fund.id}/ledger/{income.id}/reverse", {"note": ""}, form_page=page,
                 follow_redirects=True)
    assert "This field is required." in r.get_data(as_text=True)
    r = web.post(f"/funds/{fund.id}/ledger/{income.id}/reverse", {"note": "金额录错，冲销后重录"},
                 form_page=page, follow_redirects=True)
    text = r.get_data(as_text=True)
    assert r.status_code == 200 and "reversed by a counter-entry" in text and "-80000.00" in text
    assert _fund().balance == 13345650 - 8000000
    _assert_ledger_matches(_fund())


# -- the ledger page -------------------------------------------------------------------------

def test_fund_page_shows_the_ledger_newest_first_with_cases(web, demo):
    case = aid_to(demo, "posting")
    fund = _fund()
    web.login("committee1")
    text = web.get(f"/funds/{fund.id}?lang=en").get_data(as_text=True)
    assert case.number in text and f"/cases/aid/{case.id}" in text
    assert text.index(case.number) < text.index("“一日捐”活动捐款") < text.index("年度工会经费划拨")
    assert "131456.50" in text  # free
    assert "Reserved" in text and "One-day donation" in text and "郑晓燕" in text


def test_ledger_paging(api, web, demo):
    fund = _fund()
    for i in range(60):
        ops.add_income(fund, 100 + i, "donation", f"捐款{i:02d}", demo["fund1"])
    _db.session.commit()
    fund1 = api.as_("fund1")
    first = fund1.get(f"/api/v1/funds/{fund.id}/ledger").get_json()
    assert len(first["items"]) == 50 and first["items"][0]["note"] == "捐款59" and first["next"]
    second = fund1.get(f"/api/v1/funds/{fund.id}/ledger?before={first['next']}").get_json()
    assert len(second["items"]) == 13 and second["next"] is None  # 10 more donations + the 3 demo incomes
    ids = [e["id"] for e in first["items"] + second["items"]]
    assert ids == sorted(ids, reverse=True) and len(set(ids)) == 63
    assert fund1.get(f"/api/v1/funds/{fund.id}/ledger?before=abc").status_code == 400
    web.login("fund1")
    page1 = web.get(f"/funds/{fund.id}").get_data(as_text=True)
    assert "捐款59" in page1 and "捐款09" not in page1 and f"before={first['next']}" in page1
    page2 = web.get(f"/funds/{fund.id}?before={first['next']}").get_data(as_text=True)
    assert "捐款09" in page2 and "捐款59" not in page2


def test_ledger_sums_always_equal_the_balance(api, demo):
    aid, reward = _fund(), _fund("REWARD")
    _assert_ledger_matches(aid, reward)
    posted = aid_to(demo, "posting")                      # reserve
    _assert_ledger_matches(aid)
    second = aid_to(demo, "pending_approval")
    for i in (1, 2, 3):
        fire(second, "approve", demo[f"committee{i}"], amount="1500.00")
    _assert_ledger_matches(aid)
    post_on_board(demo)
    from casework.disclosure.models import Disclosure
    for d in _db.session.scalars(select(Disclosure)):
        d.ends_on = posted.deadline = date(2026, 11, 24)  # the posting period is over
    _db.session.commit()
    fire(posted, "end_posting", None)
    fire(posted, "disburse", demo["fund1"], method="bank_transfer", reference="工行-001")  # debit
    _assert_ledger_matches(aid)
    withdrawn = new_case("aid", demo["worker1"])
    fire(withdrawn, "withdraw", demo["worker1"])          # nothing reserved, nothing released
    fund1 = api.as_("fund1")
    entry = fund1.post(f"/api/v1/funds/{aid.id}/income", json={"amount": "88.80", "source": "union_dues"}
                       ).get_json()["entry"]
    _assert_ledger_matches(aid)
    fund1.post(f"/api/v1/funds/{aid.id}/ledger/{entry['id']}/reversal", json={"note": "录错"})
    _assert_ledger_matches(aid, reward)
    _db.session.refresh(aid)
    assert (aid.balance, aid.reserved) == (13345650 - 200000, 150000)


# -- approvals racing for the free balance ---------------------------------------------------

def _small_branch_fund(demo, yuan: int) -> Fund:
    """An aid fund at worker1's branch: it, not the union's, pays for worker1's cases."""
    b2 = _db.session.scalar(select(Unit).where(Unit.code == "B2"))
    fund = Fund(code="B2AID", name="生产车间救助基金", unit=b2, purpose="aid", balance=0, reserved=0)
    _db.session.add(fund)
    _db.session.flush()
    ops.add_income(fund, yuan * 100, "donation", "车间一日捐", demo["fund1"])
    _db.session.commit()
    return fund


def _approve_concurrently(app, case_amounts: dict[int, str]) -> dict[int, object]:
    """Each thread casts the deciding (third) committee vote on its own case at the same moment."""
    results: dict[int, object] = {}
    barrier = threading.Barrier(len(case_amounts), timeout=60)

    def approve(case_id: int, amount: str):
        with app.app_context():
            try:
                barrier.wait()
                user = _db.session.scalar(select(User).where(User.username == "committee3"))
                case = _db.session.get(AidRequest, case_id)
                engine.fire(case, "approve", user, {"amount": amount})
                _db.session.commit()
                results[case_id] = case.state
            except CaseworkError as exc:
                _db.session.rollback()
                results[case_id] = exc
            except Exception as exc:  # a thread must report, not vanish
                _db.session.rollback()
                results[case_id] = repr(exc)
            finally:
                _db.session.remove()

    _db.session.commit()
    threads = [threading.Thread(target=approve, args=item) for item in case_amounts.items()]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    assert not any(t.is_alive() for t in threads)
    _db.session.expire_all()
    return results


@pytest.mark.parametrize("amounts", [
    ["2000.00"] * 6,                                                      # exactly 3 of 6 fit in 7000
    ["4500.00", "3000.00", "2500.00", "2000.00", "1500.00", "1000.00"],   # which fit depends on who wins
])
def test_concurrent_approvals_never_overdraw_the_fund(app, demo, amounts):
    cases = [aid_to(demo, "pending_approval") for _ in amounts]
    for case, amount in zip(cases, amounts):
        for i in (1, 2):
            fire(case, "approve", demo[f"committee{i}"], amount=amount)
    fund = _small_branch_fund(demo, 7000)
    union_fund_before = _fund().balance, _fund().reserved
    results = _approve_concurrently(app, {c.id: a for c, a in zip(cases, amounts)})

    fund = _fund("B2AID")
    approved = [c for c in cases if results[c.id] == "posting"]
    refused = [c for c in cases if isinstance(results[c.id], CaseworkError)]
    assert len(approved) + len(refused) == len(cases), results
    fen = {c.id: int(float(a) * 100) for c, a in zip(cases, amounts)}
    assert fund.balance == 700000 and fund.reserved == sum(fen[c.id] for c in approved)
    assert fund.free >= 0
    for case in refused:
        exc = results[case.id]
        # A clear refusal that names the fund, and only because the money was really gone.
        assert exc.status == 422 and exc.code == "guard" and fund.name in exc.message
        assert fen[case.id] > fund.free
        _db.session.refresh(case)
        assert case.state == "pending_approval" and case.amount_approved is None
    if len(set(amounts)) == 1:
        assert len(approved) == 3 and fund.free == 100000
    for case in approved:
        _db.session.refresh(case)
        assert case.amount_approved == fen[case.id] and case.fund_id == fund.id
    reserves = _db.session.scalars(select(LedgerEntry.case_id).where(LedgerEntry.fund_id == fund.id,
                                                                     LedgerEntry.kind == "reserve")).all()
    assert sorted(reserves) == sorted(c.id for c in approved)
    _assert_ledger_matches(fund, _fund())
    assert (_fund().balance, _fund().reserved) == union_fund_before


def _ledger_lines(html: str) -> list[tuple[int, str, str]]:
    """(entry id, balance change, balance after) of each ledger line on a fund page, top to bottom."""
    import re
    return [(int(i), change.strip(), after.strip()) for i, change, after in re.findall(
        r'<tr id="entry-(\d+)".*?<td data-label="[^"]*" class="num">([^<]*)</td>\s*'
        r'<td data-label="[^"]*" class="num balance-after">([^<]*)</td>', html, re.S)]


def test_ledger_shows_a_running_balance_across_pages_and_in_the_export(web, demo, monkeypatch):
    import csv
    import io
    from decimal import Decimal

    from casework.funds import views
    aid_to(demo, "posting")  # a reserve line: the balance after it is the one before it
    fund = _fund()
    for i in range(5):
        ops.add_income(fund, 10000 + i, "donation", f"捐款{i}", demo["fund1"])
    _db.session.commit()
    monkeypatch.setattr(views, "PAGE", 3)
    web.login("fund1")
    lines, path = [], f"/funds/{fund.id}"
    while path:
        page = web.get(path).get_data(as_text=True)
        lines += _ledger_lines(page)
        nxt = re.search(r'href="(/funds/\d+\?before=\d+)"', page)
        path = nxt.group(1) if nxt else None
    assert len(lines) == _db.session.scalar(select(func.count()).select_from(LedgerEntry)
                                            .where(LedgerEntry.fund_id == fund.id)) >= 9
    money = [(Decimal(change or "0"), Decimal(after)) for _, change, after in lines]
    assert money[0][1] == Decimal(_fund().balance) / 100  # the newest line carries today's balance
    for (change, after), (_, older) in zip(money, money[1:] + [(None, Decimal(0))]):
        assert after == older + change
    assert "余额变动" in page and "预留变动" in page
    rows = list(csv.reader(io.StringIO(web.get(f"/export/funds/{fund.id}/ledger.csv").get_data(as_text=True)
                                       .lstrip("\ufeff"))))
    assert rows[0][5] == "余额（元）"
    assert [(int(r[0]), Decimal(r[5])) for r in rows[1:]] == [(i, after) for (i, _, _), (_, after) in
                                                                zip(lines, money)]
