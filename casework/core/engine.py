"""The one transition engine: every change of a case's state goes through `fire`, and so does every
change of another subject's (a register entry, a board posting: `core.models.Subject`).

It checks the role at the subject's unit (delegation honoured), conflict of interest (who raised it and
their declared relatives), the inputs, the guards; counts committee votes (`core.votes`); moves the shared
workflow machine; runs side effects; appends an entry to the subject's hash chain. It never commits: the
caller commits once, or rolls everything back.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any, Callable

from flask_babel import gettext as _
from sqlalchemy import event, inspect as sa_inspect
from sqlalchemy.orm import Session
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm.exc import StaleDataError

import workflows
from workflows.base import REVIEW_ROLES, Transition, Workflow

from ..accounts.models import Department, User
from ..clock import utcnow
from ..extensions import db
from ..labels import state_label
from ..ops.logs import log_event
from . import settings, votes as vote_service
from .errors import Conflict, Forbidden, Invalid, NotFound
from .inputs import Reader
from .models import GENESIS, AuditEntry, Case, entries_of, subject_key
from .permissions import roles_at

GuardFn = Callable[["Step"], "str | None"]
EffectFn = Callable[["Step"], None]
ConditionFn = Callable[["Step"], bool]

GUARDS: dict[str, GuardFn] = {}
EFFECTS: dict[str, EffectFn] = {}
CONDITIONS: dict[str, ConditionFn] = {}
PARTY_RESOLVERS: dict[str, Callable[[User, Case], bool]] = {}
# (kind or None, role) -> why `user` does not hold `role` towards `case` for `trigger`, or None.
RefusalFn = Callable[[User, Case, str], "str | None"]
REFUSALS: dict[tuple[str | None, str], RefusalFn] = {}
# (user, subject) -> True when `user` is related to someone who raised the subject (亲属回避); capabilities
# that know relations (declared relatives, the register's households) register one each.
CONFLICTS: list[Callable[[User, Any], bool]] = []
# A transition's `level` -> the unit whose committee votes on it (its seats, quorum and role holders).
LEVELS: dict[str, Callable[[Any], Any]] = {}
# (step, its audit entry, written) -> None: run in the step's transaction after every step of a case, a vote
# that does not carry yet included, so what capabilities derive from the steps (who is told, the statistics'
# aggregates) commits or rolls back with it.
AFTER_STEP: list[Callable[["Step", AuditEntry], None]] = []


def _registrar(table: dict):
    """A decorator factory: `@name("x")` files the function under "x" in `table`."""
    def named(name: str):
        def register(fn):
            table[name] = fn
            return fn
        return register
    return named


guard = _registrar(GUARDS)
effect = _registrar(EFFECTS)
condition = _registrar(CONDITIONS)
party = _registrar(PARTY_RESOLVERS)
level = _registrar(LEVELS)


def acting_unit(case, transition: Transition | None = None):
    """The unit whose roles and committee act on `transition` (the case's own unless the step names a
    level); without a transition, that of the case's current vote, if any."""
    if transition is None:
        wf = workflows.get(case.workflow_kind)
        transition = next((t for t in wf.transitions if t.vote and case.state in t.source), None)
    if transition is None or not transition.level:
        return case.unit
    return LEVELS[transition.level](case) or case.unit


def conflict(fn):
    CONFLICTS.append(fn)
    return fn


def after_step(fn):
    AFTER_STEP.append(fn)
    return fn


def _after(step: "Step", entry: AuditEntry) -> None:
    for hook in AFTER_STEP:
        hook(step, entry)


_RELATED = "casework_related"


def related(user: User | None, subject) -> bool:
    """Whether `user` is a declared relative of someone who raised `subject`. Each hook names everyone
    related to `user`; that is asked once per person and transaction, so a list of cases costs no more."""
    if user is None:
        return False
    raised = subject.raised_by()
    if not raised:
        return False
    cache = db.session.info.setdefault(_RELATED, {})
    if user.id not in cache:
        cache[user.id] = set().union(*(people(user) for people in CONFLICTS))
    return bool(cache[user.id] & raised)


@event.listens_for(Session, "after_transaction_end")
def _forget_related(session: Session, transaction):
    if transaction.parent is None:
        session.info.pop(_RELATED, None)


def refusal(role: str, kind: str | None = None):
    """Registers the specific reason given (403) when someone tries a step that needs `role` and does not
    hold it, e.g. an author co-signing their own motion; without one the reason is the generic one."""
    def register(fn: RefusalFn) -> RefusalFn:
        REFUSALS[(kind, role)] = fn
        return fn
    return register


def refusal_reason(user: User, case: Case, roles, trigger: str) -> str | None:
    for role in sorted(roles):
        explain = REFUSALS.get((case.workflow_kind, role)) or REFUSALS.get((None, role))
        if explain is not None and (reason := explain(user, case, trigger)):
            return reason
    return None


@dataclass
class Step:
    """What guards and effects see of one firing."""
    case: Case
    workflow: Workflow
    transition: Transition
    user: User | None
    role: str
    delegate_of: int | None
    data: dict[str, Any]
    comment: str
    now: datetime
    from_state: str = ""
    changes: dict[str, Any] = field(default_factory=dict)
    carried: list = field(default_factory=list)  # the votes that carried a committee decision

    @property
    def subject(self):
        return self.case

    @property
    def unit(self):
        """The unit whose committee takes this step (the case's, or the level the transition names)."""
        return acting_unit(self.case, self.transition)

    def setting(self, key: str):
        return settings.get(self.case.unit, key)

    def text(self, *fields: str) -> str:
        """The step's written words: the reasons of every vote that carried a committee decision, each
        voter's once; else the first of `fields` given, or the comment."""
        if self.carried:
            return "；".join(vote_service.reasons(self.carried, fields))
        return next((self.data[f] for f in fields if self.data.get(f)), "") or self.comment

    def record(self, name: str, old, new):
        if old != new:
            self.changes[name] = [_plain(old), _plain(new)]

    def set(self, name: str, value):
        """Sets the subject's `name` to `value`, noting the change for the audit entry."""
        self.record(name, getattr(self.case, name), value)
        setattr(self.case, name, value)


@dataclass
class Outcome:
    case: Case
    moved: bool
    trigger: str
    votes: int | None = None
    quorum: int | None = None
    tally: list[dict] | None = None  # for a vote: the current round by decisive inputs


def _plain(value):
    if isinstance(value, (date, datetime)):
        return value.isoformat()
    if isinstance(value, (User, Department)):
        return getattr(value, "username", None) or value.code
    if isinstance(value, Case):
        return value.number
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    return value


# -- who is acting ---------------------------------------------------------------------------

def held_roles(user: User | None, case: Case, wanted: set[str], unit=None) -> dict[str, int | None]:
    """The roles in `wanted` that `user` holds towards `case` (unit roles at `unit`, by default the
    case's): role -> delegate_of."""
    if user is None:
        return {"scheduler": None} if "scheduler" in wanted else {}
    held: dict[str, int | None] = {}
    for role in wanted:
        resolver = PARTY_RESOLVERS.get(role)
        if resolver is not None and resolver(user, case):
            held[role] = None
    at_unit = roles_at(user, unit or case.unit)
    held.update({r: d for r, d in at_unit.items() if r in wanted and r not in held})
    return held


@party("applicant")
def _is_applicant(user, case):
    return case.kind == "aid" and user.id == case.applicant_id


@party("filer")
def _is_filer(user, case):
    return case.kind == "aid" and user.id == case.created_by_id != case.applicant_id


@party("author")
def _is_author(user, case):
    return user.id == case.applicant_id


@party("assigned_evaluator")
def _is_evaluator(user, case):
    return user.id in case.party_ids("evaluator")


@party("visitor")
def _is_visitor(user, case):
    return user.id in case.party_ids("visitor")


@party("assigned_handler")
def _is_handler(user, case):
    return case.department_id is not None and case.department_id in user.department_ids()


@party("cosigner_candidate")
def _is_cosigner_candidate(user, case):
    if case.kind != "motion" or user.id == case.applicant_id:
        return False
    return "representative" in roles_at(user, case.session.unit)


def pick_role(user: User | None, case, wf: Workflow, trigger: str) -> tuple[str, int | None] | None:
    """The role in which `user` may fire `trigger` now, or None. Who raised the subject, and their
    declared relatives, never review it (回避)."""
    wanted = wf.allowed_roles(trigger, case.state)
    held = held_roles(user, case, wanted, _unit_of(case, wf, trigger))
    if not held:
        return None
    conflicted = user is not None and (user.id in case.raised_by() or (
        any(r in REVIEW_ROLES for r in held) and related(user, case)))
    for role, delegate_of in sorted(held.items(), key=lambda kv: (kv[0] in REVIEW_ROLES, kv[1] is not None)):
        if conflicted and role in REVIEW_ROLES:
            continue
        return role, delegate_of
    return None


def _unit_of(case, wf: Workflow, trigger: str):
    candidates = wf.candidates(trigger, case.state)
    return acting_unit(case, candidates[0]) if candidates else case.unit


def available(case, user: User | None) -> list[str]:
    """The triggers `user` may try now (guards aside), in table order; automatic ones excluded."""
    wf = workflows.get(case.workflow_kind)
    out = []
    for trigger in wf.triggers_from(case.state):
        if all(t.automatic for t in wf.candidates(trigger, case.state)):
            continue
        picked = pick_role(user, case, wf, trigger)
        if picked is not None and not _already_voted(case, user, wf, trigger, picked[1]) \
                and not _standing_refusal(case, user, wf, trigger, picked):
            out.append(trigger)
    return out


def _standing_refusal(case, user, wf, trigger, picked) -> str | None:
    """The first refusal of the trigger's guards that depend on no input (already rated, period over, ...):
    a step they refuse is not offered at all."""
    first = wf.candidates(trigger, case.state)[0]
    names = [g for g in first.guards if g in workflows.STANDING_GUARDS]
    if not names or user is None:
        return None
    step = Step(case=case, workflow=wf, transition=first, user=user, role=picked[0], delegate_of=picked[1],
                data={}, comment="", now=utcnow())
    return next((msg for g in names if (msg := GUARDS[g](step))), None)


def _already_voted(case, user, wf, trigger, delegate_of=None) -> bool:
    votes = [t for t in wf.candidates(trigger, case.state) if t.vote]
    if user is None or not votes:
        return False
    return (vote_service.voted(case, user, delegate_of) is not None
            or vote_service.voted_below(case, user, delegate_of, votes[0]) is not None)


# -- inputs ----------------------------------------------------------------------------------

def parse_inputs(t: Transition, raw: dict, case: Case) -> dict[str, Any]:
    """The transition's declared fields read from `raw` by the one reader pages and the API share."""
    return Reader(raw).fields(t.fields, case)


# -- firing ----------------------------------------------------------------------------------

def fire(case, trigger: str, user: User | None, raw: dict | None = None, *,
         version: int | None = None, comment: str = "") -> Outcome:
    try:
        return _fire(case, trigger, user, raw, version=version, comment=comment)
    except (StaleDataError, IntegrityError) as exc:
        # Another request changed the case first (version check, or the audit sequence): one wins.
        if isinstance(exc, IntegrityError) and "audit_entries" not in str(exc.orig) and \
                "votes" not in str(exc.orig):
            raise
        raise Conflict(_("This case was changed by someone else meanwhile. Reload it and try again."),
                       code="stale") from None


def lock_version(subject) -> int:
    """The subject's optimistic-lock version (its mapper's `version_id_col`)."""
    mapper = sa_inspect(type(subject))
    return getattr(subject, mapper.get_property_by_column(mapper.version_id_col).key)


def _fire(case, trigger: str, user: User | None, raw: dict | None, *,
          version: int | None, comment: str) -> Outcome:
    wf = workflows.get(case.workflow_kind)
    raw = raw or {}
    if trigger not in wf.triggers:
        raise NotFound(_("There is no action called %(name)s.", name=trigger), code="unknown_trigger")
    if version is not None and version != lock_version(case):
        raise Conflict(_("This case was changed by someone else meanwhile. Reload it and try again."),
                       code="stale")
    candidates = wf.candidates(trigger, case.state)
    if not candidates:
        raise Conflict(_("This action is not possible while the case is “%(state)s”.",
                         state=state_label(case.workflow_kind, case.state)), code="not_possible")
    if user is not None and all(t.automatic for t in candidates):
        raise Forbidden(_("This step is taken automatically by the system."), code="automatic")
    picked = pick_role(user, case, wf, trigger)
    if picked is None:
        wanted = wf.allowed_roles(trigger, case.state)
        unit = _unit_of(case, wf, trigger)
        if user is not None and user.id in case.raised_by() and held_roles(user, case, wanted, unit):
            raise Forbidden(_("You raised or co-signed this case, so you may not act on it as a reviewer."),
                            code="conflict_of_interest")
        if user is not None and held_roles(user, case, wanted, unit) and related(user, case):
            # Never says who: the relation is the declarer's own business.
            raise Invalid(_("Conflict of interest: you are a declared relative of someone this concerns, so "
                            "you may not act on it as a reviewer."), code="conflict_of_interest")
        reason = refusal_reason(user, case, wanted, trigger) if user is not None else None
        raise Forbidden(reason or _("You are not allowed to do this on this case."), code="role")
    role, delegate_of = picked
    first = candidates[0]
    comment = (comment or "").strip()
    if len(comment) > 5000:
        raise Invalid(_("The comment is too long (at most 5000 characters)."), fields={"comment": "too long"})
    if first.comment_required and not comment:
        raise Invalid(_("Please give a reason."), fields={"comment": _("This field is required.")})
    data = parse_inputs(first, raw, case)
    step = Step(case=case, workflow=wf, transition=first, user=user, role=role, delegate_of=delegate_of,
                data=data, comment=comment, now=utcnow(), from_state=case.state)

    reasons = [msg for name in first.guards if (msg := GUARDS[name](step))]
    if reasons:
        raise Invalid(" ".join(reasons), code="guard")

    outcome = Outcome(case=case, moved=False, trigger=trigger)
    if first.vote:
        plain = {f.name: _plain(data[f.name]) for f in first.fields if f.name in data}
        votes, quorum, carried = vote_service.cast(step, plain)
        outcome.votes, outcome.quorum = votes, quorum
        step.carried = carried
        if votes < quorum:
            _touch(case, step.now)
            entry = _audit(step, case.state, vote=True)
            _flush()
            _after(step, entry)
            outcome.tally = vote_service.tally(case)
            return outcome

    conds = {name: CONDITIONS[name](step) for t in candidates for name in (*t.conditions, *t.unless)}
    new_state, chosen = wf.take(case.state, trigger, conds)
    if chosen is None:
        raise Conflict(_("None of this action's outcomes applies to the case as it is now."),
                       code="not_possible")
    step.transition = chosen
    if first.vote:
        outcome.tally = vote_service.tally(case)
    if new_state != case.state:
        case.state = new_state
        case.state_seq += 1
        case.state_entered_at = step.now
        if hasattr(case, "deadline"):
            case.deadline = None  # a state's own deadline is set by its start_deadline effect
    _touch(case, step.now)
    for name in chosen.effects:
        EFFECTS[name](step)
    entry = _audit(step, new_state)
    _flush()
    _after(step, entry)
    outcome.moved = True
    log_event("transition", case=case.label, trigger=trigger, from_state=step.from_state, to_state=new_state,
              actor=user.username if user else "scheduler", role=role)
    return outcome


def _touch(case, now: datetime):
    # Always write the subject's row, so the version check guards every step, reflexive ones too.
    case.updated_at = now


def _flush():
    db.session.flush()


def _audit(step: Step, to_state: str, vote: bool = False, first: bool = False) -> AuditEntry:
    case = step.case
    kind, subject_id = subject_key(case)
    if first:
        last = None
    elif case.audit_hash is not None:
        # The head the case row carries: the version-checked UPDATE below proves nobody appended since.
        last = (case.audit_seq, case.audit_hash)
    else:  # the first step after creation, or a row from before the head existed
        with db.session.no_autoflush:  # the case's UPDATE waits, to carry the new head with it
            last = db.session.execute(
                entries_of(case).with_only_columns(AuditEntry.seq, AuditEntry.hash)
                .order_by(None).order_by(AuditEntry.seq.desc()).limit(1)).first()
    seq, prev = (last[0] + 1, last[1]) if last else (1, GENESIS)
    inputs = {}
    for f in step.transition.fields:
        if f.name in step.data:
            inputs[f.name] = _plain(step.data[f.name])
    changes = dict(step.changes)
    if inputs:
        changes["inputs"] = inputs
    private = [f.name for f in step.transition.fields if f.private]
    if private:
        changes["private"] = private
    if step.delegate_of is not None:
        # Both people, in the hashed content: the delegate acted for the seat of this member.
        changes["on_behalf_of"] = _plain(db.session.get(User, step.delegate_of))
    entry = AuditEntry(case_id=subject_id if kind is None else None, subject_kind=kind,
                       subject_id=None if kind is None else subject_id, seq=seq, at=step.now, actor_id=step.user.id if step.user else None,
                       delegate_of_id=step.delegate_of,
                       actor_label=step.user.username if step.user else "scheduler",
                       trigger=step.transition.trigger, from_state=step.from_state, to_state=to_state,
                       comment=step.comment, changes=changes, prev_hash=prev)
    entry.hash = entry.compute_hash()
    db.session.add(entry)
    if not first:
        case.audit_seq, case.audit_hash = seq, entry.hash
    return entry


def record_creation(case, user: User | None, comment: str = "", changes: dict | None = None) -> AuditEntry:
    """The first audit entry of a new case (its draft), or of another subject in the state it starts in;
    `changes` binds what came with it (e.g. the number and hash of a notice issued with it) into the chain."""
    wf = workflows.get(case.workflow_kind)
    state = case.state or wf.initial
    t = Transition("create", (state,), state, ("author",) if user is not None else ("scheduler",))
    step = Step(case=case, workflow=wf, transition=t, user=user, role=t.roles[0], delegate_of=None, data={},
                comment=comment, now=utcnow(), from_state=state, changes=dict(changes or {}))
    db.session.flush()
    entry = _audit(step, state, first=True)
    # Written now: a step in the same transaction reads the chain without flushing (see `_audit`).
    db.session.flush()
    return entry


def record_amendment(case, user: User, fields: list[str]) -> AuditEntry:
    """The author changed the named fields of a case that left its draft (a request returned for information):
    a reflexive entry in the chain, naming the fields, not their values (those may be private)."""
    wf = workflows.get(case.workflow_kind)
    t = Transition("amend", (case.state,), case.state, ("applicant",))
    now = utcnow()
    step = Step(case=case, workflow=wf, transition=t, user=user, role=t.roles[0], delegate_of=None, data={},
                comment="", now=now, from_state=case.state, changes={"amended": list(fields)})
    _touch(case, now)
    entry = _audit(step, case.state)
    _flush()
    return entry


def check_registry() -> None:
    """Every guard, effect and condition the workflows name must be implemented: fail at start-up."""
    missing = (sorted((workflows.GUARDS | workflows.SUBJECT_GUARDS) - GUARDS.keys())
               + sorted((workflows.EFFECTS | workflows.SUBJECT_EFFECTS) - EFFECTS.keys())
               + sorted((workflows.CONDITIONS | workflows.SUBJECT_CONDITIONS) - CONDITIONS.keys())
               + sorted(workflows.LEVELS - LEVELS.keys()))
    if missing:
        raise RuntimeError(f"workflow rules without an implementation: {', '.join(missing)}")
