"""Uploaded PDFs with JavaScript, actions that run by themselves or launch programs, or embedded files are
refused with a clear message, on the API and the web page; plain ones are kept. The PDFs are built here."""
from __future__ import annotations

import html
import io

import pytest
from pypdf import PdfWriter
from pypdf.generic import (ArrayObject, DictionaryObject, NameObject, NumberObject, RectangleObject,
                           TextStringObject)
from sqlalchemy import func, select

from casework.attachments import pdfcheck
from casework.core.models import Attachment
from casework.extensions import db as _db

from .factories import new_case

EN = {"Accept-Language": "en"}


def _pdf(build=None) -> bytes:
    writer = PdfWriter()
    writer.add_blank_page(width=200, height=200)
    if build is not None:
        build(writer)
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def _action(kind: str, **extra) -> DictionaryObject:
    d = DictionaryObject({NameObject("/Type"): NameObject("/Action"), NameObject("/S"): NameObject(kind)})
    for k, v in extra.items():
        d[NameObject("/" + k)] = v
    return d


def _open_action(action):
    def build(w):
        w._root_object[NameObject("/OpenAction")] = w._add_object(action)
    return build


def _document_js(w):
    """A document-level script (the /Names /JavaScript tree): runs when the file opens."""
    js = w._add_object(_action("/JavaScript", JS=TextStringObject("app.alert('x');")))
    w._root_object[NameObject("/Names")] = DictionaryObject({NameObject("/JavaScript"): DictionaryObject(
        {NameObject("/Names"): ArrayObject([TextStringObject("init"), js])})})


def _page_aa(w):
    w.pages[0][NameObject("/AA")] = DictionaryObject(
        {NameObject("/O"): _action("/JavaScript", JS=TextStringObject("app.alert(1)"))})


def _link_annotation(w):
    annot = DictionaryObject({NameObject("/Type"): NameObject("/Annot"), NameObject("/Subtype"): NameObject("/Link"),
                              NameObject("/Rect"): RectangleObject([0, 0, 100, 100]),
                              NameObject("/A"): _action("/Launch", F=TextStringObject("cmd.exe"))})
    w.pages[0][NameObject("/Annots")] = ArrayObject([w._add_object(annot)])


def _goto_first_page(w):
    w._root_object[NameObject("/OpenAction")] = ArrayObject([w.pages[0].indirect_reference, NameObject("/Fit")])


def _goto_action(w):
    w._root_object[NameObject("/OpenAction")] = w._add_object(
        _action("/GoTo", D=ArrayObject([w.pages[0].indirect_reference, NameObject("/Fit")])))


def _acroform_xfa(w):
    w._root_object[NameObject("/AcroForm")] = DictionaryObject(
        {NameObject("/Fields"): ArrayObject(), NameObject("/XFA"): TextStringObject("<xdp/>")})


HOSTILE = {
    "document JavaScript": (_document_js, pdfcheck.JAVASCRIPT),
    "OpenAction JavaScript": (_open_action(_action("/JavaScript", JS=TextStringObject("app.alert(1)"))),
                              pdfcheck.JAVASCRIPT),
    "OpenAction Launch": (_open_action(_action("/Launch", F=TextStringObject("calc.exe"))), pdfcheck.LAUNCH),
    "OpenAction URI": (_open_action(_action("/URI", URI=TextStringObject("http://evil.example/"))),
                       pdfcheck.AUTO_ACTION),
    "OpenAction SubmitForm": (_open_action(_action("/SubmitForm", F=TextStringObject("http://evil.example/"))),
                              pdfcheck.AUTO_ACTION),
    "page AA JavaScript": (_page_aa, pdfcheck.JAVASCRIPT),
    "link annotation Launch": (_link_annotation, pdfcheck.LAUNCH),
    "embedded file": (lambda w: w.add_attachment("payload.exe", b"MZ\x90\x00"), pdfcheck.EMBEDDED),
    "XFA form": (_acroform_xfa, pdfcheck.JAVASCRIPT),
}


@pytest.mark.parametrize("label", sorted(HOSTILE))
def test_the_checker_finds_each_kind(label):
    build, kind = HOSTILE[label]
    assert kind in pdfcheck.dangers(_pdf(build))


@pytest.mark.parametrize("build", [None, _goto_first_page, _goto_action])
def test_plain_pdfs_and_opening_at_a_page_pass(build):
    assert pdfcheck.dangers(_pdf(build)) == set()


def test_compressed_object_streams_and_hex_escaped_names_are_seen():
    data = _pdf(_document_js)
    writer = PdfWriter(clone_from=io.BytesIO(data))
    writer.compress_identical_objects()
    out = io.BytesIO()
    writer.write(out)
    assert pdfcheck.JAVASCRIPT in pdfcheck.dangers(out.getvalue())
    # A file too broken for the parser is read for its names, #-escapes decoded.
    broken = b"%PDF-1.4\n1 0 obj <</Type/Catalog/OpenAction <</S/J#61va#53cript/JS(app.alert(1))>> >> endobj\n"
    assert pdfcheck.dangers(broken) >= {pdfcheck.JAVASCRIPT, pdfcheck.AUTO_ACTION}
    assert pdfcheck.dangers(b"%PDF-1.4\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n") == set()


def _count() -> int:
    return _db.session.scalar(select(func.count()).select_from(Attachment))


def _upload(who, case, data, headers=None):
    return who.post(f"/api/v1/cases/{case.kind}/{case.id}/attachments", headers=headers or {},
                    data={"doc_type": "income_proof", "file": (io.BytesIO(data), "证明.pdf", "application/pdf")},
                    content_type="multipart/form-data")


@pytest.mark.parametrize("label", sorted(HOSTILE))
def test_api_refuses_active_pdfs_with_a_clear_message(app, api, demo, label):
    case = new_case("aid", demo["worker1"])
    worker = api.as_("worker1")
    before = _count()
    r = _upload(worker, case, _pdf(HOSTILE[label][0]), headers=EN)
    assert r.status_code == 422, r.get_json()
    err = r.get_json()["error"]
    assert err["code"] == "pdf_active_content"
    assert "This PDF contains" in err["fields"]["file"] and "Print it to a new PDF" in err["fields"]["file"]
    assert _count() == before
    r = _upload(worker, case, _pdf(HOSTILE[label][0]))  # the default language: Chinese
    assert "此 PDF 含有" in r.get_json()["error"]["fields"]["file"]


def test_api_keeps_a_plain_pdf(api, demo):
    case = new_case("aid", demo["worker1"])
    r = _upload(api.as_("worker1"), case, _pdf(_goto_first_page))
    assert r.status_code == 201, r.get_json()


def test_web_page_refuses_a_pdf_with_javascript(web, demo):
    case = new_case("aid", demo["worker1"])
    web.login("worker1")
    r = web.post(f"/cases/aid/{case.id}/attachments",
                 {"doc_type": "income_proof",
                  "file": (io.BytesIO(_pdf(HOSTILE["OpenAction JavaScript"][0])), "证明.pdf")},
                 form_page=f"/cases/aid/{case.id}", content_type="multipart/form-data")
    text = html.unescape(r.get_data(as_text=True))
    if r.status_code in (302, 303):
        text = html.unescape(web.get(r.headers["Location"]).get_data(as_text=True))
    assert "此 PDF 含有" in text and "JavaScript 脚本" in text
    assert _count() == 0
