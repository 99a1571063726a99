"""Random sequences of triggers by random people never break the rules (hypothesis state machines)."""
from __future__ import annotations

import pytest
from hypothesis import HealthCheck, settings, strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, rule
from sqlalchemy import func, select

import workflows
from casework.accounts.models import User
from casework.clock import today
from casework.core import engine
from casework.core.errors import CaseworkError
from casework.core.models import AuditEntry, verify_chain
from casework.extensions import db as _db
from casework.funds.models import Fund
from casework.funds.operations import ledger_balance

from ..factories import attach, new_case

PEOPLE = ["worker1", "worker2", "leader1", "staff1", "committee1", "committee2", "committee3", "committee4",
          "fund1", "evaluator1", "evaluator2", "motions1", "handler1", "rep1", "rep2", "rep3", None]

# Inputs a person might plausibly send with each trigger (sometimes wrong on purpose).
INPUTS = {
    "record_visit": [{"visited_on": "2026-11-24", "visitors": ["staff1", "leader1"], "findings": "属实"},
                     {"visited_on": "2026-11-24", "visitors": ["staff1"], "findings": "x"}],
    "verify": [{"proposed_amount": "2000.00"}, {"proposed_amount": "99999"}],
    "approve": [{"amount": "2000.00"}, {"amount": "1000.00"}],
    "reject": [{"reason": "不符合条件"}],
    "return_for_info": [{"reason": "请补充材料"}],
    "disburse": [{"method": "cash", "reference": "R1"}],
    "dismiss_objection": [{"answer": "经核实无误"}],
    "uphold_objection": [{"answer": "属实", "reconsider": True}, {"answer": "属实"}],
    "accept": [{"evaluators": ["evaluator1", "evaluator2"]}, {"evaluators": ["worker1"]}],
    "decline": [{"reply": "已有类似做法"}],
    "score": [{"score": 90, "comment": "好"}, {"score": 65, "comment": "一般"}, {"score": 101, "comment": "x"}],
    "adopt": [{"department": "TECH", "deadline": "2026-12-31"}],
    "not_adopt": [{"reply": "暂不具备条件"}],
    "report_implemented": [{"result": "已实施", "benefit": "12000.00"}],
    "reward": [{}, {"bonus": "100.00"}],
    "file": [{"department": "TECH"}],
    "convert_to_opinion": [{"department": "HR"}],
    "not_file": [{"reason": "不属于职代会职权"}],
    "reply": [{"text": "已落实"}],
    "return_misrouted": [{"reason": "不属于本部门职责"}, {}],
    "contribute": [{"text": "同意"}],
    "rate": [{"satisfaction": "satisfied"}],
}


REACHED: dict[str, set[str]] = {}
ACTORS = {"applicant": ["worker1"], "filer": ["leader1"], "author": ["worker1", "rep1"],
          "union_staff": ["staff1"], "group_leader": ["leader1"], "fund_manager": ["fund1"],
          "committee": ["committee1", "committee2", "committee3", "committee4"],
          "assigned_evaluator": ["evaluator1", "evaluator2"], "assigned_handler": ["handler1"],
          "receiving_handler": ["handler1"],
          "cosigner_candidate": ["rep2", "rep3"], "motion_committee": ["motions1"], "scheduler": [None]}
ALL_TRIGGERS = sorted({t.trigger for w in workflows.WORKFLOWS.values() for t in w.transitions})


class CaseMachine(RuleBasedStateMachine):
    kind = "aid"

    @initialize()
    def setup(self):
        from tests.conftest import _wipe
        _db.session.rollback()
        _wipe(_db)
        from casework import demo
        demo.load()
        _db.session.commit()
        self.users = {u: _db.session.scalar(select(User).where(User.username == u)) for u in PEOPLE if u}
        author = self.users["rep1" if self.kind == "motion" else "worker1"]
        extra = {}
        if self.kind == "motion":
            from casework.core.models import CongressSession
            extra["session"] = _db.session.scalar(select(CongressSession.id))
        self.case = new_case(self.kind, author, **extra)
        if self.kind == "aid":
            attach(self.case, "income_proof", author)
        self.fired = 1  # the creation entry
        self.wf = workflows.get(self.kind)

    @rule(data=st.data(), pick=st.integers(0, 3))
    def act(self, data, pick):
        # Mostly triggers of the current state by people who hold one of its roles (so walks get far),
        # sometimes anything by anyone.
        here = self.wf.triggers_from(self.case.state) or ALL_TRIGGERS
        trigger = data.draw(st.sampled_from(here) | st.sampled_from(ALL_TRIGGERS))
        likely = sorted({u for r in self.wf.allowed_roles(trigger, self.case.state) for u in ACTORS.get(r, ())},
                        key=str) or PEOPLE
        who = data.draw(st.sampled_from(likely) | st.sampled_from(PEOPLE))
        user = self.users.get(who) if who else None
        options = INPUTS.get(trigger, [{}])
        body = dict(options[pick % len(options)])
        before = self.case.state
        try:
            outcome = engine.fire(self.case, trigger, user, body)
            _db.session.commit()
        except CaseworkError:
            _db.session.rollback()
            assert self.case.state == before
            return
        self.fired += 1
        REACHED.setdefault(self.kind, set()).add(self.case.state)
        assert before in {s for t in self.wf.transitions if t.trigger == trigger for s in t.source}
        if outcome.moved:
            assert self.case.state in {t.dest for t in self.wf.candidates(trigger, before)}
            if user is not None:
                allowed = self.wf.allowed_roles(trigger, before)
                assert allowed, trigger
        else:
            assert self.case.state == before

    @invariant()
    def audit_complete_and_chained(self):
        if not hasattr(self, "case"):
            return
        count = _db.session.scalar(select(func.count()).select_from(AuditEntry)
                                   .where(AuditEntry.case_id == self.case.id))
        assert count == self.fired
        assert verify_chain(self.case.id) == (True, None)

    @invariant()
    def statistics_aggregate_equals_a_recomputation(self):
        from casework.stats import aggregates
        kept, fresh, differ = aggregates.differences()
        assert (kept, differ) == (fresh, 0)

    @invariant()
    def funds_balanced(self):
        for fund in _db.session.scalars(select(Fund)):
            _db.session.refresh(fund)
            assert fund.balance >= fund.reserved >= 0
            assert ledger_balance(fund) == (fund.balance, fund.reserved)


class ProposalMachine(CaseMachine):
    kind = "proposal"


class MotionMachine(CaseMachine):
    kind = "motion"


@pytest.mark.parametrize("machine", [CaseMachine, ProposalMachine, MotionMachine], ids=["aid", "proposal", "motion"])
def test_random_walks_keep_the_rules(app, db, machine):
    assert today()  # the suite's clock is frozen
    run = settings(max_examples=15, stateful_step_count=30, deadline=None, derandomize=True,
                   suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
    machine.TestCase.settings = run
    machine.TestCase().runTest()
    states = REACHED.pop(machine.kind, set())
    assert states - {"draft"}, states  # the walks left the draft state
