"""The queue on a phone: its tables become cards, so every cell that shows something names its column, and
each step shown as a tag is a link that opens the case at that step's form."""
from __future__ import annotations

import html
import re

import pytest

from .factories import aid_to, attach, fire, new_case

CELL = re.compile(r"<td([^>]*)>(.*?)</td>", re.S)
STEP = re.compile(r'<a class="tag" href="(/cases/aid/(\d+)\?do=(\w+)#action-\3)">([^<]+)</a>')


@pytest.fixture()
def submitted(demo):
    case = new_case("aid", demo["worker1"])
    attach(case, "income_proof", demo["worker1"])
    fire(case, "submit", demo["worker1"])
    return case


def body_rows(page: str) -> str:
    return page.split("<tbody>", 1)[1].split("</tbody>", 1)[0]


@pytest.mark.parametrize("path", ["/work", "/"])
def test_every_cell_of_a_queue_card_names_its_column(web, demo, submitted, path):
    web.login("staff1")
    page = web.get(path).get_data(as_text=True)
    assert '<table class="table cards">' in page
    cells = CELL.findall(body_rows(page))
    assert cells
    for attrs, content in cells:
        if 'class="no-select"' in attrs:
            assert not content.strip()  # hidden on a phone: it would be an empty line
        else:
            assert 'data-label="' in attrs, (attrs, content[:80])


def test_the_steps_are_links_that_open_the_case_at_that_step(web, demo, submitted):
    web.login("staff1")
    page = web.get(f"/work?q={submitted.number}").get_data(as_text=True)
    steps = {m[2]: (html.unescape(m[0]), m[3]) for m in STEP.findall(page) if int(m[1]) == submitted.id}
    assert "start_verification" in steps and steps["start_verification"][1] == "开始核实"
    assert '<span class="tag">开始核实</span>' not in page
    case_page = web.get(steps["start_verification"][0].split("#")[0]).get_data(as_text=True)
    opened = re.findall(r'<details class="action" id="action-(\w+)" open>', case_page)
    assert opened == ["start_verification"]  # only the step followed, among the several staff may take
    plain = web.get(f"/cases/aid/{submitted.id}").get_data(as_text=True)
    assert 'id="action-start_verification" open' not in plain


def test_the_bulk_step_is_offered_only_beside_cases_it_can_take(web, demo, submitted):
    bulk = "对所选事项开始核实"
    web.login("staff1")
    assert bulk in web.get("/work").get_data(as_text=True)
    pending = aid_to(demo, "pending_approval")
    web.client.delete_cookie("session")
    web.login("committee1")
    page = web.get("/work").get_data(as_text=True)
    assert pending.number in page and 'name="case"' not in page
    assert bulk not in page  # the committee votes: no row to select, no button


TABLE = re.compile(r'<table class="table cards[^"]*">.*?</table>', re.S)


def _labelled_cards(page: str) -> list[str]:
    """The cells of the page's card tables that show something and name no column (an actions cell, of
    forms, buttons or one link that says what it does, needs no name)."""
    tables = TABLE.findall(page)
    assert tables, "no card table on the page"
    bare = []
    for table in tables:
        for attrs, content in CELL.findall(body_rows(table)):
            if "data-label=" in attrs or "no-select" in attrs or not content.strip():
                continue
            if re.fullmatch(r"\s*(<form\b.*</form>|<details\b.*</details>|<a [^>]*>[^<]*</a>)\s*", content, re.S):
                continue
            bare.append(content.strip()[:80])
    return bare


@pytest.mark.parametrize("username, path", [
    ("staff1", "/funds"), ("staff1", "/funds/{fund}"), ("staff1", "/disclosures"), ("worker1", "/proposals/mine"),
    ("rep1", "/motions/mine"), ("admin", "/admin/users"), ("worker1", "/cases/aid/{aid}"), ("worker2", "/board/{board}")])
def test_lists_on_a_phone_name_every_cell(web, demo, submitted, username, path):
    from sqlalchemy import func

    from casework.core.models import CongressSession
    from casework.disclosure.models import Disclosure
    from casework.extensions import db
    from casework.funds.models import Fund
    fire(new_case("proposal", demo["worker1"]), "submit", demo["worker1"])
    new_case("motion", demo["rep1"], session=db.session.scalar(db.select(CongressSession)).id)
    aid_to(demo, "posted")  # a batch on the board, and the fund's reservation in its ledger
    fund = db.session.scalar(db.select(Fund).where(Fund.code == "AID"))
    board = db.session.scalar(db.select(func.max(Disclosure.id)))
    web.login(username)
    page = web.get(path.format(fund=fund.id, aid=submitted.id, board=board)).get_data(as_text=True)
    assert not _labelled_cards(page), path


@pytest.mark.parametrize("path", ["/work", "/cases"])
def test_the_state_filter_offers_each_kinds_states_once_under_its_name(web, demo, path):
    web.login("staff1")
    page = web.get(f"{path}?kind=proposal&state=submitted").get_data(as_text=True)
    select = page.split('<select name="state">', 1)[1].split("</select>", 1)[0]
    groups = re.findall(r'<optgroup label="([^"]+)">(.*?)</optgroup>', select, re.S)
    assert [g[0] for g in groups] == ["帮扶申请", "合理化建议", "职代会提案"]
    for _name, options in groups:
        shown = re.findall(r">([^<]+)</option>", options)
        assert len(shown) == len(set(shown))  # no 公示中 twice
    assert "待签发" not in select and "待回访" not in select  # the board's and the call-backs' states
    assert select.count("selected") == 1
    proposal_group = dict(groups)["合理化建议"]
    assert 'value="submitted" selected' in proposal_group
