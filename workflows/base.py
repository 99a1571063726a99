"""Workflow definitions as data: states, transitions, roles, guards and input fields.

Pure Python on top of `transitions`; no Flask, no database. `casework.core.engine` applies them.
"""
from __future__ import annotations

from dataclasses import dataclass
from enum import Enum
from functools import cached_property, partial
from typing import Iterable

from transitions import Machine

# Roles held through an assignment at an org unit (GLOSSARY).
UNIT_ROLES = (
    "worker", "representative", "group_leader", "union_staff", "committee", "fund_manager",
    "evaluator", "motion_committee", "admin",
)
# Roles a person holds towards one case rather than at a unit; the engine decides who holds them.
PARTY_ROLES = (
    "applicant",      # aid: the worker the request is for
    "filer",          # aid: the group leader who applied on the worker's behalf
    "author",         # proposal / motion: who wrote it
    "cosigner_candidate",  # motion: a representative of the session who is not the author
    "cosigner",       # motion: who co-signed it; proposal: a co-proposer (both rate the reply)
    "assigned_evaluator",  # proposal: an evaluator assigned at accept
    "assigned_handler",    # proposal / motion: a handler of the department the case was given to
    "receiving_handler",   # proposal / motion: that handler while the department has not signed for it (签收)
    "co_handler",          # motion: a handler of a co-handling department whose opinion (会办意见) is awaited
    "visitor",        # aid: a person assigned to the verification visit
    "scheduler",      # automatic steps; never a person
)
# Roles that decide a case for others: nobody may act in them on a case they raised or co-signed.
REVIEW_ROLES = frozenset({
    "union_staff", "committee", "fund_manager", "evaluator", "motion_committee",
    "assigned_evaluator", "assigned_handler", "receiving_handler", "co_handler", "visitor", "group_leader",
})

# Who a step can tell besides the roles above (casework/notifications resolves each name): the co-signers
# of a motion, the committee members who voted in the round that carried, the author of the motion one
# was merged into, who drafted or submitted an upward report.
AUDIENCES = ("cosigners", "coproposers", "voters", "merge_target_author", "raters", "report_drafters")
# Steps that cannot be undone: the web form asks the person to confirm before firing them (the API does
# not: its callers confirm in their own way). Declared here once, read through `Transition.irreversible`.
IRREVERSIBLE_TRIGGERS = frozenset({
    "withdraw", "withdraw_consent", "reject", "decline", "not_adopt", "not_file", "uphold_objection",
})

FIELD_TYPES = ("text", "money", "date", "int", "usernames", "username", "choice", "department",
               "departments", "case", "bool")


@dataclass(frozen=True)
class Field:
    """An input a transition takes (API body key = name)."""
    name: str
    type: str = "text"
    required: bool = True
    choices: tuple[str, ...] = ()
    min: int | None = None
    max: int | None = None
    private: bool = False  # kept out of public pages and the applicant's view
    # A committee vote's position: votes agree when their decisive inputs agree (an amount, a choice),
    # never by their wording; every other input is the voter's own reason.
    decisive: bool = False
    # Still read from API callers of an older contract, never asked for on a page.
    api_only: bool = False

    def __post_init__(self):
        if self.type not in FIELD_TYPES:
            raise ValueError(f"unknown field type {self.type!r}")


@dataclass(frozen=True)
class Transition:
    trigger: str
    source: tuple[str, ...]
    dest: str
    roles: tuple[str, ...]
    guards: tuple[str, ...] = ()       # names the engine resolves; each refuses with a reason
    fields: tuple[Field, ...] = ()
    vote: bool = False                 # a committee decision: moves when the quorum agrees
    conditions: tuple[str, ...] = ()   # branch selectors (the same trigger, other dests)
    unless: tuple[str, ...] = ()
    effects: tuple[str, ...] = ()      # side-effect names the engine runs in the same transaction
    automatic: bool = False            # fired by the scheduler only
    comment_required: bool = False
    # A vote of another unit's committee than the case's: a name the engine resolves to that unit, whose
    # seats, quorum and role holders decide (the parent union's, for large aid).
    level: str = ""
    # Votes of these triggers on the same case bar their seats from this vote: a member of both
    # committees votes once on a case.
    once_with: tuple[str, ...] = ()

    @property
    def irreversible(self) -> bool:
        return self.trigger in IRREVERSIBLE_TRIGGERS

    def to_dict(self) -> dict:
        return {"trigger": self.trigger, "source": list(self.source), "dest": self.dest,
                "conditions": list(self.conditions), "unless": list(self.unless)}


@dataclass(frozen=True)
class Tell:
    """Who is told of a step. A party role or AUDIENCES name means those people; a unit role means whoever
    may act in it now (work has arrived). `when` names a guard that must pass after the step (e.g. the
    last evaluator's score) or a branch condition that must hold (e.g. the call-back's outcome)."""
    who: str
    when: str = ""


def tell(*who: str, when: str = "") -> tuple[Tell, ...]:
    return tuple(Tell(w, when) for w in who)


class Workflow:
    """One state machine per case type, shared by every case of that type."""

    def __init__(self, kind: str, states: type[Enum], initial: str,
                 transitions: Iterable[Transition], deadlines: dict[str, tuple[str, int]] | None = None,
                 final: Iterable[str] = (), notify: dict[str, Iterable[str | Tell]] | None = None):
        self.kind = kind
        self.states = states
        self.state_names = tuple(s.value for s in states)
        self.initial = initial
        self.transitions = tuple(transitions)
        # state -> (setting name, default working days); the engine reads per-unit overrides
        self.deadlines = dict(deadlines or {})
        self.final = frozenset(final)
        for t in self.transitions:
            for s in (*t.source, t.dest):
                if s not in self.state_names:
                    raise ValueError(f"{kind}: {t.trigger} names unknown state {s!r}")
            for r in t.roles:
                if r not in UNIT_ROLES and r not in PARTY_ROLES:
                    raise ValueError(f"{kind}: {t.trigger} names unknown role {r!r}")
        # trigger -> who is told (every branch of the trigger alike)
        self.notify: dict[str, tuple[Tell, ...]] = {}
        for trigger, who in (notify or {}).items():
            if trigger not in {t.trigger for t in self.transitions}:
                raise ValueError(f"{kind}: notify names unknown trigger {trigger!r}")
            tells = tuple(w if isinstance(w, Tell) else Tell(w) for w in who)
            for w in tells:
                if w.who not in UNIT_ROLES and w.who not in PARTY_ROLES and w.who not in AUDIENCES:
                    raise ValueError(f"{kind}: notify for {trigger} names unknown audience {w.who!r}")
            self.notify[trigger] = tells
        self.machine = Machine(model=None, states=list(self.state_names), initial=initial,
                               transitions=[{**t.to_dict(), "before": partial(_Subject.took, transition=t)}
                                            for t in self.transitions],
                               auto_transitions=False, send_event=False,
                               model_attribute="state", ignore_invalid_triggers=False)

    @property
    def triggers(self) -> tuple[str, ...]:
        seen: dict[str, None] = {}
        for t in self.transitions:
            seen.setdefault(t.trigger, None)
        return tuple(seen)

    @cached_property
    def standing(self) -> frozenset[str]:
        """Steps open in every state that leave the state as it is (a legal hold and its lifting): standing
        options of a case, not the next step of its work, so neither the next-step panel nor the work queue
        counts them."""
        out = set()
        for trigger in self.triggers:
            ts = [t for t in self.transitions if t.trigger == trigger]
            if all(t.source == (t.dest,) for t in ts) and set(self.state_names) <= {s for t in ts for s in t.source}:
                out.add(trigger)
        return frozenset(out)

    def candidates(self, trigger: str, state: str) -> list[Transition]:
        """The transitions `trigger` may take from `state`, in table order (branches by condition)."""
        return [t for t in self.transitions if t.trigger == trigger and state in t.source]

    def triggers_from(self, state: str) -> list[str]:
        out: list[str] = []
        for t in self.transitions:
            if state in t.source and t.trigger not in out:
                out.append(t.trigger)
        return out

    def take(self, state: str, trigger: str, conditions: dict[str, bool]) -> tuple[str, Transition | None]:
        """Fire `trigger` on the shared machine for a case in `state`: the machine picks the branch.

        `conditions` answers the branch selectors by name. Returns the new state and the transition
        taken, or (`state`, None) when no branch applies; raises transitions.MachineError when the
        trigger is not valid in `state`.
        """
        subject = _Subject(state, conditions)
        self.machine.events[trigger].trigger(subject, subject)
        return subject.state, subject.taken

    def run(self, state: str, trigger: str, conditions: dict[str, bool]) -> str:
        """The state `trigger` leads to from `state` (see `take`)."""
        return self.take(state, trigger, conditions)[0]

    def allowed_roles(self, trigger: str, state: str) -> set[str]:
        roles: set[str] = set()
        for t in self.candidates(trigger, state):
            roles.update(t.roles)
        return roles


class _Subject:
    """What the shared machine drives: a state and named conditions, nothing else."""

    def __init__(self, state: str, conditions: dict[str, bool]):
        self.state = state
        self._conditions = conditions
        self.taken: Transition | None = None

    def took(self, transition: Transition):
        self.taken = transition

    def __getattr__(self, name: str):
        conditions = self.__dict__.get("_conditions", {})
        if name in conditions:
            value = conditions[name]
            return lambda *a, **k: value
        raise AttributeError(name)
