"""我的数据: a person's copy holds everything about them and nothing about anyone else; correction requests
online and on paper, answered by union staff, with the person notified."""
from __future__ import annotations

import io
import json

import pdfplumber
from sqlalchemy import select

from casework.extensions import db as _db
from casework.privacy.models import CorrectionRequest

from .factories import aid_to, fire, new_case


def _text(pdf: bytes) -> str:
    with pdfplumber.open(io.BytesIO(pdf)) as doc:
        return "".join(p.extract_text() or "" for p in doc.pages).replace(" ", "").replace("\n", "")


def test_my_data_holds_my_things_and_nothing_of_others(demo, web, api):
    mine = aid_to(demo, "pending_approval", circumstances="爱人重病，家庭收入微薄")
    other = new_case("aid", demo["worker2"], circumstances="李家的情况不该出现")
    proposal = new_case("proposal", demo["worker2"], title="李秀英的建议")
    fire(proposal, "submit", demo["worker2"])
    web.login("worker1")
    data = json.loads(web.get("/account/data.json").get_data(as_text=True))
    assert data["account"]["name"] == "张建国" and data["account"]["employee_no"] == "E1001"
    [case] = data["cases"]
    assert case["number"] == mine.number and case["circumstances"] == "爱人重病，家庭收入微薄"
    assert [s["step"] for s in case["timeline"]][:2] == ["create", "submit"]
    blob = json.dumps(data, ensure_ascii=False)
    for foreign in ("李秀英", "worker2", other.number, "李家的情况不该出现", proposal.number, "刘芳", "staff1",
                    "住房简陋"):  # other people, their cases, and the reviewers' private findings
        assert foreign not in blob, foreign
    api_copy = api.as_("worker1").get("/api/v1/me/data").get_json()
    assert api_copy["cases"][0]["number"] == mine.number and api_copy["account"]["username"] == "worker1"
    pdf = web.get("/account/data.pdf")
    assert pdf.status_code == 200 and pdf.headers["Cache-Control"].startswith("private")
    text = _text(pdf.data)
    for expected in ("个人信息副本", "张建国", "E1001", mine.number, "爱人重病，家庭收入微薄", "帮扶申请", "待审批",
                     "困难情况"):
        assert expected in text, expected
    for code in ("pending_approval", "circumstances", "submit", "aid，", "hardship"):  # the printed copy names, not codes
        assert code not in text, code
    assert "李秀英" not in text
    page = web.get("/account/data").get_data(as_text=True)
    assert "/account/data.pdf" in page and "/account/data.json" in page


def test_a_committee_member_sees_their_votes_not_the_applicants_details(demo, api):
    case = aid_to(demo, "posting")
    data = api.as_("committee1").get("/api/v1/me/data").get_json()
    assert [v["case"] for v in data["votes"]] == [case.number]
    assert data["cases"] == [] and "张建国" not in json.dumps(data, ensure_ascii=False)


def test_corrections_online_and_on_paper(demo, web, api, client):
    web.login("worker1")
    assert web.post("/account/data", {"text": "  "}).status_code == 422  # said, nothing saved
    r = web.post("/account/data", {"text": "我的手机号已改为13900001111"})
    assert r.status_code == 303
    by_api = api.as_("worker2").post("/api/v1/me/corrections", json={"text": "工号有误"})
    assert by_api.status_code == 201 and by_api.get_json()["status"] == "open"
    assert api.as_("worker2").post("/api/v1/me/corrections", json={}).status_code == 422
    staff = type(web)(client.application.test_client())
    staff.login("staff1")
    page = staff.get("/privacy/corrections").get_data(as_text=True)
    assert "13900001111" in page and "工号有误" in page
    paper = staff.post("/privacy/corrections", {"person": "E1003", "text": "家庭住址变更（书面申请）"})
    assert paper.status_code == 303
    assert staff.post("/privacy/corrections", {"person": "nobody", "text": "x"}).status_code == 422
    row = _db.session.scalar(select(CorrectionRequest).where(CorrectionRequest.text.like("我的手机号%")))
    assert staff.post("/privacy/corrections", {"answer_id": str(row.id), "answer": "已更正。"}).status_code == 303
    _db.session.expire_all()
    row = _db.session.get(CorrectionRequest, row.id)
    assert row.status == "answered" and row.answered_by.username == "staff1" and row.answered_at is not None
    [paper_row] = _db.session.scalars(select(CorrectionRequest).where(CorrectionRequest.channel == "paper")).all()
    assert paper_row.user.username == "worker3" and paper_row.recorded_by.username == "staff1"
    inbox = api.as_("worker1").get("/api/v1/notifications").get_json()["items"]
    assert any("已更正" in n["body"] for n in inbox)
    again = staff.post("/privacy/corrections", {"answer_id": str(row.id), "answer": "再答"})
    assert again.status_code == 409 or again.status_code == 422
    # Staff hand over a copy for a paper request: the copy is a logged read.
    copy = staff.get(f"/privacy/people/{paper_row.user_id}/data.pdf")
    assert copy.status_code == 200 and "欧阳明" in _text(copy.data)
    from casework.privacy.models import AccessEntry
    assert _db.session.scalar(select(AccessEntry).where(AccessEntry.what == "personal data of worker3"))
    # Workers neither see others' requests nor answer them.
    assert web.get("/privacy/corrections").status_code == 403
    assert web.get(f"/privacy/people/{paper_row.user_id}/data.pdf").status_code == 403


def test_my_data_holds_my_mail_and_how_i_am_told_and_not_others_mail(demo, app, web, api, monkeypatch):
    from casework.clock import utcnow
    from casework.notifications.models import MailOutbox, mail_only, notify, set_mode
    monkeypatch.setitem(app.config, "CASEWORK_SMTP_HOST", "127.0.0.1")  # mail on: notices queue e-mail
    notify(demo["worker1"], "您的帮扶申请已受理", "正文")
    notify(demo["worker2"], "李秀英的申请已退回", "不该出现的正文")
    mail_only(demo["worker1"], "重置密码", "重置链接：https://casework.example/reset/SECRET-LINK-42")
    _db.session.commit()
    sent = _db.session.scalar(select(MailOutbox).where(MailOutbox.subject == "您的帮扶申请已受理"))
    sent.status, sent.sent_at = "sent", utcnow()
    set_mode(demo["worker1"], "digest")
    _db.session.commit()

    web.login("worker1")
    data = json.loads(web.get("/account/data.json").get_data(as_text=True))
    settings = data["notification_settings"]
    assert settings["mode"] == "digest" and settings["since"]
    assert settings["channels"] == ["inbox", "email"] and settings["email"] == demo["worker1"].email
    mail = {m["subject"]: m for m in data["mail"]}
    assert set(mail) == {"您的帮扶申请已受理", "重置密码"}
    assert mail["您的帮扶申请已受理"]["state"] == "sent" and mail["您的帮扶申请已受理"]["sent_at"]
    assert mail["您的帮扶申请已受理"]["kind"] == "notification" and mail["重置密码"]["kind"] == "account"
    assert mail["重置密码"]["state"] == "pending" and mail["重置密码"]["to"] == demo["worker1"].email
    blob = json.dumps(data, ensure_ascii=False)
    for foreign in ("李秀英的申请已退回", "不该出现的正文", demo["worker2"].email, "SECRET-LINK-42"):
        assert foreign not in blob, foreign
    assert api.as_("worker1").get("/api/v1/me/data").get_json()["mail"] == data["mail"]
    text = _text(web.get("/account/data.pdf").data)
    for expected in ("通知方式", "每日一封汇总", "电子邮件", "您的帮扶申请已受理", "已发送", "重置密码", "待发送"):
        assert expected in text, expected
    assert "李秀英的申请已退回" not in text

    # Mail off: the inbox is the only channel, and the copy says so.
    monkeypatch.setitem(app.config, "CASEWORK_SMTP_HOST", "")
    again = json.loads(web.get("/account/data.json").get_data(as_text=True))
    assert again["notification_settings"]["channels"] == ["inbox"]
