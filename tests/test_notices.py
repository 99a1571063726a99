"""PDF notices: the text each prints (extracted from the PDF), RMB capitals, 文号 under concurrency, the check
page, downloads (same bytes), access, fonts, safe fetching, batches; no WeasyPrint warning goes unnoticed."""
from __future__ import annotations

import hashlib
import io
import logging
import re
import threading
import time
from datetime import timedelta

import pdfplumber
import pytest
from sqlalchemy import select

from casework.clock import today
from casework.core import engine
from casework.core.models import AuditEntry, CongressSession
from casework.extensions import db as _db
from casework.notices import batch, operations, renderer, signing
from casework.notices.models import Notice, NoticeBatch
from casework.tasks.models import Job

from .conftest import Browser
from .factories import aid_to, fire, new_case, post_on_board, posting_over


# -- helpers ---------------------------------------------------------------------------------

class _Collect(logging.Handler):
    def __init__(self):
        super().__init__(logging.WARNING)
        self.records: list[logging.LogRecord] = []

    def emit(self, record):
        self.records.append(record)


@pytest.fixture(autouse=True)
def weasyprint_warnings():
    """Any WeasyPrint warning while rendering (a missing glyph, a refused URL) fails the test, unless the test
    takes the records itself."""
    handler = _Collect()
    logger = logging.getLogger("weasyprint")
    logger.addHandler(handler)
    yield handler.records
    logger.removeHandler(handler)
    assert not handler.records, [r.getMessage() for r in handler.records]


def text_of(pdf: bytes) -> str:
    """The PDF's text without the spaces that letter-spacing and line breaks put between characters."""
    with pdfplumber.open(io.BytesIO(pdf)) as doc:
        return re.sub(r"\s+", "", "".join(page.extract_text() or "" for page in doc.pages))


def pages_of(pdf: bytes) -> int:
    with pdfplumber.open(io.BytesIO(pdf)) as doc:
        return len(doc.pages)


def notices(case, kind=None) -> list[Notice]:
    _db.session.expire_all()
    return [n for n in operations.for_case(case) if kind is None or n.kind == kind]


def approved(demo):
    """An aid request of worker1 approved at 2000.00 whose posting period has passed."""
    case = posting_over(demo)
    fire(case, "end_posting", None)
    assert case.state == "approved"
    return case


def motion_submitted(demo, title="关于改善职工食堂的提案"):
    session = _db.session.scalar(select(CongressSession))
    motion = new_case("motion", demo["rep1"], session=session.id, title=title)
    fire(motion, "open_for_cosigning", demo["rep1"])
    fire(motion, "cosign", demo["rep2"])
    fire(motion, "cosign", demo["rep3"])
    fire(motion, "submit", demo["rep1"])
    return motion


def proposal_graded(demo, scores=(90, 88)):
    p = new_case("proposal", demo["worker1"], coproposers=["worker3"])
    fire(p, "submit", demo["worker1"])
    fire(p, "accept", demo["staff1"], evaluators=["evaluator1", "evaluator2"])
    for evaluator, value in zip(("evaluator1", "evaluator2"), scores):
        engine.fire(p, "score", demo[evaluator], {"score": value, "comment": "可行"})
        _db.session.commit()
    fire(p, "grade", demo["staff1"])
    return p


def objected(demo):
    """An approved aid request someone objected to during its posting period."""
    case = aid_to(demo, "posted")
    fire(case, "object", None)
    return case


def vote(case, trigger, demo, **data):
    for i in (1, 2, 3):
        fire(case, trigger, demo[f"committee{i}"], **data)


SECRETS = ("爱人重病", "家庭收入微薄", "2100", "子女上学", "住房简陋", "13800001001")


# -- money and dates ---------------------------------------------------------------------------

@pytest.mark.parametrize("yuan,capitals", [
    ("0.01", "人民币壹分"), ("0.10", "人民币壹角"), ("1.00", "人民币壹元整"), ("10.00", "人民币壹拾元整"),
    ("100.05", "人民币壹佰元零伍分"), ("1001.00", "人民币壹仟零壹元整"), ("10010.10", "人民币壹万零壹拾元壹角"),
    ("1000000.00", "人民币壹佰万元整"), ("1200.00", "人民币壹仟贰佰元整"), ("0.00", "人民币零元整"),
    ("0.35", "人民币叁角伍分"), ("1.01", "人民币壹元零壹分"), ("16.00", "人民币壹拾陆元整"),
    ("20.30", "人民币贰拾元叁角"), ("1010.01", "人民币壹仟零壹拾元零壹分"), ("1234.56", "人民币壹仟贰佰叁拾肆元伍角陆分"),
    ("100000.00", "人民币壹拾万元整"), ("1010000.00", "人民币壹佰零壹万元整"),
    ("133456.50", "人民币壹拾叁万叁仟肆佰伍拾陆元伍角"), ("100000000.00", "人民币壹亿元整"),
    ("99999999.99", "人民币玖仟玖佰玖拾玖万玖仟玖佰玖拾玖元玖角玖分"),
])
def test_rmb_capitals(yuan, capitals):
    from casework.money import parse_money
    assert renderer.rmb_capitals(parse_money(yuan)) == capitals


@pytest.mark.parametrize("bad", [-1, 1.5, True, "100", None])
def test_rmb_capitals_refuses_what_is_not_fen(bad):
    with pytest.raises(ValueError):
        renderer.rmb_capitals(bad)


def test_official_date_form():
    from datetime import date
    assert renderer.date_zh(date(2026, 11, 25)) == "2026年11月25日"
    assert renderer.date_zh(date(2027, 1, 8)) == "2027年1月8日"  # no leading zeros (GB/T 9704-2012)


# -- the renderer ----------------------------------------------------------------------------

def test_fonts_present_and_harfbuzz_subsetting_available():
    renderer.check_fonts()
    for family in ("Noto Serif CJK SC", "Noto Sans CJK SC"):  # title and body; the reports' headings
        assert family in renderer.font_families(family)
        assert f'"{family}"' in renderer.STYLESHEET.read_text()
    assert renderer.FONT_FAMILY == "Noto Serif CJK SC"
    assert not renderer.harfbuzz_subset_missing(), "install libharfbuzz-subset0: subsetting is ~50x slower"


def test_missing_font_stops_with_one_clear_error(monkeypatch):
    with pytest.raises(renderer.FontMissing) as exc:
        renderer.check_fonts("No Such CJK Family")
    assert "fonts-noto-cjk" in exc.value.message and "No Such CJK Family" in exc.value.message
    monkeypatch.setattr(renderer, "FONT_FAMILY", "No Such CJK Family")
    with pytest.raises(renderer.FontMissing):
        renderer.render("aid_approval.html", {})  # refused before any layout: never a PDF of empty boxes


def test_missing_font_refuses_the_step_and_changes_nothing(demo, api, monkeypatch):
    case = aid_to(demo, "pending_approval")
    monkeypatch.setattr(renderer, "FONT_FAMILY", "No Such CJK Family")
    votes = [api.as_(f"committee{i}").post(f"/api/v1/cases/aid/{case.id}/transitions/approve",
                                           json={"amount": "2000.00"}) for i in (1, 2, 3)]
    assert [r.status_code for r in votes] == [200, 200, 503]
    assert "fonts-noto-cjk" in votes[-1].get_json()["error"]["message"]
    _db.session.expire_all()
    assert case.state == "pending_approval" and notices(case) == []


def test_startup_warns_when_harfbuzz_subset_or_the_font_is_missing(app, monkeypatch):
    from casework.notices import _startup_checks
    monkeypatch.setattr(renderer, "harfbuzz_subset_missing", lambda: True)
    monkeypatch.setattr(renderer, "FONT_FAMILY", "No Such CJK Family")
    handler = _Collect()
    app.logger.addHandler(handler)
    try:
        _startup_checks(app)
    finally:
        app.logger.removeHandler(handler)
    said = " ".join(r.getMessage() for r in handler.records)
    assert "libharfbuzz-subset0" in said and "fonts-noto-cjk" in said


def test_missing_glyph_warning_is_caught(weasyprint_warnings):
    renderer.html_to_pdf('<p>\U000F0001</p>')  # a private-use character that no font has
    assert any(".notdef" in r.getMessage() for r in weasyprint_warnings)
    weasyprint_warnings.clear()


@pytest.mark.parametrize("url", [
    "http://example.org/logo.png", "https://127.0.0.1/x.css", "ftp://example.org/x", "file:///etc/passwd",
    "data:text/plain;base64,aGk=", f"{renderer.STATIC.as_uri()}/../../../../etc/passwd",
    f"{renderer.STATIC.as_uri()}/missing.png", "file://evil.example.org/casework/static/casework.css",
])
def test_fetcher_refuses_everything_but_static_files(url):
    assert renderer.static_path(url) is None
    with pytest.raises(ValueError):
        renderer.url_fetcher().fetch(url)


def test_fetcher_serves_static_files():
    url = f"{renderer.STATIC.as_uri()}/casework.css"
    assert renderer.url_fetcher().fetch(url).read() == (renderer.STATIC / "casework.css").read_bytes()


def test_rendering_never_reaches_the_network_or_other_files(weasyprint_warnings):
    pdf = renderer.html_to_pdf('<link rel="stylesheet" href="http://127.0.0.1:9/x.css">'
                               '<img src="file:///etc/passwd"><p>公示</p>')
    assert text_of(pdf) == "公示"
    refused = [r.getMessage() for r in weasyprint_warnings]
    assert refused and all("refused" in m or "Failed" in m for m in refused), refused
    weasyprint_warnings.clear()


def test_templates_take_plain_values_only(demo):
    with pytest.raises(TypeError, match="plain values"):
        renderer.html("aid_approval.html", {"name": demo["worker1"]})


# -- aid -------------------------------------------------------------------------------------

def test_approval_notice(demo):
    case = aid_to(demo, "posting")
    [n] = notices(case)
    text = text_of(n.pdf)
    for expected in ("示范公司工会委员会", "救助审批通知书", "工帮〔2026〕1号", "张建国同志", case.number,
                     "困难帮扶", "人民币贰仟元整", "¥2,000.00", "困难职工救助基金", "2026年11月25日", "5个工作日",
                     n.display_code, f"/verify/{n.verify_code}"):
        assert expected in text, expected
    for secret in SECRETS:
        assert secret not in text
    assert n.kind == "aid_approval" and n.number == "工帮〔2026〕1号" and n.unit.name == "示范公司工会委员会"
    assert hashlib.sha256(n.pdf).hexdigest() == n.sha256 and n.size == len(n.pdf)
    # Compact font subsets keep the rendering of a one-page letter under 40 KB (issue 16, tests/test_notice_pdf.py);
    # its PAdES signature (certificate, CMS, signature field) adds about 4.5 KB.
    assert n.size <= 45 * 1024 and pages_of(n.pdf) == 1
    # The audit entry of the decisive vote binds the notice's number and hash into the case's chain.
    entry = _db.session.scalars(select(AuditEntry).where(AuditEntry.case_id == case.id)
                                .order_by(AuditEntry.seq.desc())).first()
    assert entry.changes["notices"] == [f"{n.number} sha256:{n.sha256}"]


def test_rejection_notice_quotes_the_reason(demo):
    case = aid_to(demo, "pending_approval")
    vote(case, "reject", demo, reason="家庭人均收入高于困难职工认定标准<b>（复核）</b>")
    [n] = notices(case)
    text = text_of(n.pdf)
    assert n.kind == "aid_rejection" and n.number == "工帮复〔2026〕1号"
    for expected in ("不予救助通知书", "张建国同志", "决定不予批准", "家庭人均收入高于困难职工认定标准<b>（复核）</b>"):
        assert expected in text, expected  # user text is printed as text, never as markup


def test_upheld_objection_rejects_and_supersedes_the_approval(demo, client):
    case = objected(demo)
    vote(case, "uphold_objection", demo, answer="经复核，申请人家庭收入已超过标准。")
    approval, rejection = notices(case)
    assert (approval.kind, rejection.kind) == ("aid_approval", "aid_rejection")
    assert approval.superseded_by_id == rejection.id and rejection.superseded_by_id is None
    text = text_of(rejection.pdf)
    assert "撤销原批准决定" in text and "经复核，申请人家庭收入已超过标准。" in text
    # The check page of the old notice says it was replaced, and by which.
    page = client.get(f"/verify/{approval.verify_code}")
    body = page.get_data(as_text=True)
    assert page.status_code == 200 and rejection.number in body and approval.sha256 in body


def test_disbursement_receipt(demo, api):
    case = approved(demo)
    fire(case, "disburse", demo["fund1"], method="bank_transfer", reference="BK-20261125-001")
    receipt = notices(case, "aid_receipt")[0]
    text = text_of(receipt.pdf)
    assert "困难帮扶" not in text  # the fund manager sees the payee and the amount, not the category
    fund = api.as_("fund1")
    items = fund.get(f"/api/v1/cases/aid/{case.id}/notices").get_json()["items"]
    assert [i["kind"] for i in items] == ["aid_receipt"]  # not the approval letter
    assert hashlib.sha256(fund.get(items[0]["url"]).data).hexdigest() == receipt.sha256
    owner = api.as_("worker1").get(f"/api/v1/cases/aid/{case.id}/notices").get_json()["items"]
    assert [i["kind"] for i in owner] == ["aid_approval", "aid_receipt"]
    for expected in ("救助金发放签收单", "工帮发〔2026〕1号", "张建国", "E1001", "一车间小组", "人民币贰仟元整",
                     "¥2,000.00", "银行转账", "BK-20261125-001", "领款人（签字）", "郑晓燕", "2026年11月25日"):
        assert expected in text, expected
    for secret in SECRETS:
        assert secret not in text


# -- proposals and motions ---------------------------------------------------------------------

def test_proposal_decline_reply_letter(demo):
    p = new_case("proposal", demo["worker1"])
    fire(p, "submit", demo["worker1"])
    fire(p, "decline", demo["staff1"], reply="该问题已列入本年度技改计划。")
    [n] = notices(p)
    text = text_of(n.pdf)
    assert n.kind == "proposal_reply" and n.number == "工建函〔2026〕1号"
    for expected in ("合理化建议答复函", "张建国同志", "《改进冲压车间排班》", "暂不予受理", "该问题已列入本年度技改计划。"):
        assert expected in text, expected


def test_proposal_not_adopted_reply_letter(demo):
    p = proposal_graded(demo, scores=(50, 40))
    vote(p, "not_adopt", demo, reply="建议内容与现行安全规程冲突。")
    [n] = notices(p)
    text = text_of(n.pdf)
    assert "决定不予采纳" in text and "建议内容与现行安全规程冲突。" in text and "不采纳" in text


def test_proposal_reward_certificate_and_reply(demo):
    p = proposal_graded(demo, scores=(90, 88))
    vote(p, "adopt", demo, department="TECH", deadline=(today() + timedelta(days=30)).isoformat())
    fire(p, "acknowledge", demo["handler1"])
    fire(p, "report_implemented", demo["handler1"], result="已上线电子交接单", benefit="15000.00")
    vote(p, "reward", demo)
    certificate, reply = notices(p)
    assert (certificate.kind, reply.kind) == ("proposal_certificate", "proposal_reply")
    text = text_of(certificate.pdf)
    for expected in ("荣誉证书", "张建国、欧阳明同志", "你们提出", "《改进冲压车间排班》", "“优秀”", "人民币伍佰元整", "¥500.00",
                     "工建奖〔2026〕1号"):
        assert expected in text, expected
    text = text_of(reply.pdf)
    for expected in ("予以采纳", "生产技术部", "人民币壹万伍仟元整", "人民币伍佰元整", "颁发奖励证书"):
        assert expected in text, expected


def test_motion_filing_and_replies(demo):
    m = motion_submitted(demo)
    fire(m, "file", demo["motions1"], department="TECH", co_departments=["LOG"], deadline="2027-01-08")
    [filing] = notices(m)
    text = text_of(filing.pdf)
    for expected in ("提案立案通知书", "工提立〔2026〕1号", "林晓峰代表", "第五届职工代表大会第三次会议",
                     "《关于改善职工食堂的提案》", "予以立案", "生产技术部", "后勤保障部协办", "2027年1月8日",
                     "罗春梅、谢文斌", "提案审查委员会"):
        assert expected in text, expected
    fire(m, "acknowledge", demo["handler1"])
    fire(m, "reply", demo["handler1"], text="已增设两个就餐窗口，并延长供餐时间半小时。")
    first = notices(m, "motion_reply")[0]
    text = text_of(first.pdf)
    assert "提案答复函" in text and "已增设两个就餐窗口，并延长供餐时间半小时。" in text and "10个工作日内" in text
    fire(m, "rate_unsatisfied", demo["rep1"])
    fire(m, "reply", demo["handler1"], text="再增设一处售饭点。")
    first, second = notices(m, "motion_reply")
    assert first.superseded_by_id == second.id
    assert "第二次答复，为最终答复" in text_of(second.pdf) and second.number == "工提答〔2026〕2号"


def test_motion_not_filed_letter(demo):
    m = motion_submitted(demo, title="关于调整个人岗位的提案")
    fire(m, "not_file", demo["motions1"], reason="属于个人诉求，不符合提案立案条件。")
    [n] = notices(m)
    text = text_of(n.pdf)
    assert n.kind == "motion_not_filed" and "决定不予立案" in text and "属于个人诉求，不符合提案立案条件。" in text


# -- numbers -----------------------------------------------------------------------------------

def test_numbers_per_kind_unit_and_year(demo, clock):
    a, b = aid_to(demo, "posting"), aid_to(demo, "posting")
    assert [n.number for n in notices(a) + notices(b)] == ["工帮〔2026〕1号", "工帮〔2026〕2号"]
    clock.move_to("2027-01-05 09:00 +08:00")
    c = aid_to(demo, "posting")
    assert notices(c)[0].number == "工帮〔2027〕1号"  # a new year starts again at 1


def test_a_unit_may_set_its_own_code(demo):
    from casework.accounts.models import Unit
    from casework.core import settings
    settings.put(_db.session.scalar(select(Unit).where(Unit.code == "HQ")), "notice_org_code", "示工")
    _db.session.commit()
    assert notices(aid_to(demo, "posting"))[0].number == "示工帮〔2026〕1号"


def test_numbers_are_unique_and_gap_free_under_concurrency(app, demo, monkeypatch):
    """Threads issue at once, some of them roll back: the numbers kept are 1..n, each once."""
    from casework.accounts.models import Unit

    def slow_render(template, values):
        time.sleep(0.01)  # widen the window between taking a number and committing
        return f"%PDF-fake {values['number']}".encode()

    monkeypatch.setattr(renderer, "render", slow_render)
    monkeypatch.setattr(signing, "sign", lambda pdf, **_kw: pdf)  # a fake PDF cannot be signed
    unit_id = _db.session.scalar(select(Unit.id).where(Unit.code == "HQ"))
    _db.session.remove()
    barrier, errors, kept = threading.Barrier(6), [], []

    def worker(k):
        with app.app_context():
            try:
                barrier.wait(timeout=30)
                for i in range(4):
                    unit = _db.session.get(Unit, unit_id)
                    n = operations.issue("aid_receipt", unit=unit, values={"t": k})
                    if (k + i) % 3 == 0:
                        _db.session.rollback()  # a failed step: its number must come back
                    else:
                        number = n.number
                        _db.session.commit()
                        kept.append(number)
            except Exception as exc:  # noqa: BLE001
                errors.append(repr(exc))
            finally:
                _db.session.remove()

    threads = [threading.Thread(target=worker, args=(k,)) for k in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    assert not errors, errors
    seqs = sorted(_db.session.scalars(select(Notice.seq).where(Notice.kind == "aid_receipt")))
    assert seqs == list(range(1, len(kept) + 1)) and len(kept) == 16
    assert len(set(kept)) == len(kept)


# -- checking, downloading, access ---------------------------------------------------------------

def test_verify_page_genuine_superseded_and_forged(demo, client):
    case = aid_to(demo, "posting")
    [n] = notices(case)
    for code in (n.verify_code, n.display_code.lower(), f" {n.display_code} "):
        page = client.get(f"/verify/{code}")
        body = page.get_data(as_text=True)
        assert page.status_code == 200
        for expected in (n.number, n.sha256, "示范公司工会委员会", "救助审批通知书", "2026-11-25"):
            assert expected in body, expected
        assert "张建国" not in body and "2000" not in body and case.number not in body  # no personal details
    assert client.get(f"/verify?code={n.verify_code}").status_code == 200
    forged = client.get("/verify/ABCD-EFGH-JKLM")
    assert forged.status_code == 404 and ("No notice has this check code" in forged.get_data(as_text=True)
                                            or "校验码" in forged.get_data(as_text=True))
    assert client.get("/verify/" + "x" * 500).status_code == 404
    assert client.get("/verify").status_code == 200
    # Superseded: shown as such, naming the notice that replaced it.
    post_on_board(demo)
    fire(case, "object", None)
    vote(case, "uphold_objection", demo, answer="异议属实。")
    newer = notices(case)[-1]
    body = client.get(f"/verify/{n.verify_code}").get_data(as_text=True)
    assert ("superseded" in body.lower() or "取代" in body or "替代" in body or "作废" in body) and newer.number in body


def test_download_same_bytes_and_access(demo, client):
    case = aid_to(demo, "posting")
    [n] = notices(case)
    url = f"/notices/{n.id}.pdf"
    assert client.get(url).status_code == 302  # sign in first
    owner = Browser(client)
    owner.login("worker1")
    first, second = owner.get(url), owner.get(url)
    assert first.status_code == 200 and first.mimetype == "application/pdf"
    assert first.data == second.data and hashlib.sha256(first.data).hexdigest() == n.sha256
    assert first.headers["ETag"] == f'"{n.sha256}"'
    assert "filename*=UTF-8''" in first.headers["Content-Disposition"]
    assert owner.get(url, headers={"If-None-Match": f'"{n.sha256}"'}).status_code == 304
    other = Browser(demo_client := client.application.test_client())
    other.login("worker2")
    assert other.get(url).status_code == 404  # not theirs: as if it did not exist
    assert other.get("/notices/999999.pdf").status_code == 404
    staff = Browser(demo_client.application.test_client())
    staff.login("staff1")
    assert staff.get(url).data == first.data
    # The fund manager sees the request only as its payee: the receipt, not the decision letters.
    fund = Browser(demo_client.application.test_client())
    fund.login("fund1")
    assert fund.get(url).status_code == 404


def test_issued_notices_never_change(demo):
    [n] = notices(aid_to(demo, "posting"))
    n.pdf = b"%PDF-forged"
    with pytest.raises(RuntimeError, match="immutable"):
        _db.session.flush()
    _db.session.rollback()
    with pytest.raises(RuntimeError, match="never deleted"):
        _db.session.delete(_db.session.get(Notice, n.id))
        _db.session.flush()
    _db.session.rollback()


def test_api_lists_a_cases_notices(demo, api):
    case = aid_to(demo, "posting")
    [n] = notices(case)
    worker = api.as_("worker1")
    r = worker.get(f"/api/v1/cases/aid/{case.id}/notices")
    assert r.status_code == 200
    [item] = r.get_json()["items"]
    assert {k: item[k] for k in ("kind", "number", "sha256", "verify_code")} == \
        {"kind": "aid_approval", "number": "工帮〔2026〕1号", "sha256": n.sha256, "verify_code": n.verify_code}
    assert item["issued_at"].startswith("2026-11-2") and item["superseded"] is False
    pdf = worker.get(item["url"])
    assert pdf.status_code == 200 and hashlib.sha256(pdf.data).hexdigest() == n.sha256
    assert api.get(item["url"]).status_code == 401
    other = api.as_("worker2")
    assert other.get(f"/api/v1/cases/aid/{case.id}/notices").status_code == 404
    assert other.get(item["url"]).status_code == 404
    paths = worker.get("/api/v1/openapi.json").get_json()["paths"]
    assert "/api/v1/cases/{kind}/{case_id}/notices" in paths


def test_case_panel_lists_notices_with_links(app, demo):
    from flask import render_template_string
    case = aid_to(demo, "posting")
    [n] = notices(case)
    from flask_login import login_user
    panel = '{% include "notices/_case_panel.html" %}'
    with app.test_request_context("/"):
        login_user(demo["worker1"])
        html = render_template_string(panel, case=case)
    assert f"/notices/{n.id}.pdf" in html and n.number in html and n.display_code in html
    with app.test_request_context("/"):
        login_user(demo["fund1"])  # sees the request only as its payee: no decision letters
        assert n.number not in render_template_string(panel, case=case)


# -- public notices ------------------------------------------------------------------------------

def test_board_posting_is_public_and_masks_people(demo, client):
    from casework.disclosure import operations as disclosure
    from casework.disclosure.models import Disclosure
    case = aid_to(demo, "posting")
    from casework.accounts.models import Unit
    d = disclosure.make_batch(_db.session.scalar(select(Unit).where(Unit.code == "HQ")), "aid")
    for i in (1, 2, 3):
        disclosure.sign_off(d, demo[f"committee{i}"])
    _db.session.commit()
    assert d.status == "posted"
    r = client.get(f"/notices/board/{d.id}.pdf")  # anyone, no account
    assert r.status_code == 200 and client.get(f"/notices/board/{d.id}.pdf").data == r.data
    text = text_of(r.data)
    for expected in ("困难职工帮扶救助公示", "张**", "一车间小组", "¥2,000.00", "人民币贰仟元整", "陈卫东", "5个工作日",
                     "工公〔2026〕1号"):
        assert expected in text, expected
    for secret in ("张建国", "E1001", case.number, *SECRETS):
        assert secret not in text
    notice = _db.session.scalar(select(Notice).where(Notice.kind == "board_posting"))
    assert client.get(f"/notices/{notice.id}.pdf").data == r.data
    # A correction is a new version whose notice supersedes the first.
    new = disclosure.correct(case, "经复核不符合条件")
    _db.session.commit()
    second = client.get(f"/notices/board/{new.id}.pdf")
    assert "（第2版·更正）".replace("·", "") in text_of(second.data).replace("·", "")
    _db.session.expire_all()
    assert _db.session.get(Notice, notice.id).superseded_by_id is not None
    unposted = _db.session.scalar(select(Disclosure.id).order_by(Disclosure.id.desc())) + 1
    assert client.get(f"/notices/board/{unposted}.pdf").status_code == 404


def test_quarterly_fund_report(demo, app):
    from casework.funds.models import Fund
    fund = _db.session.scalar(select(Fund).where(Fund.code == "AID"))
    r = app.test_cli_runner().invoke(args=["casework", "fund-report", "--fund", "AID", "--year", "2026",
                                           "--quarter", "4"])
    assert r.exit_code == 0, r.output
    report = _db.session.scalar(select(Notice).where(Notice.kind == "fund_report"))
    text = text_of(report.pdf)
    for expected in ("困难职工救助基金2026年第四季度收支情况报告", "工基〔2026〕1号", "工会经费", "财政补助", "一日捐",
                     "¥133,456.50", "人民币壹拾叁万叁仟肆佰伍拾陆元伍角", "2026年10月1日至2026年12月31日"):
        assert expected in text, expected
    assert operations.fund_report(fund, 2026, 4).id == report.id  # unchanged figures: the same report
    case = approved(demo)
    fire(case, "disburse", demo["fund1"], method="cash", reference="现金-1")
    newer = operations.fund_report(fund, 2026, 4)
    _db.session.commit()
    assert newer.id != report.id and _db.session.get(Notice, report.id).superseded_by_id == newer.id
    text = text_of(newer.pdf)
    assert "本期救助金发放（1笔）" in text and "¥131,456.50" in text and "张建国" not in text
    bad = app.test_cli_runner().invoke(args=["casework", "fund-report", "--fund", "NOPE", "--year", "2026",
                                             "--quarter", "4"])
    assert bad.exit_code != 0 and "no fund" in bad.output


def test_fund_report_page(demo, web):
    web.login("fund1")
    page = web.get("/notices/fund-report")
    assert page.status_code == 200
    r = web.post("/notices/fund-report", {"fund": "1", "year": "2026", "quarter": "4"})
    assert r.status_code == 302 and "/verify/" in r.headers["Location"]
    worker = Browser(web.client.application.test_client())
    worker.login("worker1")
    assert worker.get("/notices/fund-report").status_code == 403


# -- batches ---------------------------------------------------------------------------------------

def _wait(web, token, seconds=120):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        _db.session.rollback()  # the test's session outlives requests: hold no SQLite lock while polling
        status = web.get(f"/notices/batches/{token}.json").get_json()
        if status["status"] not in ("queued", "running"):
            return status
        time.sleep(0.2)
    raise AssertionError("batch did not finish")


@pytest.mark.parametrize("workers", [0, 2])
def test_batch_printing_with_progress(demo, web, app, monkeypatch, workers):
    monkeypatch.setitem(app.config, "CASEWORK_NOTICE_WORKERS", workers)
    monkeypatch.setattr(batch, "CHUNK", 1)  # one notice per task: exercises the pool and the merge
    cases = [aid_to(demo, "posting") for _ in range(3)]
    numbers = [notices(c)[0].number for c in cases]
    web.login("staff1")
    assert web.get("/notices/batches").status_code == 200
    r = web.post("/notices/batches", {"kind": "aid_approval", "cases": "\n".join(c.number for c in cases)})
    assert r.status_code == 302
    token = r.headers["Location"].rsplit("/", 1)[1]
    progress = web.get(f"/notices/batches/{token}")
    assert progress.status_code == 200
    status = _wait(web, token)
    assert status["status"] == "done" and status["done"] == status["total"] == 3, status
    pdf = web.get(status["url"])
    assert pdf.status_code == 200 and pages_of(pdf.data) == 3
    text = text_of(pdf.data)
    assert all(number in text for number in numbers)
    assert "Ready" in web.get(f"/notices/batches/{token}?lang=en").get_data(as_text=True)
    # Someone else's job is not there for them; workers may not print.
    other = Browser(app.test_client())
    other.login("committee1")
    assert other.get(f"/notices/batches/{token}.json").status_code == 404
    worker = Browser(app.test_client())
    worker.login("worker1")
    assert worker.get("/notices/batches").status_code == 403


@pytest.mark.parametrize("available, expected", [(1, 0), (2, 0), (3, 3), (4, 4), (64, batch.MAX_WORKERS)])
def test_batches_print_serially_below_three_cores_and_with_a_pool_from_three(app, monkeypatch, available,
                                                                             expected):
    monkeypatch.delenv("CASEWORK_NOTICE_WORKERS", raising=False)
    monkeypatch.delitem(app.config, "CASEWORK_NOTICE_WORKERS", raising=False)
    monkeypatch.setattr(batch, "cores", lambda: available)
    with app.app_context():
        assert batch.workers() == expected
        assert batch.workers(available) == expected
        monkeypatch.setitem(app.config, "CASEWORK_NOTICE_WORKERS", 2)  # the setting wins over the count
        assert batch.workers() == 2


def test_cores_are_the_ones_this_process_may_use():
    import os
    if hasattr(os, "sched_getaffinity"):
        assert batch.cores() == len(os.sched_getaffinity(0))
    assert 1 <= batch.cores() <= (os.cpu_count() or 1)


@pytest.mark.parametrize("available, pooled", [(2, False), (3, True)])
def test_a_batch_takes_the_path_the_core_count_chose(demo, web, app, monkeypatch, available, pooled):
    """Two cores: the coordinator renders every chunk itself and no pool is made; three: the chunks go to it."""
    from concurrent.futures import ThreadPoolExecutor
    monkeypatch.delitem(app.config, "CASEWORK_NOTICE_WORKERS", raising=False)
    monkeypatch.delenv("CASEWORK_NOTICE_WORKERS", raising=False)
    monkeypatch.setattr(batch, "cores", lambda: available)
    monkeypatch.setattr(batch, "CHUNK", 1)
    made = []

    def pool(n):  # threads stand in for the processes: what is tested is the choice, not the pool
        made.append(n)
        return ThreadPoolExecutor(n)
    monkeypatch.setattr(batch, "_processes", pool)
    cases = [aid_to(demo, "posting") for _ in range(2)]
    web.login("staff1")
    r = web.post("/notices/batches", {"kind": "aid_approval", "cases": "\n".join(c.number for c in cases)})
    status = _wait(web, r.headers["Location"].rsplit("/", 1)[1])
    assert status["status"] == "done" and status["done"] == 2, status
    assert made == ([3] if pooled else [])
    assert pages_of(web.get(status["url"]).data) == 2


def test_batch_failure_and_interruption_are_reported(demo, web, app, monkeypatch):
    monkeypatch.setitem(app.config, "CASEWORK_NOTICE_WORKERS", 0)

    def broken(pages):
        raise MemoryError("layout too large")

    monkeypatch.setattr(batch, "render_chunk", broken)
    case = aid_to(demo, "posting")
    web.login("staff1")
    r = web.post("/notices/batches", {"kind": "aid_approval", "cases": case.number})
    status = _wait(web, r.headers["Location"].rsplit("/", 1)[1])
    assert status["status"] == "failed" and "layout too large" in status["error"]
    none = web.post("/notices/batches", {"kind": "aid_receipt", "cases": case.number})
    assert none.status_code == 200 and ("No issued notices" in none.get_data(as_text=True) or "没有" in none.get_data(as_text=True))
    job = Job(kind="notice_batch", args={}, state="running", total=1, created_by_id=demo["staff1"].id)
    _db.session.add(job)
    _db.session.flush()
    _db.session.add(NoticeBatch(token="stale-token", title="t", requested_by_id=demo["staff1"].id,
                                notice_ids=[], job_id=job.id))
    _db.session.commit()
    job.heartbeat_at = job.created_at - timedelta(minutes=11)
    _db.session.commit()
    assert web.get("/notices/batches/stale-token.json").get_json()["status"] == "interrupted"


def test_notices_check_command(app):
    r = app.test_cli_runner().invoke(args=["casework", "notices-check"])
    assert r.exit_code == 0 and r.output.startswith("ok:"), r.output
