"""The workflow tables against shared/design/WORKFLOWS.md.

The expected tables below are copied from WORKFLOWS.md by hand (plus the trigger names the project gave the
unnamed steps), not derived from `workflows`, so a slip in either shows up as a failure here.
"""
from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from collections import deque
from pathlib import Path

import pytest
from transitions import MachineError

import workflows
from workflows import base, proposal
from workflows.ratings import AFTER_FINAL

ROOT = Path(__file__).resolve().parents[2]

ROLES = (
    "worker", "representative", "group_leader", "union_staff", "committee", "fund_manager",
    "evaluator", "motion_committee", "admin",
    "applicant", "filer", "author", "cosigner_candidate", "cosigner", "assigned_evaluator", "assigned_handler",
    "receiving_handler", "co_handler", "visitor", "scheduler",
)

# ----------------------------------------------------------------------------------------------------
# Expected tables: (from state, trigger) -> roles allowed.

AID_STATES = ("draft", "submitted", "returned", "verifying", "pending_approval", "parent_approval", "posting",
              "objection_review", "approved", "disbursed", "closed", "rejected", "withdrawn")
AID = {
    ("draft", "submit"): {"applicant", "filer"},
    ("submitted", "return_for_info"): {"union_staff"},
    ("returned", "resubmit"): {"applicant"},
    ("submitted", "start_verification"): {"union_staff"},
    ("verifying", "record_visit"): {"union_staff", "group_leader"},
    ("verifying", "verify"): {"union_staff"},
    ("pending_approval", "approve"): {"committee"},
    ("pending_approval", "reject"): {"committee"},
    # Multi-level approval: above the unit's threshold the parent union's committee votes next.
    ("parent_approval", "parent_approve"): {"committee"},
    ("parent_approval", "parent_reject"): {"committee"},
    ("posting", "object"): {"scheduler"},
    ("objection_review", "dismiss_objection"): {"committee"},
    ("objection_review", "uphold_objection"): {"committee"},
    ("posting", "end_posting"): {"scheduler"},
    ("approved", "disburse"): {"fund_manager"},
    ("disbursed", "confirm_receipt"): {"applicant", "union_staff"},
    ("disbursed", "auto_close"): {"scheduler"},
    ("draft", "withdraw"): {"applicant", "filer"},
    ("submitted", "withdraw"): {"applicant", "filer"},
    ("returned", "withdraw"): {"applicant", "filer"},
    ("verifying", "withdraw"): {"applicant", "filer"},
    # Withdrawing the separate consent (PIPL art. 15) ends processing until the committee has decided.
    **{(state, "withdraw_consent"): {"applicant"}
       for state in ("draft", "submitted", "returned", "verifying", "pending_approval", "parent_approval")},
    # Retention (PIPL art. 47): staff place and lift a legal hold in any state; the sweep anonymises
    # closed cases after their period. All reflexive.
    **{(state, "place_hold"): {"union_staff"} for state in AID_STATES},
    **{(state, "lift_hold"): {"union_staff"} for state in AID_STATES},
    **{(state, "anonymise"): {"scheduler"} for state in ("closed", "rejected", "withdrawn")},
}

PROPOSAL_STATES = ("draft", "submitted", "declined", "evaluating", "graded", "implementing", "not_adopted",
                   "implemented", "rewarded", "closed")
PROPOSAL = {
    ("draft", "submit"): {"author"},
    ("submitted", "accept"): {"union_staff"},
    ("submitted", "decline"): {"union_staff"},
    ("evaluating", "score"): {"assigned_evaluator"},
    ("evaluating", "grade"): {"union_staff"},
    ("graded", "adopt"): {"committee"},
    ("graded", "not_adopt"): {"committee"},
    ("implementing", "acknowledge"): {"receiving_handler"},
    ("implementing", "return_misrouted"): {"assigned_handler"},
    ("implementing", "report_implemented"): {"assigned_handler"},
    ("implementing", "progress"): {"assigned_handler"},  # 办理进展 (issue 18)
    ("implemented", "reward"): {"committee"},
    ("rewarded", "close"): {"scheduler"},
    # The proposer and co-proposers rate the reply; a call-back's fix hands the proposal back.
    **{(state, "rate"): {"author", "cosigner"}
       for state in ("declined", "not_adopted", "implemented", "rewarded", "closed")},
    **{(state, "rehandle"): {"scheduler"} for state in ("declined", "not_adopted", "implemented")},
}

MOTION_STATES = ("draft", "cosigning", "submitted", "lapsed", "handling", "merged", "opinion", "not_filed",
                 "replied", "closed")
MOTION = {
    ("draft", "open_for_cosigning"): {"author"},
    ("cosigning", "cosign"): {"cosigner_candidate"},
    ("cosigning", "withdraw_cosign"): {"cosigner_candidate"},
    ("cosigning", "submit"): {"author"},
    ("cosigning", "lapse"): {"scheduler"},
    ("submitted", "file"): {"motion_committee"},
    ("submitted", "merge"): {"motion_committee"},
    ("submitted", "convert_to_opinion"): {"motion_committee"},
    ("submitted", "not_file"): {"motion_committee"},
    ("handling", "acknowledge"): {"receiving_handler"},
    ("handling", "return_misrouted"): {"assigned_handler"},
    ("handling", "contribute"): {"co_handler"},
    ("handling", "reply"): {"assigned_handler"},
    ("opinion", "reply"): {"assigned_handler"},
    ("handling", "progress"): {"assigned_handler"},  # 办理进展
    ("opinion", "progress"): {"assigned_handler"},
    ("replied", "rate"): {"author", "cosigner"},
    ("closed", "rate"): {"author", "cosigner"},
    ("replied", "rate_unsatisfied"): {"author"},
    ("replied", "auto_close"): {"scheduler"},
    **{(state, "rehandle"): {"scheduler"} for state in ("replied", "closed", "handling")},
}

SPECS = {
    "aid": (AID_STATES, AID),
    "proposal": (PROPOSAL_STATES, PROPOSAL),
    "motion": (MOTION_STATES, MOTION),
}

FINAL = {
    "aid": {"closed", "rejected", "withdrawn"},
    "proposal": {"declined", "not_adopted", "closed"},
    "motion": {"closed", "merged", "not_filed", "lapsed"},
}

VOTES = {
    "aid": {"approve", "reject", "dismiss_objection", "uphold_objection", "parent_approve", "parent_reject"},
    "proposal": {"adopt", "not_adopt", "reward"},
    "motion": set(),
}

AUTOMATIC = {
    "aid": {"object", "end_posting", "auto_close", "anonymise"},
    "proposal": {"close", "rehandle"},
    "motion": {"lapse", "auto_close", "rehandle"},
}

DEADLINES = {
    "aid": {"submitted": ("aid_intake_days", 5), "posting": ("posting_days", 5),
            "objection_review": ("objection_answer_days", 5), "disbursed": ("aid_receipt_days", 10)},
    "proposal": {"evaluating": ("proposal_evaluation_days", 10)},
    "motion": {"handling": ("motion_handling_days", 30), "replied": ("motion_rating_days", 10)},
}

# trigger -> {field: (type, required)}; triggers not listed take no fields.
FIELDS = {
    "aid": {
        "return_for_info": {"reason": ("text", True)},
        "start_verification": {"visitors": ("usernames", False)},
        "record_visit": {"visited_on": ("date", True), "visitors": ("usernames", True),
                         "findings": ("text", True)},
        "verify": {"proposed_amount": ("money", True)},
        "approve": {"amount": ("money", True)},
        "reject": {"reason": ("text", True)},
        "parent_approve": {"amount": ("money", True)},
        "parent_reject": {"reason": ("text", True)},
        "dismiss_objection": {"answer": ("text", True)},
        "uphold_objection": {"answer": ("text", True), "reconsider": ("bool", False)},
        "disburse": {"method": ("choice", True), "reference": ("text", True)},
    },
    "proposal": {
        "accept": {"evaluators": ("usernames", True)},
        "decline": {"reply": ("text", True)},
        "score": {"score": ("int", True), "comment": ("text", True)},
        "adopt": {"department": ("department", True), "deadline": ("date", True)},
        "not_adopt": {"reply": ("text", True)},
        "report_implemented": {"result": ("text", True), "benefit": ("money", True)},
        # The reason of a return is required by a guard, which says what it is for.
        "return_misrouted": {"reason": ("text", False)},
        "reward": {"bonus": ("money", False)},
        "progress": {"text": ("text", True)},
        "rate": {"attitude": ("choice", False), "result": ("choice", False)},
        "rehandle": {"deadline": ("date", True)},
    },
    "motion": {
        "file": {"department": ("department", True), "co_departments": ("departments", False),
                 "deadline": ("date", False)},
        "merge": {"into": ("case", True)},
        "convert_to_opinion": {"department": ("department", True)},
        "not_file": {"reason": ("text", True)},
        "reply": {"text": ("text", True)},
        "return_misrouted": {"reason": ("text", False)},
        "contribute": {"text": ("text", True)},
        "rate": {"attitude": ("choice", False), "result": ("choice", False),
                 "satisfaction": ("choice", False)},
        "progress": {"text": ("text", True)},
        "rehandle": {"deadline": ("date", True)},
    },
}


def _combos():
    for kind, (states, table) in SPECS.items():
        triggers = sorted({trigger for _, trigger in table})
        for state in states:
            for trigger in triggers:
                for role in ROLES:
                    yield pytest.param(kind, state, trigger, role, id=f"{kind}-{state}-{trigger}-{role}")


def _expected(kind, state, trigger, role):
    table = SPECS[kind][1]
    if (state, trigger) not in table:
        return f"not possible in state {state}"
    if role not in table[(state, trigger)]:
        return "role not allowed"
    return "allowed"


def _actual(wf, state, trigger, role):
    if not wf.candidates(trigger, state):
        return f"not possible in state {state}"
    if role not in wf.allowed_roles(trigger, state):
        return "role not allowed"
    return "allowed"


# ----------------------------------------------------------------------------------------------------
# Who may do what in which state.

def test_roles_are_the_base_roles():
    assert set(ROLES) == set(base.UNIT_ROLES) | set(base.PARTY_ROLES)


@pytest.mark.parametrize("kind,state,trigger,role", list(_combos()))
def test_role_table(kind, state, trigger, role):
    assert _actual(workflows.get(kind), state, trigger, role) == _expected(kind, state, trigger, role)


@pytest.mark.parametrize("kind", SPECS)
def test_states_are_those_of_the_doc(kind):
    wf = workflows.get(kind)
    assert wf.state_names == SPECS[kind][0]
    assert wf.initial == "draft"
    # Names equal values so `transitions` (which resolves Enum states by name) and our strings agree.
    assert all(s.name == s.value for s in wf.states)


@pytest.mark.parametrize("kind", SPECS)
def test_no_trigger_beyond_the_doc(kind):
    wf = workflows.get(kind)
    table = SPECS[kind][1]
    assert set(wf.triggers) == {trigger for _, trigger in table}
    actual = {(s, t.trigger) for t in wf.transitions for s in t.source}
    assert actual == set(table)


@pytest.mark.parametrize("kind", SPECS)
def test_every_state_reachable_from_draft(kind):
    wf = workflows.get(kind)
    seen, todo = {"draft"}, deque(["draft"])
    while todo:
        state = todo.popleft()
        for t in wf.transitions:
            if state in t.source and t.dest not in seen:
                seen.add(t.dest)
                todo.append(t.dest)
    assert seen == set(SPECS[kind][0])


@pytest.mark.parametrize("kind", SPECS)
def test_final_states(kind):
    wf = workflows.get(kind)
    assert wf.final == FINAL[kind]
    for state in wf.state_names:
        if state in FINAL[kind]:
            # A final state is left by no step but a call-back's re-handling; reflexive upkeep (legal hold,
            # anonymisation, a rating of the reply) remains.
            assert all(t.dest == state or t.trigger in AFTER_FINAL for t in wf.transitions if state in t.source), state
        else:
            assert wf.triggers_from(state), f"{state} is a dead end but not final"


@pytest.mark.parametrize("kind", SPECS)
def test_votes_and_automatic_steps(kind):
    wf = workflows.get(kind)
    assert {t.trigger for t in wf.transitions if t.vote} == VOTES[kind]
    assert {t.trigger for t in wf.transitions if t.automatic} == AUTOMATIC[kind]
    for t in wf.transitions:
        # The scheduler is never a person: scheduler steps are automatic and nobody else's.
        assert t.automatic == ("scheduler" in t.roles), t.trigger
        assert not t.automatic or t.roles == ("scheduler",), t.trigger
        if t.vote:
            assert t.roles == ("committee",), t.trigger


@pytest.mark.parametrize("kind", SPECS)
def test_branches_agree_on_roles_vote_and_fields(kind):
    # The engine checks permission and input before it knows which branch applies.
    wf = workflows.get(kind)
    for state in wf.state_names:
        for trigger in wf.triggers_from(state):
            cands = wf.candidates(trigger, state)
            assert len({(c.roles, c.vote, c.fields, c.automatic) for c in cands}) == 1, (state, trigger)
            if len(cands) > 1:
                assert all(c.conditions or c.unless for c in cands), (state, trigger)


# ----------------------------------------------------------------------------------------------------
# Branches and the machine.

@pytest.mark.parametrize("kind,state,trigger,conditions,dest", [
    ("aid", "objection_review", "dismiss_objection", {"posting_open": True}, "posting"),
    ("aid", "objection_review", "dismiss_objection", {"posting_open": False}, "approved"),
    ("aid", "objection_review", "uphold_objection", {"reconsider": True}, "pending_approval"),
    ("aid", "objection_review", "uphold_objection", {"reconsider": False}, "rejected"),
    ("aid", "draft", "submit", {}, "submitted"),
    ("aid", "posting", "object", {}, "objection_review"),
    ("aid", "posting", "end_posting", {}, "approved"),
    ("aid", "disbursed", "auto_close", {}, "closed"),
    ("aid", "verifying", "record_visit", {}, "verifying"),
    ("aid", "verifying", "withdraw", {}, "withdrawn"),
    ("proposal", "evaluating", "grade", {}, "graded"),
    ("proposal", "rewarded", "close", {}, "closed"),
    ("motion", "replied", "rate", {"by_cosigner": False}, "closed"),
    ("motion", "replied", "rate", {"by_cosigner": True}, "replied"),
    ("motion", "replied", "rate_unsatisfied", {}, "handling"),
    ("motion", "opinion", "reply", {}, "replied"),
    ("motion", "cosigning", "lapse", {}, "lapsed"),
    ("motion", "cosigning", "cosign", {}, "cosigning"),
])
def test_run_selects_dest(kind, state, trigger, conditions, dest):
    wf = workflows.get(kind)
    assert wf.run(state, trigger, conditions) == dest
    # Enum members work as well as their values.
    assert wf.run(wf.states(state), trigger, conditions) == dest


@pytest.mark.parametrize("kind,state,trigger", [
    ("aid", "approved", "approve"),
    ("aid", "closed", "withdraw"),
    ("proposal", "graded", "score"),
    ("motion", "closed", "rate_unsatisfied"),
])
def test_run_refuses_trigger_not_valid_in_state(kind, state, trigger):
    with pytest.raises(MachineError):
        workflows.get(kind).run(state, trigger, {})


@pytest.mark.parametrize("kind", SPECS)
def test_no_auto_transitions(kind):
    wf = workflows.get(kind)
    events = set(wf.machine.events)
    assert events == set(wf.triggers)
    assert not [e for e in events if e.startswith("to_")]
    assert wf.machine.auto_transitions is False


def test_importing_workflows_loads_neither_flask_nor_sqlalchemy():
    code = textwrap.dedent("""
        import sys
        import workflows
        banned = {"flask", "sqlalchemy", "flask_sqlalchemy", "casework"}
        print(sorted(m for m in sys.modules if m.split(".")[0] in banned))
    """)
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True,
                         env={**os.environ, "PYTHONPATH": str(ROOT)})
    assert out.stdout.strip() == "[]", out.stdout


# ----------------------------------------------------------------------------------------------------
# Names the engine must implement.

def _used(attr):
    return {n for wf in workflows.WORKFLOWS.values() for t in wf.transitions for n in getattr(t, attr)}


def test_guards_registry_is_exact():
    assert _used("guards") == workflows.GUARDS
    assert isinstance(workflows.GUARDS, frozenset)
    # offered only when they pass: real guard names (of a case workflow or a subject's)
    assert workflows.STANDING_GUARDS <= workflows.GUARDS | workflows.SUBJECT_GUARDS


def test_effects_registry_is_exact():
    assert _used("effects") == workflows.EFFECTS
    assert isinstance(workflows.EFFECTS, frozenset)


def test_conditions_registry_is_exact():
    assert _used("conditions") | _used("unless") == workflows.CONDITIONS == {"posting_open", "reconsider",
                                                                                   "above_threshold", "by_cosigner"}


@pytest.mark.parametrize("name", sorted(workflows.GUARDS | workflows.EFFECTS | workflows.CONDITIONS))
def test_names_are_snake_case(name):
    assert name.isidentifier() and name == name.lower()


@pytest.mark.parametrize("kind,trigger,guards", [
    ("aid", "submit", {"required_fields", "required_documents"}),
    ("aid", "verify", {"visit_recorded", "amount_within_cap"}),
    ("aid", "approve", {"amount_within_cap", "fund_has_free_balance"}),
    ("aid", "object", {"posting_open"}),
    ("aid", "end_posting", {"posting_period_ended", "no_open_objection"}),
    ("aid", "auto_close", {"receipt_period_passed"}),
    ("proposal", "grade", {"all_evaluators_scored"}),
    ("proposal", "adopt", {"grade_at_least_general", "not_returned_by"}),
    ("proposal", "acknowledge", {"not_acknowledged"}),
    ("proposal", "return_misrouted", {"return_reason_given", "within_return_window"}),
    ("proposal", "report_implemented", {"acknowledged"}),
    ("motion", "file", {"not_returned_by"}),
    ("motion", "acknowledge", {"lead_handler", "not_acknowledged"}),
    ("motion", "return_misrouted", {"lead_handler", "return_reason_given", "within_return_window"}),
    ("motion", "contribute", {"opinion_awaited"}),
    ("motion", "reply", {"lead_handler", "acknowledged", "opinions_in"}),
    ("motion", "submit", {"enough_cosigners"}),
    ("motion", "cosign", {"not_cosigned_yet"}),
    ("motion", "withdraw_cosign", {"has_cosigned"}),
    ("motion", "lapse", {"cosigning_window_ended", "too_few_cosigners"}),
    ("motion", "rate_unsatisfied", {"not_reopened_before"}),
    ("motion", "auto_close", {"rating_period_passed"}),
])
def test_rule_guards(kind, trigger, guards):
    for t in workflows.get(kind).transitions:
        if t.trigger == trigger:
            assert guards <= set(t.guards), t


@pytest.mark.parametrize("kind,trigger,effects", [
    ("aid", "approve", {"reserve_funds", "join_disclosure", "issue_notice"}),
    ("aid", "parent_approve", {"reserve_funds", "join_disclosure", "issue_notice"}),
    ("aid", "parent_reject", {"issue_notice"}),
    ("aid", "uphold_objection", {"release_reservation", "answer_objection", "publish_correction"}),
    ("aid", "dismiss_objection", {"answer_objection"}),
    ("proposal", "reward", {"join_disclosure"}),
    ("aid", "disburse", {"debit_fund", "start_deadline", "issue_notice"}),
    ("aid", "withdraw", {"release_reservation"}),
    ("aid", "withdraw_consent", {"release_reservation", "erase_sensitive"}),
    ("aid", "reject", {"issue_notice"}),
    ("aid", "anonymise", {"anonymise"}),
    ("aid", "place_hold", {"place_hold"}),
    ("aid", "lift_hold", {"lift_hold"}),
    ("proposal", "accept", {"assign_evaluators"}),
    ("proposal", "grade", {"compute_grade"}),
    ("proposal", "decline", {"record_reply", "issue_notice"}),
    ("proposal", "not_adopt", {"record_reply", "issue_notice"}),
    ("proposal", "reward", {"pay_reward", "issue_notice"}),
    ("motion", "file", {"assign_department", "route_to_department", "issue_notice"}),
    ("proposal", "adopt", {"assign_department", "route_to_department"}),
    ("motion", "acknowledge", {"record_receipt"}),
    ("proposal", "acknowledge", {"record_receipt"}),
    ("motion", "return_misrouted", {"record_return"}),
    ("proposal", "return_misrouted", {"record_return"}),
    ("motion", "contribute", {"record_opinion"}),
    ("motion", "not_file", {"record_reply", "issue_notice"}),
    ("motion", "merge", {"merge_into"}),
    ("motion", "reply", {"record_reply", "note_missing_opinions", "issue_notice"}),
    ("motion", "rate_unsatisfied", {"reopen"}),
    ("motion", "progress", {"record_progress"}),
    ("proposal", "progress", {"record_progress"}),
])
def test_rule_effects(kind, trigger, effects):
    for t in workflows.get(kind).transitions:
        if t.trigger == trigger and t.dest != "parent_approval":  # the referral: below
            assert effects <= set(t.effects), t


def test_above_the_threshold_approval_refers_and_the_parent_votes_apart():
    """The referral reserves nothing (the parent's fund pays when the parent decides); the parent's votes are
    its own level's, and whoever voted below is barred from them."""
    wf = workflows.get("aid")
    (refer,) = [t for t in wf.transitions if t.dest == "parent_approval" and t.source != (t.dest,)]
    assert (refer.trigger, refer.conditions, refer.effects) == ("approve", ("above_threshold",),
                                                                ("refer_to_parent",))
    (alone,) = [t for t in wf.candidates("approve", "pending_approval") if t.dest == "posting"]
    assert alone.unless == ("above_threshold",)
    for trigger in ("parent_approve", "parent_reject"):
        (t,) = wf.candidates(trigger, "parent_approval")
        assert t.vote and t.level == "parent_union" and t.once_with == ("approve", "reject")
    # Every level a table names, and no other: the parent union's vote on aid, the upper union's review of an
    # upward report.
    used = {t.level for wf in (*workflows.WORKFLOWS.values(), *workflows.SUBJECTS.values())
            for t in wf.transitions if t.level}
    assert workflows.LEVELS == used == {"parent_union", "upper_union"}


def test_notices_are_issued_exactly_at_their_steps():
    """A written notice at each step that owes one (every ending has a letter); the effect runs last, after the
    effects that set what it prints. Upholding an objection issues a rejection only on its branch to `rejected`."""
    owed = {("aid", "approve", "posting"), ("aid", "reject", "rejected"), ("aid", "uphold_objection", "rejected"),
            ("aid", "parent_approve", "posting"), ("aid", "parent_reject", "rejected"),
            ("aid", "disburse", "disbursed"), ("proposal", "decline", "declined"),
            ("proposal", "not_adopt", "not_adopted"), ("proposal", "reward", "rewarded"),
            ("motion", "file", "handling"), ("motion", "not_file", "not_filed"), ("motion", "reply", "replied")}
    found = {(k, t.trigger, t.dest) for k, wf in workflows.WORKFLOWS.items() for t in wf.transitions
             if "issue_notice" in t.effects}
    assert found == owed
    for k, wf in workflows.WORKFLOWS.items():
        for t in wf.transitions:
            if "issue_notice" in t.effects:
                assert t.effects[-1] == "issue_notice", t


# ----------------------------------------------------------------------------------------------------
# Fields and deadlines.

@pytest.mark.parametrize("kind", SPECS)
def test_fields(kind):
    wf = workflows.get(kind)
    for t in wf.transitions:
        actual = {f.name: (f.type, f.required) for f in t.fields}
        assert actual == FIELDS[kind].get(t.trigger, {}), t.trigger


def _field(kind, trigger, name):
    return next(f for t in workflows.get(kind).transitions if t.trigger == trigger for f in t.fields
                if f.name == name)


def test_field_details():
    assert _field("aid", "record_visit", "visitors").min == 2
    assert _field("aid", "record_visit", "findings").private is True
    assert set(_field("aid", "disburse", "method").choices) == {"bank_transfer", "cash", "other"}
    assert _field("proposal", "accept", "evaluators").min == 1
    score = _field("proposal", "score", "score")
    assert (score.min, score.max) == (0, 100)
    assert set(_field("motion", "rate", "satisfaction").choices) == {"satisfied", "basically_satisfied"}
    private = {(k, t.trigger, f.name) for k, wf in workflows.WORKFLOWS.items() for t in wf.transitions
               for f in t.fields if f.private}
    assert private == {("aid", "record_visit", "findings")}


@pytest.mark.parametrize("kind", SPECS)
def test_deadlines(kind):
    assert workflows.get(kind).deadlines == DEADLINES[kind]


@pytest.mark.parametrize("kind", SPECS)
def test_start_deadline_only_where_a_deadline_exists(kind):
    wf = workflows.get(kind)
    for t in wf.transitions:
        if "start_deadline" in t.effects:
            has_date = any(f.name == "deadline" and f.type == "date" for f in t.fields)
            assert t.dest in wf.deadlines or has_date, t.trigger
        elif t.dest in wf.deadlines and t.dest not in t.source:
            # posting's period belongs to the disclosure the case joins; a dismissed objection resumes it.
            # Handling routed to a department starts at the receipt (签收), not at the routing.
            assert t.dest == "posting" or "route_to_department" in t.effects, t.trigger


# ----------------------------------------------------------------------------------------------------
# Grades and rewards.

@pytest.mark.parametrize("mean,grade", [
    (100, "excellent"), (85, "excellent"), (84.99, "good"), (70, "good"), (69.999, "general"),
    (60, "general"), (59.99, "not_adopted"), (0, "not_adopted"),
])
def test_grade_for_defaults(mean, grade):
    assert proposal.grade_for(mean) == grade


def test_grade_for_custom_thresholds():
    assert proposal.grade_for(80, thresholds=(80, 65, 50)) == "excellent"
    assert proposal.grade_for(64.9, thresholds=(80, 65, 50)) == "general"
    assert proposal.grade_for(49, thresholds=(80, 65, 50)) == "not_adopted"


@pytest.mark.parametrize("thresholds", [(60, 70, 85), (85, 85, 60), (85, 70, 70)])
def test_grade_for_rejects_unordered_thresholds(thresholds):
    with pytest.raises(ValueError):
        proposal.grade_for(75, thresholds=thresholds)


def test_grade_labels_and_rewards(app):
    from casework.labels import GRADE_LABELS, in_chinese
    with app.test_request_context():
        assert {g: in_chinese(GRADE_LABELS, g) for g in GRADE_LABELS} == {
            "excellent": "优秀", "good": "良好", "general": "一般", "not_adopted": "不采纳"}
    assert proposal.DEFAULT_REWARDS == {"excellent": 50000, "good": 20000, "general": 5000}


# ----------------------------------------------------------------------------------------------------
# The registry.

def test_registry():
    assert set(workflows.WORKFLOWS) == {"aid", "proposal", "motion"}
    for kind, wf in workflows.WORKFLOWS.items():
        assert workflows.get(kind) is wf
        assert wf.kind == kind


def test_get_unknown_kind():
    with pytest.raises(KeyError):
        workflows.get("petition")
