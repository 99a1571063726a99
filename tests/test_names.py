"""Names: one normal form at every entry point, and a public mask that shows only the surname whatever was
typed: on the board page, its API and its PDF."""
from __future__ import annotations

import html
import io
import re

import pytest
from sqlalchemy import select

from casework.accounts.models import RoleAssignment, User
from casework.disclosure.masking import mask_name
from casework.disclosure.models import DisclosureItem
from casework.extensions import db as _db
from casework.names import normalise_name

from .factories import aid_to, post_on_board

# raw (as typed or imported) -> stored -> masked
HOSTILE = [
    ("谢 文斌", "谢文斌", "谢**"),
    ("王\u3000芳", "王芳", "王*"),
    ("\u202e欧阳明", "欧阳明", "欧阳*"),
    ("欧阳\u200b明辉", "欧阳明辉", "欧阳**"),
    ("司\u200b马相如", "司马相如", "司马**"),
    ("诸葛\u200d孔明", "诸葛孔明", "诸葛**"),
    ("上官 婉儿", "上官婉儿", "上官**"),
    ("\u200b\u200b李思远", "李思远", "李**"),
    ("张\u00a0振宇", "张振宇", "张**"),
    ("刘\t德华", "刘德华", "刘**"),
    ("陈\u2060志远", "陈志远", "陈**"),
    ("杨\ufeff雪梅", "杨雪梅", "杨**"),
    ("黄\u202d嘉豪\u202c", "黄嘉豪", "黄**"),
    ("赵\u2066婷婷\u2069", "赵婷婷", "赵**"),
    ("孙\u3164海", "孙海", "孙*"),
    ("周\u00ad子涵", "周子涵", "周**"),
    ("\u2f65云", "田云", "田*"),  # a Kangxi radical that NFKC makes the plain character
    ("东方\u3000\u3000不败", "东方不败", "东方**"),
    ("吴\r\n俊熙", "吴俊熙", "吴**"),
    ("慕容 复", "慕容复", "慕容*"),
    ("令狐\u200c冲", "令狐冲", "令狐*"),
    ("\u200f钟离\u200e春", "钟离春", "钟离*"),
    ("John\u200b Smith", "John Smith", "J*** *****"),
    ("  Anna \u3000 Lee  ", "Anna Lee", "A*** ***"),
    ("\u202eMaria Garcia", "Maria Garcia", "M**** ******"),
    ("Ｋｉｍ", "Kim", "K**"),
]


@pytest.mark.parametrize("raw,stored,masked", HOSTILE)
def test_normal_form_and_mask(raw, stored, masked):
    assert normalise_name(raw) == stored
    assert mask_name(raw) == masked == mask_name(stored)


@pytest.mark.parametrize("raw", ["", "   ", "\u3000", "\u200b\u200d\u202e", "\ufeff", "\u3164"])
def test_names_of_nothing_visible_are_empty(raw):
    assert normalise_name(raw) == ""
    assert mask_name(raw) == "*"


def _given(stored: str, masked: str) -> str:
    return stored[len(masked.rstrip("*")):] if not masked[0].isascii() else stored.split(" ", 1)[-1]


class _As(dict):
    """The demo's users, with someone else as the applicant ("worker1")."""
    def __init__(self, demo, applicant):
        super().__init__()
        self.demo, self.applicant = demo, applicant

    def __getitem__(self, name):
        return self.applicant if name == "worker1" else self.demo[name]


def _board_of_hostile_names(demo):
    worker = demo["worker1"]
    cases = {}
    for i, (raw, stored, masked) in enumerate(HOSTILE):
        user = User(username=f"hostile{i}", name=raw, unit_id=worker.unit_id, email=None)
        user.roles.append(RoleAssignment(role="worker", unit_id=worker.unit_id))
        _db.session.add(user)
        _db.session.commit()
        assert user.name == stored  # the model keeps the normal form, whichever path set it
        cases[aid_to(_As(demo, user), "posting").id] = (stored, masked)
    batch = post_on_board(demo)
    seqs = {item.seq: cases[item.case_id] for item in
            _db.session.scalars(select(DisclosureItem).where(DisclosureItem.disclosure_id == batch.id))}
    assert len(seqs) == len(HOSTILE)
    return batch, seqs


def _pdf_rows(data: bytes) -> dict[int, str]:
    import pdfplumber
    rows = {}
    with pdfplumber.open(io.BytesIO(data)) as pdf:
        for page in pdf.pages:
            for table in page.extract_tables():
                for row in table:
                    if row and (row[0] or "").strip().isdigit():
                        rows[int(row[0])] = (row[1] or "").replace("\n", " ").strip()
    return rows


def test_only_the_surname_is_shown_on_the_board_its_api_and_its_pdf(demo, client):
    batch, seqs = _board_of_hostile_names(demo)
    expected = {seq: masked for seq, (_stored, masked) in seqs.items()}
    secrets = [_given(stored, masked) for stored, masked in seqs.values()]

    page = html.unescape(client.get(f"/board/{batch.id}").get_data(as_text=True))
    shown = {int(seq): name for seq, name in re.findall(r"<tr[^>]*><td[^>]*>(\d+)</td><td[^>]*>([^<]*)</td>", page)}
    assert shown == expected

    body = client.get(f"/api/v1/board/{batch.id}").get_json()
    assert {i["seq"]: i["masked_name"] for i in body["items"]} == expected
    api_text = str(body)

    pdf = client.get(f"/notices/board/{batch.id}.pdf")
    assert pdf.status_code == 200 and pdf.mimetype == "application/pdf"
    assert _pdf_rows(pdf.data) == expected
    import pdfplumber
    with pdfplumber.open(io.BytesIO(pdf.data)) as doc:
        pdf_text = "".join((p.extract_text() or "") for p in doc.pages)

    for text in (page, api_text, pdf_text):
        for given in secrets:
            if len(given) >= 2:  # a single character may well be part of the page's own words
                assert given not in text
        assert not any(ch in text for ch in "\u200b\u200d\u202e\u202d\u2066\u3164\ufeff")


def test_the_admin_people_form_stores_the_normal_form(demo, web):
    web.login("admin")
    unit_id = demo["worker1"].unit_id
    r = web.post("/admin/users/new", {"username": "xie", "name": "\u202e谢 文\u200b斌", "unit_id": str(unit_id),
                                      "password": "a-long-password", "active": "y"}, form_page="/admin/users/new")
    assert r.status_code == 302, r.get_data(as_text=True)[:2000]
    assert _db.session.scalar(select(User).where(User.username == "xie")).name == "谢文斌"
    r = web.post("/admin/users/new", {"username": "ghost", "name": "\u200b\u3000\u202e", "unit_id": str(unit_id),
                                      "password": "a-long-password", "active": "y"}, form_page="/admin/users/new")
    assert r.status_code == 200 and "此项为必填项" in html.unescape(r.get_data(as_text=True))
    assert _db.session.scalar(select(User).where(User.username == "ghost")) is None


def test_the_roster_import_stores_the_normal_form(demo):
    from casework.roster.operations import import_roster

    from .test_roster import good_row, xlsx
    rows = [good_row(i) for i in range(3)]
    rows[0][0], rows[1][0], rows[2][0] = "谢\u3000文斌", "\u202e欧阳\u200b明", "\u200b\u200d"
    import_roster(xlsx(rows), "r.xlsx", demo["admin"], dry_run=False)
    names = set(_db.session.scalars(select(User.name).where(User.employee_no.in_(["T00000", "T00001", "T00002"]))))
    assert names == {"谢文斌", "欧阳明"}  # the third row had no visible name and was refused
