"""Separate consent to the processing of an aid request's sensitive information (PIPL arts. 14, 17, 29).

Each version of the text is kept for good: a case stores the version it was agreed to and the SHA-256 of
the exact text shown, so what the case page shows later is what the person read. A new wording is a new
version; agreements already given stay with theirs."""
from __future__ import annotations

import hashlib

from ..core import settings

CURRENT = "2026-12"
GIVEN_BY = ("self", "on_behalf")
# How a group leader obtained the worker's consent when applying on their behalf.
HOW = ("written", "in_person", "phone")

TEXTS = {
    "2026-12": (
        "个人信息处理告知和单独同意（第2026-12版）\n"
        "一、处理目的：核实您（及家庭）的困难情况，确定困难帮扶、大病救助、金秋助学或节日慰问的方式和金额，并按规定公示和发放。\n"
        "二、处理的敏感个人信息：本人及家庭的收入、患病和医疗、子女就学等情况，走访核实记录，以及上传的证明材料。\n"
        "三、谁能看到：本人（或代为申请的小组长）、所在单位的工会工作人员、被指派的走访人员和工会委员会成员；"
        "救助基金管理员只能看到金额和收款信息。公开栏公示只显示姓氏加星号、单位、类别和金额，不显示任何家庭、收入或病情信息。"
        "每一次查看都有记录，本人可在申请页面查看。\n"
        "四、保存期限：事项办结后保存{years}年，期满后删除附件和敏感内容并作匿名化处理，统计数据和资金账目保留。\n"
        "五、您的权利：可以随时查看和下载本人信息、申请更正；可以撤回同意，撤回后申请停止办理，已提交的敏感信息将被删除。"
        "不同意则无法办理本项申请。"
    ),
}


def text_for(version: str, unit, category: str | None = None) -> str:
    """The text of `version` as shown at this unit, with the category's retention period (before a category
    is chosen: the longest of the unit's periods)."""
    from .retention import CATEGORIES
    def years(c):
        key = f"aid_retention_years_{c}"
        return int(settings.get(unit, key)) if unit is not None else int(settings.DEFAULTS[key])
    return TEXTS[version].format(years=years(category) if category else max(years(c) for c in CATEGORIES))


def digest(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()
