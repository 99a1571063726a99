"""The public board: batches, sign-off, masking, periods in working days, objections, reports, corrections."""
from __future__ import annotations

from datetime import date, datetime, timedelta, timezone

import pytest
from sqlalchemy import select

from casework.clock import today
from casework.core.errors import Invalid, NotFound
from casework.disclosure import operations
from casework.disclosure.masking import mask_name
from casework.disclosure.models import Disclosure, Objection
from casework.extensions import db as _db
from casework.funds.models import Fund

from .conftest import CSRF_RE, Browser, _fresh_request_globals
from .factories import aid_to, fire, page_check, solved_check


@pytest.mark.parametrize("name,masked", [
    ("张三", "张*"), ("李秀英", "李**"), ("欧阳明", "欧阳*"), ("欧阳明明", "欧阳**"), ("司马相如", "司马**"),
    ("𠮷野家", "𠮷**"), ("𠮷", "𠮷"), ("王𠮷", "王*"), ("John Smith", "J*** *****"), ("", "*"),
    ("阿卜杜拉·买买提", "阿*******"),
])
def test_masking(name, masked):
    assert mask_name(name) == masked


def test_masking_never_cuts_a_character_in_half():
    for name in ("𠮷野家", "葛\U000E0100优", "é\u0301lise"):
        out = mask_name(name)
        out.encode("utf-8")  # a lone surrogate or a split pair would fail here
        assert out[0] == name[0]


def _posted(demo, n=1, sign=3):
    cases = [aid_to(demo, "posting") for _ in range(n)]
    hq = _db.session.scalar(select(Fund).where(Fund.code == "AID")).unit
    d = operations.make_batch(hq, "aid")
    _db.session.commit()
    for i in range(1, sign + 1):
        operations.sign_off(d, demo[f"committee{i}"], "同意公示")
        _db.session.commit()
    return d, cases


def test_batch_signoff_by_quorum_then_posted_with_frozen_items(demo):
    d, cases = _posted(demo, n=2, sign=2)
    assert d.status == "awaiting_signoff" and d.items == []
    operations.sign_off(d, demo["committee3"])
    _db.session.commit()
    assert d.status == "posted" and len(d.items) == 2
    assert d.signers == ["陈卫东", "赵丽华", "孙海涛"]
    assert [i.masked_name for i in d.items] == ["张**", "张**"] and d.items[0].amount == 200000
    assert all(c.deadline == d.ends_on for c in cases)
    with pytest.raises(Exception):
        operations.sign_off(d, demo["committee4"])
    _db.session.rollback()


def test_weekly_batch_once_per_week(demo, clock):
    aid_to(demo, "posting")
    monday_early = datetime(2026, 11, 30, 0, 30, tzinfo=timezone.utc)  # 08:30 in Beijing
    assert operations.weekly_batches(monday_early) == []
    monday = datetime(2026, 11, 30, 1, 0, tzinfo=timezone.utc)  # 09:00 in Beijing
    made = operations.weekly_batches(monday)
    _db.session.commit()
    assert len(made) == 1
    aid_to(demo, "posting")
    assert operations.weekly_batches(monday + timedelta(hours=3)) == []  # the week's batch exists


def test_posting_period_spans_national_day(demo, clock):
    # Posted on Friday 26 Sep 2025: 5 working days are 28 (make-up Sunday), 29, 30 Sep, 9 and 10 Oct.
    clock.move_to(datetime(2025, 9, 26, 2, 0, tzinfo=timezone.utc))
    d, (case,) = _posted(demo)
    assert d.ends_on == date(2025, 10, 10)
    clock.move_to(datetime(2025, 10, 10, 8, 0, tzinfo=timezone.utc))
    assert operations.end_due() == []
    clock.move_to(datetime(2025, 10, 11, 2, 0, tzinfo=timezone.utc))
    assert operations.end_due() == [d]
    _db.session.commit()
    assert d.status == "ended" and case.state == "approved"


def test_objection_dismissed_then_period_goes_on(demo, api):
    d, (case,) = _posted(demo)
    r = api.post(f"/api/v1/board/{d.id}/objections", json={"item": d.items[0].id, "text": "此人家庭并不困难",
                                                          "anonymous": True, **solved_check(api)})
    assert r.status_code == 201
    code = r.get_json()["tracking_code"]
    _db.session.expire_all()
    assert case.state == "objection_review"
    row = _db.session.scalar(select(Objection).where(Objection.tracking_code == code))
    assert row.anonymous and row.user_id is None and row.contact == ""
    for i in (1, 2, 3):
        fire(case, "dismiss_objection", demo[f"committee{i}"], answer="经再次走访核实，情况属实")
    assert case.state == "posting"
    follow = api.get(f"/api/v1/objections/{code.lower()}").get_json()
    assert follow["status"] == "answered" and "情况属实" in follow["answer"]
    assert case.deadline == d.ends_on  # back on the posting's own period


def test_a_dismissed_objection_does_not_stop_the_posting_from_ending(demo, clock):
    """The objection's answer deadline is not the posting's: after a dismissal the case ends with its posting,
    and one case that cannot move never holds back the others."""
    d, (case, other) = _posted(demo, n=2)
    clock.move_to(datetime(2026, 11, 27, 2, 0, tzinfo=timezone.utc))  # two days into the period
    operations.object_to(d.items[0], "此人家庭并不困难", True, None)
    _db.session.commit()
    assert case.state == "objection_review" and case.deadline > d.ends_on
    for i in (1, 2, 3):
        fire(case, "dismiss_objection", demo[f"committee{i}"], answer="经再次走访核实，情况属实")
    assert case.state == "posting" and case.deadline == d.ends_on
    clock.move_to(datetime.combine(d.ends_on + timedelta(days=1), datetime.min.time()) + timedelta(hours=2))
    assert operations.end_due() == [d]
    _db.session.commit()
    assert d.status == "ended" and case.state == "approved" and other.state == "approved"


def test_ending_postings_goes_on_past_a_case_that_cannot_move(demo, clock, monkeypatch):
    from casework.core import engine
    (d1, (stuck,)), (d2, (fine,)) = _posted(demo), _posted(demo)
    real = engine.fire

    def refuse(case, trigger, *args, **kw):
        if case is stuck:  # the board posting itself ends through the engine too
            raise Invalid("refused for the test")
        return real(case, trigger, *args, **kw)
    monkeypatch.setattr(engine, "fire", refuse)
    clock.move_to(datetime.combine(d2.ends_on + timedelta(days=1), datetime.min.time()) + timedelta(hours=2))
    assert set(operations.end_due()) == {d1, d2}
    _db.session.commit()
    assert fine.state == "approved" and stuck.state == "posting"
    assert d1.status == d2.status == "ended"


def test_objection_upheld_releases_and_publishes_a_correction(demo, api, web):
    d, (case, other) = _posted(demo, n=2)
    code = api.post(f"/api/v1/board/{d.id}/objections",
                    json={"item": d.items[0].id, "text": "隐瞒收入", **solved_check(api)}).get_json()["tracking_code"]
    for i in (1, 2, 3):
        fire(case, "uphold_objection", demo[f"committee{i}"], answer="经核实隐瞒家庭收入，撤销救助")
    assert case.state == "rejected"
    fund = _db.session.scalar(select(Fund).where(Fund.code == "AID"))
    assert fund.reserved == 200000  # only the other case's reservation is left
    new = _db.session.scalar(select(Disclosure).where(Disclosure.supersedes_id == d.id))
    assert new.version == 2 and new.items[0].withdrawn and not new.items[1].withdrawn
    assert "撤销" in new.correction and d.status == "superseded"
    page = web.get(f"/board/{new.id}").get_data(as_text=True)
    assert "撤销" in page and f"/board/{d.id}" in page
    assert api.get(f"/api/v1/objections/{code}").get_json()["status"] == "answered"


def test_objections_after_the_period_and_bad_codes(demo, api, clock):
    d, _cases = _posted(demo)
    clock.move_to(datetime.combine(d.ends_on + timedelta(days=1), datetime.min.time(), tzinfo=timezone.utc)
                  + timedelta(hours=2))
    r = api.post(f"/api/v1/board/{d.id}/objections", json={"item": d.items[0].id, "text": "迟到的异议",
                                                          **solved_check(api)})
    assert r.status_code == 422 and r.get_json()["error"]["code"] == "period_over"
    assert api.get("/api/v1/objections/NOSUCHCODE").status_code == 404
    r = api.post(f"/api/v1/board/{d.id}/objections", json={"item": "x", "text": "t"})
    assert r.status_code == 400
    r = api.post(f"/api/v1/board/{d.id}/objections", json={"item": d.items[0].id, "text": "x" * 6000,
                                                          **solved_check(api)})
    assert r.status_code in (413, 422)


def test_board_pages_without_an_account_and_script_shown_escaped(demo, web):
    d, _cases = _posted(demo)
    page = web.get("/board").get_data(as_text=True)
    assert d.title in page
    show = web.get(f"/board/{d.id}")
    assert show.status_code == 200 and "张**" in show.get_data(as_text=True)
    question = show.get_data(as_text=True)
    _fresh_request_globals()
    r = web.client.post(f"/board/{d.id}/objections", data={
        "csrf_token": CSRF_RE.search(question).group(1), "item": d.items[0].id,
        "text": "<script>alert(1)</script>", "anonymous": "1", **page_check(question)})
    assert r.status_code in (200, 302)
    assert question  # the page asked its question
    track = web.get("/board/track?code=ZZZZZZZZZZ").get_data(as_text=True)
    assert "tracking code" in track or "查询码" in track


def test_reports_any_time_answered_with_reward(demo, api, web):
    hq = demo["admin"].unit
    row = operations.report(hq, "2026年第三季度基金收支未公开", True, None)
    _db.session.commit()
    assert row.kind == "report" and row.due_on > today()
    with pytest.raises(Exception):
        operations.answer_report(row, demo["worker1"], "x", True, 50000)
    _db.session.rollback()
    operations.answer_report(row, demo["staff1"], "已补充公开，举报属实", True, 50000)
    _db.session.commit()
    follow = api.get(f"/api/v1/objections/{row.tracking_code}").get_json()
    assert follow["status"] == "answered" and follow["answer"].startswith("已补充公开")


PRIVATE = {"id": "110105198001010011", "phone": "13912345678", "address": "幸福路88号3单元502室",
           "diagnosis": "急性髓系白血病", "income": "1234.56", "family": "长子患自闭症"}


def test_leak_nothing_private_on_public_pages_api_or_pdf(demo, api, web):
    from .factories import attach, new_case
    worker = demo["worker1"]
    case = new_case("aid", worker, category="illness",
                    circumstances=f"身份证{PRIVATE['id']}，电话{PRIVATE['phone']}，住{PRIVATE['address']}，{PRIVATE['family']}",
                    details={"diagnosis": PRIVATE["diagnosis"], "hospital": "市第一人民医院", "out_of_pocket": PRIVATE["income"]})
    attach(case, "medical_bills", worker)
    fire(case, "submit", worker)
    fire(case, "start_verification", demo["staff1"])
    fire(case, "record_visit", demo["staff1"], visited_on=today().isoformat(), visitors=["staff1", "leader1"],
         findings=f"家住{PRIVATE['address']}，{PRIVATE['diagnosis']}")
    fire(case, "verify", demo["staff1"], proposed_amount="3000.00", comment=PRIVATE["phone"])
    for i in (1, 2, 3):
        fire(case, "approve", demo[f"committee{i}"], amount="3000.00")
    hq = _db.session.scalar(select(Fund).where(Fund.code == "AID")).unit
    d = operations.make_batch(hq, "aid")
    for i in (1, 2, 3):
        operations.sign_off(d, demo[f"committee{i}"])
    _db.session.commit()
    anonymous = Browser(web.client.application.test_client())
    bodies = [anonymous.get("/board").get_data(as_text=True), anonymous.get(f"/board/{d.id}").get_data(as_text=True),
              api.get("/api/v1/board").get_data(as_text=True), api.get(f"/api/v1/board/{d.id}").get_data(as_text=True)]
    pdf = api.get(f"/api/v1/board/{d.id}").get_json().get("pdf_url")
    if pdf:
        import io
        import pdfplumber
        with pdfplumber.open(io.BytesIO(anonymous.get(pdf).data)) as doc:
            bodies.append("".join(p.extract_text() or "" for p in doc.pages))
    for body in bodies:
        for value in PRIVATE.values():
            assert value not in body
        assert "张建国" not in body
    assert "张**" in bodies[1]


def test_tracking_codes_are_found_however_they_are_grouped_or_typed(demo, web):
    row = operations.report(demo["admin"].unit, "2026年第三季度基金收支未公开", True, None)
    _db.session.commit()
    code = row.tracking_code
    full_width = "".join(chr(ord(c) + 0xFEE0) for c in code)
    for typed in (f" {code[:4]} {code[4:8]} {code[8:]} ", f"{code[:5]}-{code[5:]}".lower(),
                  f"{code[:3]}—{code[3:6]}－{code[6:]}", full_width):
        page = web.get("/board/track", query_string={"code": typed}).get_data(as_text=True)
        assert '<dl class="details">' in page and 'class="error"' not in page, typed
    page = web.get("/board/track", query_string={"code": "ZZZZ-ZZZZ-ZZ"}).get_data(as_text=True)
    assert 'class="error"' in page and '<dl class="details">' not in page


def test_the_committee_reads_the_objection_beside_its_vote_and_the_applicant_does_not(demo, api, web):
    d, (case,) = _posted(demo)
    r = api.post(f"/api/v1/board/{d.id}/objections", json={"item": d.items[0].id, "text": "此人家庭并不困难，另有商铺出租",
                                                          "anonymous": True, **solved_check(api)})
    assert r.status_code == 201
    web.login("committee1")
    page = web.get(f"/cases/aid/{case.id}").get_data(as_text=True)
    assert "公示期间收到的异议" in page and "另有商铺出租" in page and "待工会委员会审批" in page
    assert page.index("另有商铺出租") < page.index('action-dismiss_objection')  # read before voting
    fire(case, "dismiss_objection", demo["committee1"], answer="经再次走访核实，情况属实")
    for i in (2, 3):
        fire(case, "dismiss_objection", demo[f"committee{i}"], answer="经再次走访核实，情况属实")
    page = web.get(f"/cases/aid/{case.id}").get_data(as_text=True)
    assert "已答复" in page and "情况属实" in page
    web.post("/logout", {}, form_page="/")
    web.login("worker1")
    assert "另有商铺出租" not in web.get(f"/cases/aid/{case.id}").get_data(as_text=True)
