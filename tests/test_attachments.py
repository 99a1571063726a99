"""Attachments: content-checked types, size limits, names, storage, and who sees which file."""
from __future__ import annotations

import io
import os
import secrets
from pathlib import Path
from urllib.parse import quote

import pytest
from sqlalchemy import func, select

from casework.privacy.consent import CURRENT as CONSENT
from casework.attachments import operations as ops
from casework.clock import today
from casework.core import settings
from casework.core.models import Attachment
from casework.extensions import db as _db

from .factories import aid_to, fire, new_case

PDF = b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00\x00\x00\rIHDR" + b"\x00" * 17
JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00" + b"\x00" * 32
HTML = b"<!doctype html><html><script>alert(document.cookie)</script></html>"
EXE = b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff" + b"\x00" * 48
EN = {"Accept-Language": "en"}


def _files(app) -> set[str]:
    folder = Path(app.config["CASEWORK_UPLOAD_DIR"])
    return set(os.listdir(folder)) if folder.is_dir() else set()


def _count(case_id=None) -> int:
    stmt = select(func.count()).select_from(Attachment)
    if case_id is not None:
        stmt = stmt.where(Attachment.case_id == case_id)
    return _db.session.scalar(stmt)


def _multipart(fields: dict, name: str, data: bytes, content_type="application/pdf") -> tuple[bytes, str]:
    """A multipart body built in memory: the test client would spool a big one to a file it never closes."""
    boundary = "casework" + secrets.token_hex(8)
    head = "".join(f'--{boundary}\r\nContent-Disposition: form-data; name="{k}"\r\n\r\n{v}\r\n'
                   for k, v in fields.items())
    head += (f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="{name}"\r\n'
             f"Content-Type: {content_type}\r\n\r\n")
    body = head.encode() + data + f"\r\n--{boundary}--\r\n".encode()
    return body, f"multipart/form-data; boundary={boundary}"


def _big_upload(who, case, data, **fields):
    body, content_type = _multipart({"doc_type": "income_proof", **fields}, "大文件.pdf", data)
    return who.post(f"/api/v1/cases/{case.kind}/{case.id}/attachments", headers=EN, data=body,
                    content_type=content_type)


def _big_web_upload(web, case, data):
    token = web.csrf(f"/cases/aid/{case.id}?lang=en")
    body, content_type = _multipart({"doc_type": "income_proof", "csrf_token": token}, "大文件.pdf", data)
    return web.client.post(f"/cases/aid/{case.id}/attachments", data=body, content_type=content_type)


def _upload(who, case, data, name="申请书.pdf", doc_type="income_proof", content_type="application/pdf"):
    return who.post(f"/api/v1/cases/{case.kind}/{case.id}/attachments", headers=EN,
                    data={"doc_type": doc_type, "file": (io.BytesIO(data), name, content_type)},
                    content_type="multipart/form-data")


# -- types, names, sizes ---------------------------------------------------------------------

def test_upload_and_download_keeps_the_bytes_and_a_chinese_name(app, api, demo):
    case = new_case("aid", demo["worker1"])
    worker = api.as_("worker1")
    name = "困难职工申请书（2026）.pdf"
    r = _upload(worker, case, PDF, name=name)
    assert r.status_code == 201, r.get_json()
    body = r.get_json()
    assert body["name"] == name and body["content_type"] == "application/pdf" and body["size"] == len(PDF)
    assert body["doc_type"] == "income_proof" and body["private"] is False
    assert body["uploaded_by"] == "worker1"
    row = _db.session.get(Attachment, body["id"])
    stored = Path(app.config["CASEWORK_UPLOAD_DIR"]) / row.stored_name
    assert stored.read_bytes() == PDF and name not in row.stored_name and len(row.stored_name) == 32
    assert not str(stored.resolve()).startswith(str(Path(app.root_path).resolve()))  # outside the web root
    d = worker.get(body["url"])
    assert d.status_code == 200 and d.data == PDF
    assert d.headers["Content-Type"] == "application/pdf"
    assert d.headers["X-Content-Type-Options"] == "nosniff"
    disposition = d.headers["Content-Disposition"]
    assert disposition.startswith("attachment;") and f"filename*=UTF-8''{quote(name)}" in disposition
    assert "sandbox" in d.headers["Content-Security-Policy"]
    listed = worker.get(f"/api/v1/cases/aid/{case.id}/attachments").get_json()["items"]
    assert [a["name"] for a in listed] == [name]


@pytest.mark.parametrize("data,name", [(HTML, "收入证明.pdf"), (EXE, "photo.png"), (EXE, "scan.jpg"),
                                       (b"GIF89a" + b"\x00" * 20, "x.gif"), (b"%PD", "short.pdf")])
def test_forged_types_are_refused_by_content(app, api, demo, data, name):
    case = new_case("aid", demo["worker1"])
    before = _files(app)
    r = _upload(api.as_("worker1"), case, data, name=name, content_type="application/pdf")
    assert r.status_code == 422
    err = r.get_json()["error"]
    assert err["code"] == "file_type" and "PDF, JPEG and PNG" in err["message"] and "file" in err["fields"]
    assert _count(case.id) == 0 and _files(app) == before


def test_the_clients_content_type_and_the_name_prove_nothing(api, demo):
    case = new_case("aid", demo["worker1"])
    worker = api.as_("worker1")
    r = _upload(worker, case, PNG, name="page.html", content_type="text/html")
    assert r.status_code == 201
    body = r.get_json()
    # Stored as what the bytes are; the name can no longer open as HTML on the user's disk.
    assert body["content_type"] == "image/png" and body["name"] == "page.html.png"
    d = worker.get(body["url"])
    assert d.headers["Content-Type"] == "image/png"
    assert d.headers["Content-Disposition"].startswith("attachment")
    r = _upload(worker, case, JPEG, name="scan.JPEG", content_type="application/octet-stream")
    assert r.get_json()["content_type"] == "image/jpeg" and r.get_json()["name"] == "scan.JPEG"


@pytest.mark.parametrize("raw,expected", [
    ("../../etc/passwd", "passwd.pdf"),
    ("..\\..\\windows\\system32\\证明.pdf", "证明.pdf"),
    ("/abs/path/收入证明.PDF", "收入证明.PDF"),
    ("..", "file.pdf"),
    ("evil\u202egpj.pdf", "evilgpj.pdf"),
    ("a\x1b[31mb\tc.pdf", "a[31mbc.pdf"),
    ('we<i>rd:"na|me?*.pdf', "weirdname.pdf"),
    ("x" * 400 + ".pdf", "x" * 251 + ".pdf"),
])
def test_names_are_cleaned(raw, expected):
    assert ops.clean_name(raw, "application/pdf") == expected


def test_path_names_never_leave_the_upload_folder(app, api, demo):
    case = new_case("aid", demo["worker1"])
    before = _files(app)
    r = _upload(api.as_("worker1"), case, PDF, name="../../etc/passwd")
    assert r.status_code == 201 and r.get_json()["name"] == "passwd.pdf"
    new = _files(app) - before
    assert len(new) == 1 and all(c in "0123456789abcdef" for c in new.pop())


def test_empty_and_missing_files_are_refused(app, api, web, demo):
    case = new_case("aid", demo["worker1"])
    worker = api.as_("worker1")
    before = _files(app)
    r = _upload(worker, case, b"", name="空.pdf")
    assert r.status_code == 422 and r.get_json()["error"]["fields"]["file"] == "The file is empty."
    r = worker.post(f"/api/v1/cases/aid/{case.id}/attachments", headers=EN, data={"doc_type": "income_proof"},
                    content_type="multipart/form-data")
    assert r.status_code == 422 and "file" in r.get_json()["error"]["fields"]
    web.login("worker1")
    page = f"/cases/aid/{case.id}?lang=en"
    r = web.post(f"/cases/aid/{case.id}/attachments", {"doc_type": "income_proof",
                                                        "file": (io.BytesIO(b""), "empty.pdf")},
                 form_page=page, content_type="multipart/form-data", follow_redirects=True)
    assert r.status_code == 200 and "The file is empty." in r.get_data(as_text=True)
    assert _count(case.id) == 0 and _files(app) == before


def test_oversized_request_is_413_on_the_api_and_the_web(app, api, web, demo):
    case = new_case("aid", demo["worker1"])
    before = _files(app)
    big = PDF + b"0" * (app.config["MAX_CONTENT_LENGTH"] + 1024)
    r = _big_upload(api.as_("worker1"), case, big)
    assert r.status_code == 413
    err = r.get_json()["error"]
    assert err["code"] == "too_large" and "at most 10 MB" in err["message"]
    web.login("worker1")
    r = _big_web_upload(web, case, big)
    assert r.status_code == 413
    text = r.get_data(as_text=True)
    assert "<html" in text and "at most 10 MB" in text and f"/cases/aid/{case.id}" in text
    assert _count(case.id) == 0 and _files(app) == before


def test_per_file_limit_is_a_unit_setting(app, api, web, demo):
    case = new_case("aid", demo["worker1"])
    settings.put(case.unit, "attachment_max_mb", 1)
    _db.session.commit()
    before = _files(app)
    r = _big_upload(api.as_("worker1"), case, PDF + b"0" * ops.MB)
    assert r.status_code == 413 and "at most 1 MB" in r.get_json()["error"]["fields"]["file"]
    web.login("worker1")
    r = _big_web_upload(web, case, PDF + b"0" * ops.MB)
    assert r.status_code == 413 and "at most 1 MB" in r.get_data(as_text=True)
    assert _upload(api.as_("worker1"), case, PDF).status_code == 201
    assert _count(case.id) == 1 and len(_files(app) - before) == 1


def test_web_upload_needs_the_csrf_token(app, client, web, demo):
    case = new_case("aid", demo["worker1"])
    web.login("worker1")
    before = _files(app)
    r = client.post(f"/cases/aid/{case.id}/attachments", content_type="multipart/form-data",
                    data={"doc_type": "income_proof", "file": (io.BytesIO(PDF), "a.pdf")})
    assert r.status_code == 400 and "<html" in r.get_data(as_text=True)
    assert _count(case.id) == 0 and _files(app) == before


def test_web_upload_shows_on_the_case_page(web, demo):
    case = new_case("aid", demo["worker1"])
    web.login("worker1")
    page = web.get(f"/cases/aid/{case.id}?lang=en").get_data(as_text=True)
    assert 'enctype="multipart/form-data"' in page and 'value="income_proof"' in page
    assert 'value="visit_photo"' not in page and "Still needed before submitting" in page
    r = web.post(f"/cases/aid/{case.id}/attachments", {"doc_type": "income_proof",
                                                        "file": (io.BytesIO(PDF), "工资证明.pdf")},
                 form_page=f"/cases/aid/{case.id}", content_type="multipart/form-data")
    assert r.status_code == 303
    page = web.get(r.headers["Location"]).get_data(as_text=True)
    assert "工资证明.pdf" in page and "Still needed before submitting" not in page
    att = _db.session.scalar(select(Attachment).where(Attachment.case_id == case.id))
    d = web.get(f"/attachments/{att.id}")
    assert d.status_code == 200 and d.data == PDF and d.headers["X-Content-Type-Options"] == "nosniff"


def test_forged_type_on_the_web_is_a_clear_message(app, web, demo):
    case = new_case("aid", demo["worker1"])
    web.login("worker1")
    r = web.post(f"/cases/aid/{case.id}/attachments", {"doc_type": "income_proof",
                                                        "file": (io.BytesIO(HTML), "收入证明.pdf")},
                 form_page=f"/cases/aid/{case.id}?lang=en", content_type="multipart/form-data",
                 follow_redirects=True)
    assert r.status_code == 200 and "Only PDF, JPEG and PNG files are accepted" in r.get_data(as_text=True)
    assert _count(case.id) == 0


# -- nothing half-saved ----------------------------------------------------------------------

class _Upload:
    def __init__(self, data, filename):
        self.stream, self.filename = io.BytesIO(data), filename


def test_a_file_whose_row_is_not_committed_is_deleted(app, demo, monkeypatch):
    case = new_case("aid", demo["worker1"])
    folder = Path(app.config["CASEWORK_UPLOAD_DIR"])
    # The transaction rolls back after the row was flushed: the file goes with it.
    before = _files(app)
    att = ops.save(case, _Upload(PDF, "a.pdf"), "income_proof", demo["worker1"])
    assert (folder / att.stored_name).is_file()
    _db.session.rollback()
    assert _files(app) == before and _count() == 0
    # The row cannot be written at all: the file is removed at once.
    with monkeypatch.context() as m:
        def broken_flush(*a, **k):
            raise RuntimeError("database went away")
        m.setattr(_db.session, "flush", broken_flush)
        with pytest.raises(RuntimeError):
            ops.save(case, _Upload(PDF, "b.pdf"), "income_proof", demo["worker1"])
    assert _files(app) == before
    _db.session.rollback()
    # A committed one stays.
    att = ops.save(case, _Upload(PDF, "c.pdf"), "income_proof", demo["worker1"])
    _db.session.commit()
    assert (folder / att.stored_name).is_file() and _count() == 1


# -- who may add, who may see ----------------------------------------------------------------

def _filed_case(demo, api):
    """worker1's hardship request filed by leader1, with a document, being verified, with a visit photo."""
    case = new_case("aid", demo["leader1"], applicant="worker1")
    assert _upload(api.as_("leader1"), case, PDF, name="收入证明.pdf").status_code == 201
    fire(case, "submit", demo["leader1"])
    fire(case, "start_verification", demo["staff1"])
    fire(case, "record_visit", demo["staff1"], visited_on=today().isoformat(),
         visitors=["staff1", "committee2"], findings="住房简陋")
    r = _upload(api.as_("committee2"), case, JPEG, name="走访照片.jpg", doc_type="visit_photo",
                content_type="image/jpeg")
    assert r.status_code == 201 and r.get_json()["private"] is True
    doc, photo = _db.session.scalars(select(Attachment).where(Attachment.case_id == case.id)
                                     .order_by(Attachment.id)).all()
    return case, doc, photo


MATRIX = {  # who: (document, visit photo)
    "worker1": (True, False),     # applicant
    "leader1": (True, False),     # filer
    "worker2": (False, False),    # another worker
    "staff1": (True, True),
    "committee1": (True, True),
    "fund1": (False, False),      # amount and payee only
}


@pytest.mark.parametrize("username", sorted(MATRIX))
def test_visibility_matrix(app, api, demo, username):
    case, doc, photo = _filed_case(demo, api)
    who = api.as_(username)
    for att, expected in zip((doc, photo), MATRIX[username]):
        r = who.get(f"/api/v1/attachments/{att.id}")
        assert r.status_code == (200 if expected else 404), (username, att.doc_type)
        if not expected:
            # The same answer as for an attachment that does not exist.
            assert r.get_json() == who.get("/api/v1/attachments/999999").get_json()
    listing = who.get(f"/api/v1/cases/aid/{case.id}/attachments")
    if username == "worker2":
        assert listing.status_code == 404
    else:
        names = [a["name"] for a in listing.get_json()["items"]]
        assert names == [n for n, ok in zip(("收入证明.pdf", "走访照片.jpg"), MATRIX[username]) if ok]


@pytest.mark.parametrize("username", sorted(MATRIX))
def test_visibility_matrix_on_the_web(app, web, demo, api, username):
    case, doc, photo = _filed_case(demo, api)
    web.login(username)
    for att, expected in zip((doc, photo), MATRIX[username]):
        assert web.get(f"/attachments/{att.id}").status_code == (200 if expected else 404)
    page = web.get(f"/cases/aid/{case.id}")
    if username == "worker2":
        assert page.status_code == 404
        return
    text = page.get_data(as_text=True)
    assert ("收入证明.pdf" in text) == MATRIX[username][0]
    assert ("走访照片.jpg" in text) == MATRIX[username][1]
    assert (f"/attachments/{doc.id}" in text) == MATRIX[username][0]


def test_anonymous_gets_no_file(app, client, demo, api):
    _case, doc, photo = _filed_case(demo, api)
    for att in (doc, photo):
        assert client.get(f"/api/v1/attachments/{att.id}").status_code == 401
        r = client.get(f"/attachments/{att.id}")
        assert r.status_code == 302 and "/login" in r.headers["Location"]


def test_who_may_add_documents(app, api, demo):
    case = new_case("aid", demo["worker1"])
    worker = api.as_("worker1")
    # The applicant, in the draft: the category's documents and "other", never visit photos.
    assert _upload(worker, case, PDF, doc_type="other").status_code == 201
    r = _upload(worker, case, JPEG, doc_type="visit_photo")
    assert r.status_code == 422 and "doc_type" in r.get_json()["error"]["fields"]
    assert _upload(worker, case, PDF, doc_type="medical_bills").status_code == 422  # not this category's
    assert _upload(worker, case, PDF, doc_type="x" * 500).status_code == 422
    # Others cannot see it, so cannot add to it either.
    assert _upload(api.as_("worker2"), case, PDF).status_code == 404
    assert _upload(worker, case, PDF).status_code == 201
    fire(case, "submit", demo["worker1"])
    # Submitted: the applicant's documents are fixed; union staff may still add.
    r = _upload(worker, case, PDF)
    assert r.status_code == 403 and r.get_json()["error"]["code"] == "forbidden"
    assert _upload(api.as_("staff1"), case, PDF, doc_type="other").status_code == 201
    assert _upload(api.as_("committee1"), case, PDF, doc_type="other").status_code == 403
    fire(case, "return_for_info", demo["staff1"], reason="收入证明不清晰")
    assert _upload(worker, case, PDF, name="清晰版.pdf").status_code == 201  # returned: may add again
    fire(case, "resubmit", demo["worker1"])
    fire(case, "start_verification", demo["staff1"], visitors=["committee2", "leader1"])
    # Visitors add visit photos while verifying, and nothing else.
    assert _upload(api.as_("committee2"), case, PNG, doc_type="visit_photo").status_code == 201
    assert _upload(api.as_("committee2"), case, PDF, doc_type="other").status_code == 422
    assert _upload(api.as_("committee1"), case, PNG, doc_type="visit_photo").status_code == 403


def test_fund_manager_sees_no_documents_and_adds_none(app, api, web, demo):
    case = aid_to(demo, "posting")
    fund1 = api.as_("fund1")
    assert fund1.get(f"/api/v1/cases/aid/{case.id}").status_code == 200
    assert fund1.get(f"/api/v1/cases/aid/{case.id}/attachments").get_json() == {"items": []}
    assert _upload(fund1, case, PDF, doc_type="other").status_code == 403
    web.login("fund1")
    assert 'id="attachments"' not in web.get(f"/cases/aid/{case.id}").get_data(as_text=True)


def test_required_documents_guard_passes_after_a_real_upload(api, demo):
    for category, doc in (("hardship", "income_proof"), ("illness", "medical_bills"),
                          ("education", "admission_letter")):
        details = {"hardship": {"household_size": 3, "monthly_income": "2000", "cause": "病"},
                   "illness": {"diagnosis": "肺炎", "hospital": "市人民医院", "out_of_pocket": "8000.00"},
                   "education": {"child_name": "张小明", "school": "市第一中学", "admission_year": 2026,
                                 "tuition": "4000.00"}}[category]
        worker = api.as_("worker1")
        r = worker.post("/api/v1/cases/aid", json={"category": category, "amount_requested": "1000.00",
                                                   "circumstances": "家庭困难", "details": details,
                                                   "consent": {"version": CONSENT, "given_by": "self"}})
        assert r.status_code == 201, r.get_json()
        case = r.get_json()
        submit = f"/api/v1/cases/aid/{case['id']}/transitions/submit"
        refused = worker.post(submit, json={"version": case["version"]}, headers=EN)
        assert refused.status_code == 422
        assert "Attach these documents first" in refused.get_json()["error"]["message"]
        assert _upload(worker, _Case(case), PDF, doc_type="other").status_code == 201
        assert worker.post(submit, json={"version": case["version"]}).status_code == 422  # "other" is not it
        assert _upload(worker, _Case(case), PDF, doc_type=doc).status_code == 201
        done = worker.post(submit, json={"version": case["version"]})
        assert done.status_code == 200, (category, done.get_json())
        assert done.get_json()["state"] == "submitted"


class _Case:
    def __init__(self, record):
        self.kind, self.id = record["kind"], record["id"]


def test_missing_file_on_disk_is_a_404_not_a_500(api, demo):
    from .factories import attach
    case = new_case("aid", demo["worker1"])
    attach(case, "income_proof", demo["worker1"])  # a row without a file
    att = _db.session.scalar(select(Attachment).where(Attachment.case_id == case.id))
    r = api.as_("worker1").get(f"/api/v1/attachments/{att.id}")
    assert r.status_code == 404 and r.get_json()["error"]["code"] == "file_missing"


def test_openapi_lists_the_attachment_endpoints(client):
    paths = client.get("/api/v1/openapi.json").get_json()["paths"]
    assert "/api/v1/cases/{kind}/{case_id}/attachments" in paths
    assert {"get", "post"} <= set(paths["/api/v1/cases/{kind}/{case_id}/attachments"])
    assert "/api/v1/attachments/{attachment_id}" in paths
