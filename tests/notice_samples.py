"""The demo's notices as plain values (what `operations.issue` stores), one per letter template: the
PDF size, text and pixel tests and benchmarks/pdf_size.py render these without building the workflows."""
from __future__ import annotations

COMMON = {"org": "示范公司工会委员会", "date": "2026年11月25日", "verify_code": "K7QM-3XWD-PA9R",
          "verify_url": "http://127.0.0.1:5000/verify/K7QM3XWDPA9R"}
AID = {"name": "张建国", "person_unit": "一车间小组", "case_number": "A2026-00012", "case_title": "",
       "submitted": "2026年11月20日", "category": "困难帮扶"}
MOTION = {"name": "林晓峰", "person_unit": "生产技术部", "case_number": "M2026-00003",
          "case_title": "关于改善职工食堂的提案", "submitted": "2026年11月18日",
          "session": "第五届职工代表大会第三次会议", "department": "生产技术部", "co_departments": ["后勤保障部"],
          "deadline": "2027年1月8日", "cosigners": ["罗春梅", "谢文斌"], "rating_days": 10, "final": False}
PROPOSAL = {"name": "张建国", "person_unit": "一车间小组", "case_number": "P2026-00007",
            "case_title": "改进冲压车间排班", "submitted": "2026年11月10日", "names": ["张建国", "欧阳明"],
            "grade": "优秀", "reward": 50000, "benefit": 1500000, "department": "生产技术部"}

SAMPLES: dict[str, dict] = {
    "aid_approval.html": {**AID, "title": "救助审批通知书", "number": "工帮〔2026〕1号", "amount": 200000,
                          "fund": "困难职工救助基金", "posting_days": 5},
    "aid_rejection.html": {**AID, "title": "不予救助通知书", "number": "工帮复〔2026〕1号",
                           "reason": "家庭人均收入高于困难职工认定标准，经工会委员会集体复核，不符合救助条件。",
                           "after_objection": False},
    "aid_receipt.html": {**AID, "title": "救助金发放签收单", "number": "工帮发〔2026〕1号", "amount": 200000,
                         "fund": "困难职工救助基金", "employee_no": "E1001", "method": "银行转账",
                         "reference": "BK-20261125-001", "paid_on": "2026年11月25日", "handler": "郑晓燕"},
    "proposal_reply.html": {**PROPOSAL, "title": "合理化建议答复函", "number": "工建函〔2026〕1号",
                            "outcome": "rewarded", "reply": "经评审小组评审，该建议已在冲压车间试行并推广。"},
    "proposal_certificate.html": {**PROPOSAL, "title": "荣誉证书", "number": "工建奖〔2026〕1号"},
    "motion_filing.html": {**MOTION, "title": "提案立案通知书", "number": "工提立〔2026〕1号"},
    "motion_not_filed.html": {**MOTION, "title": "提案不予立案通知书", "number": "工提否〔2026〕1号",
                              "reason": "属于个人诉求，不符合提案立案条件。"},
    "motion_reply.html": {**MOTION, "title": "提案答复函", "number": "工提答〔2026〕1号",
                          "reply": "已增设两个就餐窗口，并延长供餐时间半小时。"},
    "supervision_slip.html": {"title": "督办单", "number": "工督〔2026〕1号", "department": "后勤保障部",
                              "leaders": ["周国强"], "case_number": "M2026-00003",
                              "case_title": "关于改善职工食堂的提案", "case_kind": "职代会提案", "colour": "黄色",
                              "colour_key": "yellow", "reason": "已超过办理时限",
                              "remark": "请加快落实增设就餐窗口事项。", "deadline": "2026年11月20日",
                              "reply_by": "2026年12月2日"},
    "board_posting.html": {"title": "困难职工帮扶救助公示", "number": "工公〔2026〕1号", "version": 1,
                           "correction": "", "starts": "2026年11月25日", "ends": "2026年12月2日",
                           "period_days": 5, "has_amounts": True, "total": 350000,
                           "signers": ["陈卫东", "李秀英", "王志刚"],
                           "items": [{"seq": 1, "name": "张**", "unit": "一车间小组", "category": "困难帮扶",
                                      "amount": 200000, "withdrawn": False},
                                     {"seq": 2, "name": "欧阳**", "unit": "二车间", "category": "医疗救助",
                                      "amount": 150000, "withdrawn": False},
                                     {"seq": 3, "name": "刘*", "unit": "后勤保障部", "category": "助学救助",
                                      "amount": 80000, "withdrawn": True}]},
    "fund_report.html": {"title": "困难职工救助基金2026年第四季度收支情况报告", "number": "工基〔2026〕1号",
                         "fund": "困难职工救助基金", "period": "2026年10月1日至2026年12月31日",
                         "opening": 13345650, "income": [{"source": "工会经费", "amount": 5000000},
                                                         {"source": "财政补助", "amount": 3000000},
                                                         {"source": "一日捐", "amount": 1234500}],
                         "income_total": 9234500, "aid_count": 3, "aid_total": 550000, "paid_count": 0,
                         "paid_total": 0, "reversal_total": 0, "closing": 22030150, "reserved": 200000,
                         "free": 21830150},
}


def values(template: str) -> dict:
    """The sample's values with the QR code, as `operations.issue` passes them to the renderer."""
    from casework.notices import renderer
    v = {**COMMON, **SAMPLES[template]}
    return {**v, "qr": renderer.qr_svg(v["verify_url"])}
