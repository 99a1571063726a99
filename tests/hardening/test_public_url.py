"""Host-header forgery: every URL the service hands out (notices and their QR codes, mails, activation slips,
the notices API, the OpenAPI servers) comes from CASEWORK_PUBLIC_URL, never from the request."""
from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest
from sqlalchemy import select

from casework.config import ConfigError, from_env
from casework.extensions import db as _db
from casework.notices.models import Notice
from casework.notifications.models import MailOutbox

from ..factories import aid_to, post_on_board

PUBLIC = "https://casework.example.org"
EVIL = "evil.example"
# Both ways a client names a host: the Host header (through base_url) and a proxy's X-Forwarded-Host.
FORGED = {"base_url": f"http://{EVIL}", "headers": {"X-Forwarded-Host": "forwarded.evil.example",
                                                    "X-Forwarded-Proto": "https"}}


@pytest.fixture()
def public(app, monkeypatch):
    monkeypatch.setitem(app.config, "CASEWORK_PUBLIC_URL", PUBLIC)
    return PUBLIC


@pytest.fixture()
def qr_urls(monkeypatch):
    """Every URL drawn as a QR code while the test runs."""
    from casework.notices import renderer
    seen, real = [], renderer.qr_svg

    def spy(url, *args, **kw):
        seen.append(url)
        return real(url, *args, **kw)
    monkeypatch.setattr(renderer, "qr_svg", spy)
    return seen


def assert_only_public(text: str):
    assert "evil.example" not in text
    assert "127.0.0.1" not in text and "localhost" not in text


def pdf_text(data: bytes, tmp_path) -> str:
    if shutil.which("pdftotext") is None:
        import io

        import pdfplumber
        with pdfplumber.open(io.BytesIO(data)) as pdf:
            return "\n".join(page.extract_text() or "" for page in pdf.pages)
    path = tmp_path / "notice.pdf"
    path.write_bytes(data)
    return subprocess.run(["pdftotext", "-enc", "UTF-8", str(path), "-"], capture_output=True, text=True,
                          check=True, timeout=60).stdout


def test_board_pdf_first_fetched_with_a_forged_host_prints_the_public_url(demo, client, public, qr_urls,
                                                                          tmp_path):
    aid_to(demo, "posting")
    batch = post_on_board(demo)
    r = client.get(f"/notices/board/{batch.id}.pdf", **FORGED)
    assert r.status_code == 200 and r.data.startswith(b"%PDF")
    notice = _db.session.scalar(select(Notice).where(Notice.kind == "board_posting"))
    assert notice.fields["verify_url"] == f"{PUBLIC}/verify/{notice.verify_code}"
    assert notice.fields["verify_url"] in qr_urls
    assert all(url.startswith(f"{PUBLIC}/verify/") for url in qr_urls)
    text = pdf_text(r.data, tmp_path)
    assert "casework.example.org/verify/" in text.replace("\n", "")
    assert_only_public(text)


def test_case_notices_and_their_api_carry_the_public_url(demo, api, public, qr_urls, tmp_path):
    case = aid_to(demo, "posting")  # the committee's approval issued the approval notice
    notice = _db.session.scalar(select(Notice).where(Notice.case_id == case.id))
    assert notice.fields["verify_url"].startswith(f"{PUBLIC}/verify/") and qr_urls
    assert all(url.startswith(f"{PUBLIC}/verify/") for url in qr_urls)
    staff = api.as_("staff1")
    body = staff.get(f"/api/v1/cases/aid/{case.id}/notices", **FORGED).get_json()
    assert body["items"], body
    for item in body["items"]:
        assert item["verify_url"] == f"{PUBLIC}/verify/{item['verify_code']}"
    pdf = staff.get(body["items"][0]["url"], **FORGED)
    assert pdf.status_code == 200
    assert_only_public(pdf_text(pdf.data, tmp_path))


def test_mail_queued_during_a_forged_request_links_to_the_public_url(demo, api, app, public, monkeypatch):
    monkeypatch.setitem(app.config, "CASEWORK_SMTP_HOST", "127.0.0.1")
    case = aid_to(demo, "submitted")
    r = api.as_("staff1").post(f"/api/v1/cases/aid/{case.id}/transitions/return_for_info",
                               json={"version": case.version, "reason": "请补充收入证明"}, **FORGED)
    assert r.status_code == 200, r.get_json()
    rows = _db.session.scalars(select(MailOutbox)).all()
    assert rows and rows[0].to_addr == demo["worker1"].email
    body = rows[0].body
    assert f"{PUBLIC}/cases/aid/{case.id}" in body and f"{PUBLIC}/notifications" in body
    assert_only_public(body)


def test_digest_mail_links_to_the_public_url(demo, app, public, monkeypatch):
    from datetime import timedelta

    from casework.clock import utcnow
    from casework.notifications import mail
    from casework.notifications.models import notify, set_mode
    monkeypatch.setitem(app.config, "CASEWORK_SMTP_HOST", "127.0.0.1")
    worker = demo["worker1"]
    set_mode(worker, "digest")
    _db.session.commit()
    with app.test_request_context("/", base_url=f"http://{EVIL}"):
        notify(worker, "待办提醒", "请尽快处理")
        _db.session.commit()
    assert mail.queue_digests(utcnow() + timedelta(days=1))
    rows = _db.session.scalars(select(MailOutbox).where(MailOutbox.digest_key.is_not(None))).all()
    assert f"{PUBLIC}/notifications" in rows[0].body
    assert_only_public(rows[0].body)


def test_activation_slips_print_the_public_url(demo, web, public, tmp_path):
    from casework.accounts.models import Unit
    from casework.roster.operations import import_roster
    from ..test_roster import good_row, xlsx
    import_roster(xlsx([good_row(i) for i in range(2)]), "r.xlsx", demo["admin"], dry_run=False)
    # Signed in on the forged host itself: the session cookie belongs to the host it was set for.
    from ..conftest import CSRF_RE
    token = CSRF_RE.search(web.get("/login", **FORGED).get_data(as_text=True)).group(1)
    r = web.client.post("/login", data={"csrf_token": token, "login": "admin", "password": "demo-password"},
                        **FORGED)
    assert r.status_code == 302
    unit = _db.session.scalar(select(Unit).where(Unit.code == "HQ"))
    page = web.get(f"/admin/roster/activation/{unit.id}", **FORGED).get_data(as_text=True)
    assert f"{PUBLIC}/activate" in page
    assert "evil.example" not in page
    pdf = web.get(f"/admin/roster/activation/{unit.id}?format=pdf", **FORGED)
    if pdf.mimetype == "application/pdf":
        text = pdf_text(pdf.data, tmp_path)
        assert "casework.example.org/activate" in text.replace("\n", "")
        assert_only_public(text)


def test_openapi_servers_is_the_public_url_whoever_asks_first(client, db, app, public, monkeypatch):
    monkeypatch.setattr(app, "_spec", None)  # as if nobody had fetched the document yet
    spec = client.get("/api/v1/openapi.json", **FORGED).get_json()
    assert [s["url"] for s in spec["servers"]] == [PUBLIC]
    assert "evil.example" not in str(spec)


@pytest.mark.parametrize("raw", ["evil.example", "ftp://x.example", "https://", "https://x.example/?a=1",
                                 "https://user:pw@x.example", "https://x.example:99999", "https://x .example"])
def test_a_bad_public_url_stops_start_up_with_one_line(tmp_path, raw):
    with pytest.raises(ConfigError) as err:
        from_env(str(tmp_path), {"CASEWORK_PUBLIC_URL": raw})
    assert "CASEWORK_PUBLIC_URL" in str(err.value) and "\n" not in str(err.value)


def test_public_url_default_and_trailing_slash(tmp_path):
    assert from_env(str(tmp_path), {})["CASEWORK_PUBLIC_URL"] == "http://127.0.0.1:5000"
    assert from_env(str(tmp_path), {"CASEWORK_PUBLIC_URL": "https://u.example/"})["CASEWORK_PUBLIC_URL"] \
        == "https://u.example"


def test_make_serve_refuses_to_start_without_a_public_url():
    root = Path(__file__).resolve().parents[2]
    env = {k: v for k, v in os.environ.items() if k != "CASEWORK_PUBLIC_URL"}
    env["CASEWORK_DATABASE_URL"] = "postgresql://casework@127.0.0.1/casework"
    out = subprocess.run(["make", "--no-print-directory", "-C", str(root), "require-public-url"], env=env,
                         capture_output=True, text=True, timeout=60)
    assert out.returncode != 0
    assert out.stderr.splitlines()[0].startswith("error: make serve needs CASEWORK_PUBLIC_URL")

