"""Exports: the file equals the page it came from, holds only what the user may see, and cannot inject formulas."""
from __future__ import annotations

import csv
import html
import io
import re

import openpyxl
from sqlalchemy import select



from casework.accounts.models import Unit
from casework.exports.writer import safe
from casework.extensions import db as _db

from .conftest import Browser
from .factories import aid_to, new_case

SECRET = "爱人重病，家庭收入微薄"  # the factories' circumstances text


def xlsx_rows(response) -> list[list]:
    ws = openpyxl.load_workbook(io.BytesIO(response.data)).active
    return [["" if v is None else v for v in row] for row in ws.iter_rows(values_only=True)]


def csv_rows(response) -> list[list]:
    return list(csv.reader(io.StringIO(response.get_data(as_text=True).lstrip("\ufeff"))))


def page_table(text: str, marker: str) -> list[list[str]]:
    table = text.split(marker, 1)[1].split("</table>", 1)[0]
    rows = re.findall(r"<tr>(.*?)</tr>", table, re.S)
    return [[html.unescape(re.sub(r"<[^>]+>", "", c)).strip() for c in re.findall(r"<td[^>]*>(.*?)</td>", r, re.S)]
            for r in rows if "<td" in r]


def test_case_list_export_equals_the_page_and_hides_others_cases(demo, web, app):
    mine = [aid_to(demo, "submitted"), new_case("proposal", demo["worker1"], title="=HYPERLINK(\"x\")")]
    theirs = new_case("proposal", demo["worker2"], title="李的建议")
    web.login("worker1")
    page = web.get("/cases").get_data(as_text=True)
    numbers_on_page = re.findall(r">([APM]\d{4}-\d{5})</a>", page)
    rows = xlsx_rows(web.get("/export/cases.xlsx"))
    assert rows[0][:4] == ["编号", "类型", "标题", "状态"]
    assert [r[0] for r in rows[1:]] == numbers_on_page == [c.number for c in reversed(mine)]
    assert theirs.number not in str(rows)
    # the formula-looking title is text, not a formula
    assert rows[1][2] == "'=HYPERLINK(\"x\")"
    assert csv_rows(web.get("/export/cases.csv"))[1][2] == "'=HYPERLINK(\"x\")"
    other = Browser(app.test_client())
    other.login("worker2")
    got = csv_rows(other.get("/export/cases.csv"))
    assert [r[0] for r in got[1:]] == [theirs.number]


def test_fund_manager_export_has_no_circumstances(demo, web):
    case = aid_to(demo, "posting")
    web.login("fund1")
    text = web.get("/export/cases.csv").get_data(as_text=True)
    assert case.number in text and SECRET not in text
    staff = Browser(web.client.application.test_client())
    staff.login("staff1")
    assert SECRET in staff.get("/export/cases.csv").get_data(as_text=True)  # a reviewer may see it


def test_work_queue_export_equals_the_page(demo, web):
    cases = [aid_to(demo, "submitted") for _ in range(3)]
    web.login("staff1")
    page = web.get("/work").get_data(as_text=True)
    on_page = re.findall(r">([APM]\d{4}-\d{5})</a>", page)
    rows = xlsx_rows(web.get("/export/work.xlsx"))
    assert rows[0][0] == "编号" and [r[0] for r in rows[1:]] == on_page
    assert set(on_page) == {c.number for c in cases}


def test_statistics_table_export_equals_the_page(demo, web):
    aid_to(demo, "posting")
    new_case("proposal", demo["worker1"])
    hq = web  # noqa: F841
    web.login("staff1")
    from casework.extensions import db
    unit = db.session.scalar(select(Unit).where(Unit.parent_id.is_(None)))
    q = f"unit={unit.id}&from=2026-01-01&to=2026-12-31"
    page = web.get(f"/stats?{q}").get_data(as_text=True)
    for table in ("cases", "handling", "proposals"):
        shown = page_table(page, f'data-table="{table}"')
        rows = xlsx_rows(web.get(f"/stats/export/{table}.xlsx?{q}"))
        assert [[str(v) for v in r] for r in rows[1:]] == shown, table
        assert csv_rows(web.get(f"/stats/export/{table}.csv?{q}"))[1:] == shown, table
    assert xlsx_rows(web.get(f"/stats/export/cases.xlsx?{q}"))[0] == ["类型", "状态", "件数"]
    worker = Browser(web.client.application.test_client())
    worker.login("worker1")
    assert worker.get(f"/stats/export/cases.csv?{q}").status_code == 403
    assert web.get(f"/stats/export/nothing.csv?{q}").status_code == 404


def test_cells_that_look_like_formulas_are_escaped():
    assert [safe(v) for v in ("=1+1", "+86", "-2", "@SUM(A1)", "普通", 12, None)] == \
        ["'=1+1", "'+86", "'-2", "'@SUM(A1)", "普通", 12, ""]


def test_fund_ledger_export_equals_the_page_and_needs_the_fund(demo, web, app):
    from casework.funds.models import Fund
    aid_to(demo, "posting")
    fund = _db.session.scalar(select(Fund).where(Fund.purpose == "aid"))
    web.login("fund1")
    page = web.get(f"/funds/{fund.id}").get_data(as_text=True)
    assert f"/export/funds/{fund.id}/ledger.xlsx" in page
    on_page = [int(n) for n in re.findall(r'id="entry-(\d+)"', page)]
    rows = xlsx_rows(web.get(f"/export/funds/{fund.id}/ledger.xlsx"))
    assert rows[0][:3] == ["序号", "时间", "类型"]
    assert [r[0] for r in rows[1:]] == on_page and len(on_page) >= 2
    reserve = next(r for r in rows[1:] if r[2] == "预留")
    assert reserve[4] == 2000 and reserve[3] == ""  # numbers, which a spreadsheet adds up
    assert csv_rows(web.get(f"/export/funds/{fund.id}/ledger.csv"))[1:] == [
        [f"{v:.2f}" if i in (3, 4, 5) and v != "" else str(v) for i, v in enumerate(r)] for r in rows[1:]]
    worker = Browser(app.test_client())
    worker.login("worker1")
    assert worker.get(f"/export/funds/{fund.id}/ledger.csv").status_code == 403
    assert worker.get("/export/funds/99999/ledger.csv").status_code == 404


def test_list_and_queue_pages_link_their_exports_with_the_filters(demo, web):
    aid_to(demo, "submitted")
    web.login("staff1")
    assert "/export/cases.csv?kind=aid" in web.get("/cases?kind=aid").get_data(as_text=True)
    queue = web.get("/work?kind=aid&state=submitted").get_data(as_text=True)
    assert re.search(r'/export/work\.xlsx\?(kind=aid&amp;state=submitted|state=submitted&amp;kind=aid)"', queue)


def test_exports_give_the_unions_day_not_utcs(demo, web, clock):
    # 07:22 on 2 December in Beijing is still 1 December in UTC.
    clock.move_to("2026-12-02 07:22:00 +08:00")
    case = new_case("proposal", demo["worker1"], title="早班提出的建议")
    web.login("worker1")
    for rows in (xlsx_rows(web.get("/export/cases.xlsx")), csv_rows(web.get("/export/cases.csv"))):
        row = next(r for r in rows if r[0] == case.number)
        assert row[7] == "2026-12-02"
