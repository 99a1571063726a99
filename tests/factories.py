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


def new_case(kind: str, user, **data):
    base = {"aid": AID, "proposal": PROPOSAL, "motion": MOTION}[kind]
    case = kinds.create(kind, {**base, **data}, user)
    db.session.commit()
    return case


def attach(case, doc_type: str, user, private: bool = False):
    blob = secrets.token_bytes(8)
    db.session.add(Attachment(case_id=case.id, doc_type=doc_type, original_name=f"{doc_type}.pdf",
                              stored_name=secrets.token_hex(16), content_type="application/pdf", size=len(blob),
                              sha256=hashlib.sha256(blob).hexdigest(), uploaded_by_id=user.id, private=private))
    db.session.commit()


def fire(case, trigger: str, user, comment: str = "", version: int | None = None, **data):
    outcome = engine.fire(case, trigger, user, data, version=version, comment=comment)
    db.session.commit()
    return outcome


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
    for name, step in steps:
        if case.state == state and name != "verifying+visit":
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
