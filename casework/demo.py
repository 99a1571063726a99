"""The demo union: loaded by `flask --app wsgi casework demo`; running it again adds nothing."""
from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import func, select

from .accounts.models import Department, DepartmentMember, RoleAssignment, Unit, User
from .clock import today
from .core.models import CongressSession
from .extensions import db
from .funds.models import Fund, LedgerEntry

PASSWORD = "demo-password"

UNITS = [  # code, name, level, parent code
    ("HQ", "示范公司工会委员会", "federation", None),
    ("B1", "机关分会", "branch", "HQ"),
    ("B2", "生产车间分会", "branch", "HQ"),
    ("G11", "综合办公室小组", "group", "B1"),
    ("G12", "财务后勤小组", "group", "B1"),
    ("G21", "一车间小组", "group", "B2"),
    ("G22", "二车间小组", "group", "B2"),
]
DEPARTMENTS = [("HR", "人力资源部"), ("TECH", "生产技术部"), ("LOG", "后勤保障部")]
USERS = [  # username, name, employee no, phone, unit, roles at units
    ("admin", "系统管理员", "E0001", "13800000001", "HQ", [("admin", "HQ")]),
    ("worker1", "张建国", "E1001", "13800001001", "G21", [("worker", "G21")]),
    ("worker2", "李秀英", "E1002", "13800001002", "G22", [("worker", "G22")]),
    ("worker3", "欧阳明", "E1003", "13800001003", "G11", [("worker", "G11")]),
    ("leader1", "王志强", "E1101", "13800001101", "G21", [("worker", "G21"), ("group_leader", "G21")]),
    ("staff1", "刘芳", "E1201", "13800001201", "HQ", [("worker", "HQ"), ("union_staff", "HQ")]),
    ("committee1", "陈卫东", "E1301", "13800001301", "B1", [("worker", "B1"), ("committee", "HQ")]),
    ("committee2", "赵丽华", "E1302", "13800001302", "B1", [("worker", "B1"), ("committee", "HQ")]),
    ("committee3", "孙海涛", "E1303", "13800001303", "B2", [("worker", "B2"), ("committee", "HQ")]),
    ("committee4", "周敏", "E1304", "13800001304", "B2", [("worker", "B2"), ("committee", "HQ")]),
    ("committee5", "吴国平", "E1305", "13800001305", "HQ", [("worker", "HQ"), ("committee", "HQ")]),
    ("fund1", "郑晓燕", "E1401", "13800001401", "G12", [("worker", "G12"), ("fund_manager", "HQ")]),
    ("evaluator1", "冯立新", "E1501", "13800001501", "B2", [("worker", "B2"), ("evaluator", "HQ")]),
    ("evaluator2", "何静", "E1502", "13800001502", "B1", [("worker", "B1"), ("evaluator", "HQ")]),
    ("motions1", "马德胜", "E1601", "13800001601", "HQ", [("worker", "HQ"), ("motion_committee", "HQ")]),
    ("handler1", "高建华", "E1701", "13800001701", "B2", [("worker", "B2")]),
    ("rep1", "林晓峰", "E1801", "13800001801", "G21", [("worker", "G21"), ("representative", "HQ")]),
    ("rep2", "罗春梅", "E1802", "13800001802", "G22", [("worker", "G22"), ("representative", "HQ")]),
    ("rep3", "谢文斌", "E1803", "13800001803", "G11", [("worker", "G11"), ("representative", "HQ")]),
]
HANDLERS = [("handler1", "TECH")]
LEADERS = {("handler1", "TECH")}  # 部门负责人: gets the department's 督办单
FUNDS = [  # code, name, purpose, incomes (source, yuan, note)
    ("AID", "困难职工救助基金", "aid", [("union_dues", 80000, "年度工会经费划拨"),
                                     ("government", 30000, "财政帮扶补助"),
                                     ("donation", 23456.5, "“一日捐”活动捐款")]),
    ("REWARD", "合理化建议奖励基金", "reward", [("union_dues", 20000, "年度合理化建议奖励经费")]),
]


def load() -> dict[str, int]:
    """Creates what is missing; returns how many of each thing were created."""
    created = {"units": 0, "departments": 0, "users": 0, "roles": 0, "funds": 0, "sessions": 0}
    units: dict[str, Unit] = {}
    for code, name, level, parent in UNITS:
        unit = db.session.scalar(select(Unit).where(Unit.code == code))
        if unit is None:
            unit = Unit(code=code, name=name, level=level, parent=units.get(parent))
            db.session.add(unit)
            db.session.flush()
            unit.set_path()
            created["units"] += 1
        units[code] = unit
    depts: dict[str, Department] = {}
    for code, name in DEPARTMENTS:
        dept = db.session.scalar(select(Department).where(Department.code == code))
        if dept is None:
            dept = Department(code=code, name=name)
            db.session.add(dept)
            created["departments"] += 1
        depts[code] = dept
    users: dict[str, User] = {}
    for username, name, emp, phone, unit_code, roles in USERS:
        user = db.session.scalar(select(User).where(User.username == username))
        if user is None:
            user = User(username=username, name=name, employee_no=emp, phone=phone, unit=units[unit_code],
                        email=f"{username}@union.example.com")
            user.set_password(PASSWORD)
            db.session.add(user)
            db.session.flush()
            created["users"] += 1
        users[username] = user
        for role, at in roles:
            if not any(a.role == role and a.unit_id == units[at].id for a in user.roles):
                user.roles.append(RoleAssignment(role=role, unit=units[at]))
                created["roles"] += 1
    db.session.flush()
    for username, code in HANDLERS:
        if code and not any(m.department_id == depts[code].id for m in users[username].departments):
            db.session.add(DepartmentMember(user=users[username], department=depts[code],
                                            leader=(username, code) in LEADERS))
    for code, name, purpose, incomes in FUNDS:
        fund = db.session.scalar(select(Fund).where(Fund.code == code))
        if fund is None:
            fund = Fund(code=code, name=name, unit=units["HQ"], purpose=purpose, balance=0, reserved=0)
            db.session.add(fund)
            db.session.flush()
            for source, yuan, note in incomes:
                fen = int(round(yuan * 100))
                db.session.add(LedgerEntry(fund_id=fund.id, kind="income", amount=fen, source=source,
                                           note=note, actor_id=users["fund1"].id))
                fund.balance += fen
            created["funds"] += 1
    if not db.session.scalar(select(func.count()).select_from(CongressSession)):
        start = today()
        db.session.add(CongressSession(
            name="第五届职工代表大会第三次会议", unit=units["HQ"], starts_on=start,
            ends_on=start + timedelta(days=60),
            cosigning_until=datetime.combine(start + timedelta(days=30), datetime.min.time()),
            status="open"))
        created["sessions"] += 1
    db.session.flush()
    return created


__all__ = ["load", "PASSWORD", "USERS"]
