"""Proposal operations the pages and the API share: possible duplicates, marking one, my proposals, the
annual figures. Each changes state only through the engine and never commits: the caller does, once."""
from __future__ import annotations

from datetime import date, datetime, time

from flask_babel import gettext as _
from sqlalchemy import and_, case as when, func, or_, select

from ..accounts.models import Unit, User
from ..clock import to_utc
from ..core import engine, settings
from ..core.errors import Conflict, Forbidden, Invalid
from ..core.inputs import record_id
from ..core.models import AuditEntry, Case, CaseParty
from ..core.permissions import can_view, grants, roles_at
from ..extensions import db
from ..money import format_money
from . import similar
from .models import Proposal, ProposalDuplicate

STAFF = ("union_staff", "committee", "admin")
ADOPTED = ("implementing", "implemented", "rewarded", "closed")
IMPLEMENTED = ("implemented", "rewarded", "closed")


def sees_duplicates(user: User, case: Proposal) -> bool:
    """Union staff (and the committee, admins) at the case's unit; never the people who raised it."""
    if user.id in case.raised_by():
        return False
    return any(r in STAFF for r in roles_at(user, case.unit))


def duplicates(case: Proposal, viewer: User, limit: int = 5) -> list[tuple[Proposal, float]]:
    """Earlier proposals that say much the same, best first, among those the viewer may see."""
    if not sees_duplicates(viewer, case):
        raise Forbidden(_("Only union staff see possible duplicates."), code="role")
    if case.state == "draft":
        return []
    out = []
    for pid, score in similar.similar(case, limit=limit * 2):
        other = db.session.get(Proposal, pid)
        if other is not None and can_view(viewer, other):
            out.append((other, score))
    return out[:limit]


def similar_for_author(user: User, title, problem, suggestion, limit: int = 5) -> list[dict]:
    """Earlier proposals like a text being written, for its author: only proposals posted on the public
    board and the author's own (written or co-proposed), never others' that only staff may read."""
    texts = [v if isinstance(v, str) else "" for v in (title, problem, suggestion)]
    if not any(t.strip() for t in texts):
        return []
    from ..disclosure.models import Disclosure, DisclosureItem
    public = (select(DisclosureItem.case_id).join(Disclosure, Disclosure.id == DisclosureItem.disclosure_id)
              .where(Disclosure.kind == "proposal", Disclosure.status.in_(("posted", "ended")),
                     DisclosureItem.withdrawn.is_(False), DisclosureItem.case_id.is_not(None)))
    co = select(CaseParty.case_id).where(CaseParty.user_id == user.id, CaseParty.role == "coproposer")
    among = select(Proposal.id).where(Proposal.state != "draft", or_(
        Proposal.id.in_(public), Proposal.applicant_id == user.id, Proposal.created_by_id == user.id,
        Proposal.id.in_(co)))
    threshold = settings.get(user.unit, "duplicate_threshold") / 100
    found = similar.ranked(similar.terms_of(*[t[:20000] for t in texts]), among, limit=limit, threshold=threshold)
    cases = {p.id: p for p in db.session.scalars(select(Proposal).where(Proposal.id.in_([i for i, _s in found])))}
    return [{"id": i, "number": cases[i].number, "title": cases[i].title, "similarity": score}
            for i, score in found if i in cases]


def find(ref) -> Proposal | None:
    """A proposal by id or by number (P2026-00012)."""
    if isinstance(ref, int) and not isinstance(ref, bool) or isinstance(ref, str) and ref.strip().isdigit():
        number = record_id(ref)  # beyond an id column: no such proposal
        return db.session.get(Proposal, number) if number else None
    if isinstance(ref, str) and ref.strip():
        return db.session.scalar(select(Proposal).where(Proposal.number == ref.strip().upper()))
    return None


def mark_duplicate(case: Proposal, original_ref, user: User, *, version: int | None = None,
                   note: str = "") -> Proposal:
    """Answer `case` as a duplicate of an earlier proposal: a decline whose reply names and links it."""
    if "decline" not in engine.available(case, user):
        # Say why before looking at the original: the engine's own reasons, in its words.
        if case.state != "submitted":
            raise Conflict(_("Only a submitted proposal can be answered as a duplicate."), code="not_possible")
        if user.id in case.raised_by():
            raise Forbidden(_("You raised or co-signed this case, so you may not act on it as a reviewer."),
                            code="conflict_of_interest")
        raise Forbidden(_("Only union staff can answer a proposal as a duplicate."), code="role")
    original = find(original_ref)
    if original is None or not can_view(user, original):
        raise Invalid(_("No such proposal to refer to."), fields={"original": _("No such proposal.")})
    if original.id == case.id:
        raise Invalid(_("A proposal cannot duplicate itself."), fields={"original": _("Choose another.")})
    if original.state == "draft":
        raise Invalid(_("Only a submitted proposal can be the original."), fields={"original": _("a draft")})
    repeated = db.session.get(ProposalDuplicate, original.id)
    if repeated is not None:
        raise Invalid(_("%(number)s is itself a duplicate of %(original)s; refer to that one.",
                        number=original.number, original=repeated.original.number),
                      fields={"original": _("a duplicate")})
    if db.session.get(ProposalDuplicate, case.id) is not None:
        raise Conflict(_("This proposal is already marked as a duplicate."), code="not_possible")
    score = dict(similar.similar(case, limit=50, threshold=0)).get(original.id)
    reply = (f"经核查，您的建议与此前提交的合理化建议 {original.number}《{original.title}》内容基本相同，"
             f"按重复建议处理，不再单独评审。该建议的办理进展请见 {original.number}。")
    if note.strip():
        reply += "\n" + note.strip()
    engine.fire(case, "decline", user, {"reply": reply}, version=version, comment=note)
    db.session.add(ProposalDuplicate(proposal_id=case.id, original_id=original.id, similarity=score,
                                     marked_by_id=user.id))
    db.session.flush()
    return case


def mine(user: User, limit: int = 200) -> list[Proposal]:
    """Proposals the user wrote or co-proposed, newest first."""
    co = select(CaseParty.case_id).where(CaseParty.user_id == user.id, CaseParty.role == "coproposer")
    from ..core.queries import listed
    return db.session.scalars(listed(select(Proposal)).where(or_(Proposal.applicant_id == user.id,
                                                                 Proposal.created_by_id == user.id,
                                                                 Proposal.id.in_(co)))
                              .order_by(Proposal.id.desc()).limit(limit)).all()


# -- the annual view --------------------------------------------------------------------------

def annual_units(user: User) -> list[Unit]:
    """Units whose annual figures the user may read: where they are staff, committee or admin, and below."""
    paths = sorted({g.unit_path for g in grants(user) if g.role in STAFF})
    if not paths:
        return []
    return db.session.scalars(select(Unit).where(or_(*[Unit.path.startswith(p) for p in paths]))
                              .order_by(Unit.path)).all()


def annual(unit: Unit, year: int) -> dict:
    """Figures for proposals submitted in `year` (the union's time zone) at `unit` and below, per unit and
    in total, counted by the database (GROUP BY)."""
    start, end = (to_utc(datetime.combine(date(y, 1, 1), time())) for y in (year, year + 1))
    submitted = (select(AuditEntry.case_id.label("case_id"), func.min(AuditEntry.at).label("at"))
                 .where(AuditEntry.trigger == "submit").group_by(AuditEntry.case_id).subquery())
    units = select(Unit.id).where(Unit.path.startswith(unit.path))

    def one(cond):
        return func.coalesce(func.sum(when((cond, 1), else_=0)), 0)

    columns = [
        func.count().label("collected"),
        one(Proposal.grade == "excellent").label("excellent"),
        one(Proposal.grade == "good").label("good"),
        one(Proposal.grade == "general").label("general"),
        one(Proposal.state.in_(ADOPTED)).label("adopted"),
        one(Proposal.state.in_(IMPLEMENTED)).label("implemented"),
        func.coalesce(func.sum(Proposal.benefit), 0).label("benefit"),
        one(Proposal.reward.is_not(None)).label("rewarded"),
        func.coalesce(func.sum(Proposal.reward), 0).label("rewards"),
    ]
    base = (select(*columns).select_from(Proposal).join(submitted, submitted.c.case_id == Proposal.id)
            .where(and_(submitted.c.at >= start, submitted.c.at < end, Proposal.unit_id.in_(units))))
    by_unit = db.session.execute(base.add_columns(Proposal.unit_id).group_by(Proposal.unit_id)).all()
    total = db.session.execute(base).one()
    names = dict(db.session.execute(select(Unit.id, Unit.name).where(Unit.id.in_([r.unit_id for r in by_unit]))
                                    ).all())
    rows = sorted(({"unit": r.unit_id, "unit_name": names.get(r.unit_id, ""), **_figures(r)} for r in by_unit),
                  key=lambda r: r["unit_name"])
    return {"unit": unit.id, "unit_name": unit.name, "year": year, "total": _figures(total), "units": rows}


def _figures(row) -> dict:
    return {"collected": row.collected, "graded": {"excellent": int(row.excellent), "good": int(row.good),
                                                   "general": int(row.general)},
            "adopted": int(row.adopted), "implemented": int(row.implemented),
            "benefit": format_money(int(row.benefit)), "rewarded": int(row.rewarded),
            "rewards_paid": format_money(int(row.rewards))}


def number_link(number: str) -> int | None:
    return db.session.scalar(select(Case.id).where(Case.number == number, Case.kind == "proposal"))
