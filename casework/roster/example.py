"""Writes example_roster.xlsx: the demo union's roster (`python -m casework.roster.example [PATH]`).

The demo's own people (matched by 工号, so loading it after `casework demo` changes none of them) and 24
new members across the four groups, with valid resident ID numbers and mobile numbers. Admin accounts are
not on it: a roster never grants admin rights.
"""
from __future__ import annotations

import sys
from datetime import date, timedelta
from pathlib import Path

HEADERS = ["姓名", "工号", "手机", "单位", "身份证号", "角色"]
ROOT = "示范公司工会委员会"
UNITS = {"HQ": ROOT, "B1": f"{ROOT}/机关分会", "B2": f"{ROOT}/生产车间分会",
         "G11": f"{ROOT}/机关分会/综合办公室小组", "G12": f"{ROOT}/机关分会/财务后勤小组",
         "G21": f"{ROOT}/生产车间分会/一车间小组", "G22": f"{ROOT}/生产车间分会/二车间小组"}
DEMO_ROLES = {"leader1": "职工,工会小组长", "staff1": "职工,工会干事"}
NEW = ["赵春生", "钱丽萍", "孙建军", "李桂英", "周志刚", "吴海燕", "郑国庆", "王淑芬", "冯德明", "陈美玲",
       "褚卫国", "卫秀兰", "蒋红军", "沈玉梅", "韩立新", "杨晓东", "朱凤英", "秦永强", "尤丽娟", "许振华",
       "何晓梅", "吕文斌", "施雪莲", "张德胜"]


def id_number(region: str, born: date, seq: int) -> str:
    from stdnum.cn import ric
    body = f"{region}{born:%Y%m%d}{seq:03d}"
    return body + ric.calc_check_digit(body + "0")


def rows() -> list[list[str]]:
    from ..demo import USERS
    out = []
    for username, name, emp, phone, unit, _roles in USERS:
        if username == "admin":
            continue
        out.append([name, emp, phone, UNITS[unit], "", DEMO_ROLES.get(username, "职工")])
    groups = ["G11", "G12", "G21", "G22"]
    for i, name in enumerate(NEW):
        born = date(1968, 3, 1) + timedelta(days=397 * i)
        roles = "职工,职工代表" if i % 8 == 3 else "职工"
        out.append([name, f"E2{i + 1:03d}", f"139{10002000 + i:08d}", UNITS[groups[i % 4]],
                    id_number("110105", born, 11 + 2 * i), roles])
    return out


def build(path: Path) -> Path:
    from openpyxl import Workbook
    from openpyxl.styles import Font
    book = Workbook()
    sheet = book.active
    sheet.title = "会员花名册"
    sheet.append(HEADERS)
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    for row in rows():
        sheet.append(row)
    for col, width in zip("ABCDEF", (10, 8, 14, 40, 21, 18)):
        sheet.column_dimensions[col].width = width
    for cells in sheet.iter_cols(min_col=2, max_col=5, min_row=2):
        for cell in cells:
            cell.number_format = "@"  # text: employee numbers, phones and ID numbers keep every digit
    sheet.freeze_panes = "A2"
    book.save(path)
    return path


if __name__ == "__main__":
    target = Path(sys.argv[1]) if len(sys.argv) > 1 else Path(__file__).with_name("example_roster.xlsx")
    print(build(target))
