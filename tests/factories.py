"""Build cases and walk them through their workflows with the real engine, as tests need them."""
from __future__ import annotations

import hashlib
import secrets

from casework.clock import today
from casework.core import engine, kinds
from casework.core.models import Attachment
from casework.extensions import db

AID = {"category": "hardship", "amount_requested": "3000.00", "circumstances": "爱人重病，家庭收入微薄",
       "details": {"household_size": 4, "monthly_income": "2100.00", "cause": "爱人患病，子女上学"}}
PROPOSAL = {"title": "改进冲压车间排班", "problem": "夜班交接时间过长", "suggestion": "交接单电子化"}
MOTION = {"title": "关于改善职工食堂的提案", "reasons": "食堂就餐拥挤", "proposal_text": "增加窗口"}


def consent_for(data: dict) -> dict:
    """The separate consent an aid request is filed with: the applicant's own, or how a group leader got it."""
    from casework.privacy.consent import CURRENT
    if data.get("applicant"):
        return {"version": CURRENT, "given_by": "on_behalf", "how": "written"}
    return {"version": CURRENT, "given_by": "self"}


def new_case(kind: str, user, **data):
    base = {"aid": AID, "proposal": PROPOSAL, "motion": MOTION}[kind]
    if kind == "aid" and "consent" not in data:
        data["consent"] = consent_for(data)
    case = kinds.create(kind, {**base, **data}, user)
    db.session.commit()
    return case


def attach(case, doc_type: str, user, private: bool = False):
    blob = secrets.token_bytes(8)
    db.session.add(Attachment(case_id=case.id, doc_type=doc_type, original_name=f"{doc_type}.pdf",
                              stored_name=secrets.token_hex(16), content_type="application/pdf", size=len(blob),
                              sha256=hashlib.sha256(blob).hexdigest(), uploaded_by_id=user.id, private=private))
    db.session.commit()


def department_handler(unit, username: str, code: str, name: str | None = None):
    """A new active member of department `code` (e.g. "HR"), at `unit`, with the demo password."""
    from sqlalchemy import select

    from casework.accounts.models import Department, DepartmentMember, User
    user = User(username=username, name=name or username, unit=unit)
    user.set_password("demo-password")
    db.session.add(user)
    db.session.flush()
    db.session.add(DepartmentMember(user=user, department=db.session.scalar(
        select(Department).where(Department.code == code))))
    db.session.commit()
    return user


def fire(case, trigger: str, user, comment: str = "", version: int | None = None, **data):
    outcome = engine.fire(case, trigger, user, data, version=version, comment=comment)
    db.session.commit()
    return outcome


def sign_for(case, handler, opinions: str | None = None):
    """The lead department signs for a routed case (签收); with `opinions`, every co-handling department
    gives that opinion (会办意见) through one of its members, so the reply need not wait."""
    from casework.accounts.models import DepartmentMember
    from sqlalchemy import select

    from casework.handling.operations import pending_opinions
    fire(case, "acknowledge", handler)
    for opinion in pending_opinions(case) if opinions is not None else ():
        member = db.session.scalar(select(DepartmentMember).where(
            DepartmentMember.department_id == opinion.department_id).order_by(DepartmentMember.id).limit(1))
        if member is not None:
            fire(case, "contribute", member.user, text=opinions)


def aid_to(users, state: str, **data):
    """An aid request of worker1 walked along the happy path until it reaches `state`."""
    case = new_case("aid", users["worker1"], **data)
    steps = [
        ("submitted", lambda: (attach(case, "income_proof", users["worker1"]),
                               fire(case, "submit", users["worker1"]))),
        ("verifying", lambda: fire(case, "start_verification", users["staff1"])),
        ("verifying+visit", lambda: fire(case, "record_visit", users["staff1"], visited_on=today().isoformat(),
                                         visitors=["staff1", "leader1"], findings="住房简陋，情况属实")),
        ("pending_approval", lambda: fire(case, "verify", users["staff1"], proposed_amount="2000.00")),
        ("posting", lambda: [fire(case, "approve", users[f"committee{i}"], amount="2000.00") for i in (1, 2, 3)]),
        ("posted", lambda: post_on_board(users)),  # still "posting", now on the board with its period
    ]
    return walk_steps(case, state, steps, keep_going=("verifying+visit",))


def walk_steps(case, state: str, steps, keep_going=()):
    """Takes `steps` ((name, action) pairs in order) until the case is in `state` or the step called `state`
    is done; a step named in `keep_going` is taken even when the case is already in `state`."""
    for name, step in steps:
        if case.state == state and name not in keep_going:
            break
        step()
        if name == state:
            break
    return case


def post_on_board(users, unit=None):
    """Puts every aid request waiting in "posting" at `unit` (default: the union's) on the board: the batch,
    signed off by three committee members."""
    from sqlalchemy import select

    from casework.disclosure import operations
    from casework.funds.models import Fund
    unit = unit or db.session.scalar(select(Fund).where(Fund.code == "AID")).unit
    batch = operations.make_batch(unit, "aid")
    db.session.commit()
    for i in (1, 2, 3):
        operations.sign_off(batch, users[f"committee{i}"], "同意公示")
        db.session.commit()
    return batch


def end_posting_now(users, case):
    """Ends an aid request's posting as the scheduler would once the period is over: on the board first if
    it is not yet, then the posting's period dated back to yesterday."""
    from datetime import timedelta

    from sqlalchemy import select

    from casework.accounts.models import Unit
    from casework.disclosure import operations
    from casework.disclosure.models import Disclosure, DisclosureItem, PendingItem
    if operations.posting_ends_on(case) is None:
        pending = db.session.scalar(select(PendingItem).where(PendingItem.case_id == case.id))
        post_on_board(users, db.session.get(Unit, pending.unit_id))
    batch = db.session.scalar(select(Disclosure).join(DisclosureItem).where(DisclosureItem.case_id == case.id)
                              .order_by(Disclosure.id.desc()).limit(1))
    batch.ends_on = case.deadline = today() - timedelta(days=1)
    db.session.commit()
    fire(case, "end_posting", None)


def posting_over(users):
    """An aid request of worker1 on the board whose posting period ended yesterday; nothing has ended it yet."""
    from datetime import timedelta
    case = aid_to(users, "posting")
    batch = post_on_board(users)
    batch.ends_on = case.deadline = today() - timedelta(days=1)
    db.session.commit()
    return case


def interleave(walkers, clock, rng, rounds: int, pause_hours: tuple[int, int]):
    """Walks (steps, budget) generators a step at a time in shuffled rounds, minutes apart within a round and
    `pause_hours` between rounds, as many people working at once would; returns the moment it ended."""
    from datetime import timedelta

    from casework.clock import utcnow
    now = utcnow()
    for _round in range(rounds):
        rng.shuffle(walkers)
        alive = []
        for steps, left in walkers:
            if left <= 0:
                continue
            now += timedelta(minutes=rng.randint(1, 40))
            clock.move_to(now)
            step = next(steps, None)
            if step is None:
                continue
            step()
            alive.append((steps, left - 1))
        walkers = alive
        now += timedelta(hours=rng.randint(*pause_hours))
    return now


def crowd(users, n: int, state: str = "submitted"):
    """n aid requests, each filed by a worker of their own in a group of its own (under B2), so that a page
    listing them would read a user and a unit per row if it loaded them one by one. `state`: "submitted",
    or "verifying" with a home visit by staff1 and the group's leader (visitor parties)."""
    from sqlalchemy import select

    from casework.accounts.models import RoleAssignment, Unit, User
    branch = db.session.scalar(select(Unit).where(Unit.code == "B2"))
    cases = []
    for i in range(n):
        unit = Unit(code=f"CROWD{i}", name=f"测试小组{i}", level="group", parent=branch)
        db.session.add(unit)
        db.session.flush()
        unit.set_path()
        worker = User(username=f"crowd{i}", name=f"职工{i}", unit=unit)
        db.session.add(worker)
        db.session.flush()
        leader = User(username=f"crowdlead{i}", name=f"组长{i}", unit=unit)
        db.session.add(leader)
        db.session.flush()
        db.session.add(RoleAssignment(user_id=worker.id, role="worker", unit_id=unit.id))
        db.session.add(RoleAssignment(user_id=leader.id, role="group_leader", unit_id=unit.id))
        db.session.commit()
        case = new_case("aid", worker)
        attach(case, "income_proof", worker)
        fire(case, "submit", worker)
        if state == "verifying":
            fire(case, "start_verification", users["staff1"])
            fire(case, "record_visit", users["staff1"], visited_on=today().isoformat(),
                 visitors=["staff1", leader.username], findings="住房简陋，情况属实")
        cases.append(case)
    return cases


def statements():
    """Records the SQL statements run inside the block: `with statements() as seen: ...`."""
    from contextlib import contextmanager

    from sqlalchemy import event

    @contextmanager
    def recording():
        seen: list[str] = []

        def record(conn, cursor, statement, params, context, executemany):
            seen.append(" ".join(statement.split()))
        event.listen(db.engine, "before_cursor_execute", record)
        try:
            yield seen
        finally:
            event.remove(db.engine, "before_cursor_execute", record)
    return recording()


def board_rows(cases, users):
    """For each case: a disclosure of its unit (posted or ended with an item and an open report on it, or
    awaiting sign-off with the case pending), a fund of the unit, income to it and to the union's aid fund
    recorded by the applicant, and a notification to staff1 about the case. Rows for the board, disclosures,
    funds and inbox pages, each row with a unit and a user of its own."""
    from datetime import timedelta

    from sqlalchemy import select

    from casework.clock import utcnow
    from casework.disclosure.models import Disclosure, DisclosureItem, Objection, PendingItem
    from casework.funds.models import Fund, LedgerEntry
    from casework.notifications.models import Notification
    staff = users["staff1"]
    aid = db.session.scalar(select(Fund).where(Fund.code == "AID"))
    now = utcnow()
    for i, case in enumerate(cases):
        status = ("posted", "ended", "awaiting_signoff")[i % 3]
        d = Disclosure(unit_id=case.unit_id, kind="aid", title=f"困难职工补助公示{i}", status=status,
                       starts_at=None if status == "awaiting_signoff" else now - timedelta(days=3 + 10 * (i % 3)),
                       ends_on=(now + timedelta(days=2 - 10 * (i % 3))).date())
        db.session.add(d)
        db.session.flush()
        if status == "awaiting_signoff":
            db.session.add(PendingItem(case_id=case.id, kind="aid", unit_id=case.unit_id, disclosure_id=d.id))
        else:
            d.items.append(DisclosureItem(seq=1, case_id=case.id, case_number=case.number, masked_name="张*",
                                          unit_name="测试小组", category="困难补助", amount=100000))
            db.session.flush()
            db.session.add(Objection(kind="report", tracking_code=f"R{i:06d}", disclosure_id=d.id,
                                     item_id=d.items[0].id, unit_id=case.unit_id, text="情况不实",
                                     due_on=(now + timedelta(days=5)).date()))
        fund = Fund(code=f"F{i}", name=f"小组互助金{i}", unit_id=case.unit_id, purpose="aid", balance=100000)
        db.session.add(fund)
        db.session.flush()
        db.session.add(LedgerEntry(fund_id=fund.id, kind="income", amount=100000, source="donation",
                                   actor_id=case.applicant_id))
        aid.balance += 100 + i
        db.session.add(LedgerEntry(fund_id=aid.id, kind="income", amount=100 + i, source="donation",
                                   actor_id=case.applicant_id))
        db.session.add(Notification(user_id=staff.id, case_id=case.id, subject=f"{case.number} 待核实"))
    db.session.commit()


def solve(token: str) -> str:
    """The answer to a human check: tests read the token as the server does."""
    import json
    from casework.disclosure import human
    return str(json.loads(human._fernet().decrypt(token.encode()))["a"])


def solved_check(api) -> dict:
    """A fresh human check from the API with its answer, to put into an objection's body."""
    r = api.post("/api/v1/challenges")
    assert r.status_code == 201, r.get_json()
    token = r.get_json()["id"]
    return {"challenge": token, "answer": solve(token)}


def page_check(html: str) -> dict:
    """The human check of a board form page, answered: the fields to post with the form."""
    import re
    token = re.search(r'name="challenge" value="([^"]+)"', html).group(1)
    return {"challenge": token, "human": solve(token)}
