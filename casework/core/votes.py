"""The one vote service: every committee decision (a case's, a register entry's, a board posting's).

A vote belongs to a seat, a committee member at the unit: the voter's own, or the absent member's whose
delegate votes for them; a seat votes once per round (the member or the delegate, never both). Votes agree
when their decisive inputs agree (the fields a workflow marks `decisive`), never their wording: each voter's
reason is kept with the vote, and the decision's reply quotes the reasons of the votes that carried it. A vote
that can no longer change the outcome (its position cannot reach the quorum with the seats still to vote) is
refused with the reason.
"""
from __future__ import annotations

import hashlib
import json
from typing import TYPE_CHECKING

from flask_babel import gettext as _
from sqlalchemy import func, select

from ..accounts.models import RoleAssignment, User
from ..extensions import db
from .errors import Conflict, Invalid
from .models import Vote, subject_key

if TYPE_CHECKING:
    from .engine import Step

def _where(subject):
    kind, sid = subject_key(subject)
    if kind is None:
        return [Vote.case_id == sid, Vote.round == subject.state_seq]
    return [Vote.subject_kind == kind, Vote.subject_id == sid, Vote.round == subject.state_seq]


def round_votes(subject) -> list[Vote]:
    """The votes of the subject's current round, oldest first."""
    return db.session.scalars(select(Vote).where(*_where(subject)).order_by(Vote.at, Vote.id)).all()


def seat_of(user: User, delegate_of: int | None) -> int:
    return delegate_of or user.id


def voted(subject, user: User, delegate_of: int | None) -> Vote | None:
    """This round's vote of the seat `user` would vote for (or of `user` themselves), if any."""
    seat = seat_of(user, delegate_of)
    return db.session.scalar(select(Vote).where(*_where(subject), (Vote.seat_id == seat) | (Vote.user_id == user.id))
                             .limit(1))


def voted_below(subject, user: User, delegate_of: int | None, transition) -> Vote | None:
    """A vote of the seat (or of `user`) on this case in one of the triggers `transition.once_with` names,
    in any round: a member of both committees votes once on a case."""
    if not transition.once_with:
        return None
    kind, sid = subject_key(subject)
    where = [Vote.case_id == sid] if kind is None else [Vote.subject_kind == kind, Vote.subject_id == sid]
    seat = seat_of(user, delegate_of)
    return db.session.scalar(select(Vote).where(*where, Vote.trigger.in_(transition.once_with),
                                                (Vote.seat_id == seat) | (Vote.user_id == user.id)).limit(1))


def split_inputs(transition, plain: dict) -> tuple[dict, dict]:
    """(decisive inputs, the voter's own words) of one vote's plain inputs."""
    decisive, texts = {}, {}
    for f in transition.fields:
        if f.name in plain:
            (decisive if f.decisive else texts)[f.name] = plain[f.name]
    return decisive, texts


def position(trigger: str, decisive: dict) -> str:
    blob = json.dumps(decisive, sort_keys=True, ensure_ascii=False, separators=(",", ":"), default=str)
    return f"{trigger}:{hashlib.sha256(blob.encode()).hexdigest()}"


def tally(subject) -> list[dict]:
    """The current round by position, most votes first: `trigger`, `inputs` (decisive), `votes`."""
    return tally_of(round_votes(subject))


def tally_of(votes: list[Vote]) -> list[dict]:
    """`votes` by position, most votes first: `trigger`, `inputs` (decisive), `votes`."""
    groups: dict[str, dict] = {}
    for v in votes:
        group = groups.setdefault(v.position, {"trigger": v.trigger, "inputs": dict(v.data or {}), "votes": 0})
        group["votes"] += 1
    return sorted(groups.values(), key=lambda g: -g["votes"])


def seats(subject, roles=("committee",), unit=None) -> int:
    """How many people hold a voting seat for the subject: the roles at its unit (or `unit`) or above,
    active, not among those who raised it."""
    return len(seat_ids(subject, roles, unit))


def seat_ids(subject, roles=("committee",), unit=None) -> set[int]:
    raised = subject.raised_by()
    ids = db.session.scalars(select(RoleAssignment.user_id).distinct().join(User, User.id == RoleAssignment.user_id)
                             .where(RoleAssignment.role.in_(roles),
                                    RoleAssignment.unit_id.in_((unit or subject.unit).ancestor_ids()),
                                    User.active.is_(True))).all()
    return {i for i in ids if i not in raised}


def quorum(subject, transition=None) -> int:
    """The quorum of the committee that decides the subject's current vote (or `transition`'s)."""
    from . import engine, settings
    return int(settings.get(engine.acting_unit(subject, transition), "committee_quorum"))


def cast(step: Step, plain: dict) -> tuple[int, int, list[Vote]]:
    """Records the step's vote for its seat; returns (votes for this position, quorum, the votes of this
    position when it carried, else [])."""
    subject, user, t = step.case, step.user, step.transition
    earlier = voted(subject, user, step.delegate_of)
    if earlier is not None:
        if earlier.user_id == user.id:
            raise Conflict(_("You have already voted on this case."), code="already_voted")
        raise Conflict(_("This seat has already voted in this round: a member and their delegate vote once "
                         "between them, never both."), code="already_voted")
    if voted_below(subject, user, step.delegate_of, t) is not None:
        raise Conflict(_("You have voted on this case at the level below: a member of both committees "
                         "votes once on a case."), code="already_voted")
    decisive, texts = split_inputs(t, plain)
    where = position(t.trigger, decisive)
    from . import settings
    quorum = int(settings.get(step.unit, "committee_quorum"))
    counts = dict(db.session.execute(select(Vote.position, func.count()).where(*_where(subject))
                                     .group_by(Vote.position)).all())
    cast_so_far = sum(counts.values())
    eligible = seat_ids(subject, tuple(r for r in t.roles if r != "scheduler") or ("committee",), step.unit)
    if t.once_with:
        eligible -= _seats_voted_below(subject, t)
    left = len(eligible) - cast_so_far
    mine = counts.get(where, 0)
    if mine + max(left, 1) < quorum:
        raise Invalid(_("This vote can no longer change the outcome: this position has %(votes)s votes, "
                        "%(left)s members have not voted yet (you included) and %(quorum)s are needed. "
                        "Join a position that can still carry.", votes=mine, left=max(left, 0), quorum=quorum),
                      code="cannot_carry")
    kind, sid = subject_key(subject)
    seat = seat_of(user, step.delegate_of)
    db.session.add(Vote(case_id=sid if kind is None else None, subject_kind=kind,
                        subject_id=None if kind is None else sid, round=subject.state_seq, user_id=user.id,
                        delegate_of_id=step.delegate_of, seat_id=seat, trigger=t.trigger, position=where,
                        data=decisive, texts=texts, comment=step.comment, at=step.now))
    db.session.flush()
    votes = mine + 1
    step.changes["vote"] = t.trigger
    step.changes["votes"] = votes
    step.changes["quorum"] = quorum
    if votes < quorum:
        return votes, quorum, []
    carried = [v for v in round_votes(subject) if v.position == where]
    return votes, quorum, carried


def _seats_voted_below(subject, transition) -> set[int]:
    kind, sid = subject_key(subject)
    where = [Vote.case_id == sid] if kind is None else [Vote.subject_kind == kind, Vote.subject_id == sid]
    rows = db.session.execute(select(Vote.seat_id, Vote.user_id)
                              .where(*where, Vote.trigger.in_(transition.once_with))).all()
    return {i for row in rows for i in row}


def reasons(votes: list[Vote], fields) -> list[str]:
    """The written reasons of `votes`, each voter's once, in voting order: their text input, else comment."""
    out: list[str] = []
    for v in votes:
        text = next((v.texts[f] for f in fields if (v.texts or {}).get(f)), "") or v.comment or ""
        if text and text not in out:
            out.append(text)
    return out
