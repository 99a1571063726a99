"""The aid form asks one category at a time (issue 17): the category first (a GET step, no JavaScript needed),
then only its questions with its cap and documents; answers to another category's questions are refused by
name, never dropped; the "on behalf of" field only for group leaders."""
from __future__ import annotations

import pytest
from sqlalchemy import func, select

from casework.aid.kind import DETAILS
from casework.aid.models import AidRequest
from casework.core import settings
from casework.extensions import db as _db
from casework.money import format_money
from casework.privacy import consent

QUESTION = 'name="{}"'


def _answers(category: str) -> dict:
    return {"category": category, "amount_requested": "300.00", "circumstances": "说明",
            "consent_agree": "y", "consent_version": consent.CURRENT}


def test_step_one_shows_every_category_with_its_cap_and_documents_and_no_question(demo, web):
    web.login("worker1")
    page = web.get("/cases/aid/new").get_data(as_text=True)
    assert 'method="get"' in page and page.count('name="category"') == len(DETAILS)
    for category in DETAILS:
        cap = format_money(settings.get(demo["worker1"].unit, f"aid_cap_{category}"))
        assert f'value="{category}"' in page and f"最高 {cap} 元" in page
    assert "收入证明" in page and "医疗费用票据" in page
    assert 'name="amount_requested"' not in page and 'name="household_size"' not in page


@pytest.mark.parametrize("category", list(DETAILS))
def test_each_category_shows_only_its_own_questions_and_cap(demo, web, category):
    web.login("worker1")
    page = web.get(f"/cases/aid/new?category={category}").get_data(as_text=True)
    own = {n for n, _k in DETAILS[category]}
    for other in {n for fields in DETAILS.values() for n, _k in fields}:
        assert (QUESTION.format(other) in page) == (other in own), other
    cap = format_money(settings.get(demo["worker1"].unit, f"aid_cap_{category}"))
    assert f"最高 {cap} 元" in page and f'name="category" type="hidden" value="{category}"' in page


def test_an_answer_to_another_categorys_question_is_refused_by_name(demo, web):
    web.login("worker1")
    r = web.post("/cases/aid/new", {**_answers("holiday_visit"), "diagnosis": "肺癌"})
    assert r.status_code == 422
    assert "诊断" in r.get_data(as_text=True) and "肺癌" not in r.get_data(as_text=True)
    assert _db.session.scalar(select(func.count()).select_from(AidRequest)) == 0
    # Empty fields of other categories (an old form) are no answer: nothing to refuse.
    r = web.post("/cases/aid/new", {**_answers("holiday_visit"), "diagnosis": " "})
    assert r.status_code in (302, 303)


def test_posting_without_a_category_goes_back_to_step_one(demo, web):
    web.login("worker1")
    r = web.post("/cases/aid/new", {**_answers(""), "category": "nonsense"})
    assert r.status_code == 422 and 'method="get"' in r.get_data(as_text=True)


def test_only_group_leaders_see_the_on_behalf_field(demo, web):
    web.login("worker1")
    assert 'name="applicant"' not in web.get("/cases/aid/new?category=hardship").get_data(as_text=True)
    # and a worker cannot send it anyway: the form holds no such field, the request is their own
    r = web.post("/cases/aid/new", {**_answers("holiday_visit"), "applicant": "worker2"})
    assert r.status_code in (302, 303)
    case = _db.session.scalar(select(AidRequest))
    assert case.applicant.username == "worker1"
    web.post("/logout", {}, form_page="/account")
    web.login("leader1")
    assert 'name="applicant"' in web.get("/cases/aid/new?category=hardship").get_data(as_text=True)


def test_a_draft_keeps_its_category_and_can_change_it_at_step_one(demo, web):
    web.login("worker1")
    web.post("/cases/aid/new", {**_answers("hardship"), "household_size": "3"})
    case = _db.session.scalar(select(AidRequest))
    page = web.get(f"/cases/aid/{case.id}/edit").get_data(as_text=True)
    assert 'name="household_size"' in page and 'name="diagnosis"' not in page
    assert 'type="radio"' in web.get(f"/cases/aid/{case.id}/edit?step=category").get_data(as_text=True)
    page = web.get(f"/cases/aid/{case.id}/edit?category=illness").get_data(as_text=True)
    assert 'name="diagnosis"' in page and 'name="household_size"' not in page


def test_a_returned_request_is_changed_by_its_applicant_with_the_change_in_its_chain(demo, web, app):
    from casework.core.models import AuditEntry, verify_chain

    from .conftest import Browser
    from .factories import aid_to, fire
    case = aid_to(demo, "submitted")
    fire(case, "return_for_info", demo["staff1"], reason="请补充家庭收入情况")
    web.login("worker1")
    page = web.get(f"/cases/aid/{case.id}").get_data(as_text=True)
    assert "请补充家庭收入情况" in page and f'href="/cases/aid/{case.id}/edit">修改申请内容</a>' in page
    form = web.get(f"/cases/aid/{case.id}/edit").get_data(as_text=True)
    assert "保存修改" in form and 'name="household_size"' in form
    r = web.post(f"/cases/aid/{case.id}/edit", {**_answers("hardship"), "amount_requested": "2500.00",
                                                  "household_size": "4", "monthly_income": "1800.00",
                                                  "cause": "爱人患病，子女上学"})
    assert r.status_code in (302, 303)
    _db.session.refresh(case)
    assert case.state == "returned" and case.amount_requested == 250000
    entry = _db.session.scalars(select(AuditEntry).where(AuditEntry.case_id == case.id)
                                .order_by(AuditEntry.seq.desc())).first()
    assert entry.trigger == "amend" and entry.to_state == "returned"
    assert "amount_requested" in entry.changes["amended"] and "1800" not in str(entry.changes)
    assert verify_chain(case) == (True, None)
    page = web.get(f"/cases/aid/{case.id}").get_data(as_text=True)
    assert "修改申请内容" in page and "修改了：" in page and "申请金额" in page.split("修改了：")[1][:60]
    staff = Browser(app.test_client())
    staff.login("staff1")
    assert staff.get(f"/cases/aid/{case.id}/edit").status_code == 403
    fire(case, "resubmit", demo["worker1"])
    assert case.state == "submitted"
    assert web.get(f"/cases/aid/{case.id}/edit").status_code == 403


def test_a_refused_save_puts_the_focus_on_the_first_marked_field(demo, web):
    web.login("worker1")
    page = web.get("/cases/aid/new?category=illness").get_data(as_text=True)
    assert "autofocus" not in page  # a fresh form opens at its top
    r = web.post("/cases/aid/new", {**_answers("illness"), "amount_requested": "", "circumstances": ""})
    assert r.status_code == 422
    page = r.get_data(as_text=True)
    assert page.count("autofocus") == 1  # below the consent notice, the phone opens at the first mistake
    start = page.rindex("<input", 0, page.index("autofocus"))
    assert 'name="amount_requested"' in page[start:page.index(">", start)]
