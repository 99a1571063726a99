"""Markup a user writes is printed as text in PDF notices, never interpreted."""
from __future__ import annotations

import io

import pdfplumber

from ..factories import fire, new_case

MARKUP = '<b>粗体</b><img src="file:///etc/passwd"><script>alert(1)</script>'


def test_markup_in_a_reply_is_printed_as_text(api, demo):
    case = new_case("proposal", demo["worker1"], title="关于<i>食堂</i>的建议")
    fire(case, "submit", demo["worker1"])
    fire(case, "decline", demo["staff1"], reply=MARKUP)
    notices = api.as_("worker1").get(f"/api/v1/cases/proposal/{case.id}/notices").get_json()
    items = notices["items"] if isinstance(notices, dict) else notices
    assert items, notices
    pdf = api.as_("worker1").get(items[0]["url"]).data
    with pdfplumber.open(io.BytesIO(pdf)) as doc:
        text = "".join((p.extract_text() or "") for p in doc.pages).replace("\n", "")
    assert "<b>粗体</b>" in text and "<script>" in text
    assert "root:" not in text  # nothing was fetched from the file system
