"""Retention and deletion (PIPL art. 47): the one anonymiser of an aid request, the legal hold that stops it,
what the sweep anonymises when, and the purge of old reads-log entries.

`anonymise(step, full=...)` serves both ends of a request's personal information: withdrawn consent
(`erase_sensitive`: what was given under the consent goes) and the end of the retention period (`anonymise`:
also every free text, the votes' and notices' words and the person's link, replaced by a pseudonym). Amounts,
states, dates, ledger lines and the public board's masked items stay, so statistics, annual reports and fund
ledgers do not change; audit and reads-log entries keep their hashes and verify by their seals
(core/redaction.py)."""
from __future__ import annotations

import logging
import secrets
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import and_, delete, func, or_, select, update

from ..accounts.models import User
from ..clock import local, utcnow
from ..core import redaction, settings
from ..core.engine import Step, effect, guard
from ..core.models import AuditEntry, CaseParty, UnitSetting, Vote, verify_chain
from ..extensions import db
from ..labels import CHOICE_LABELS
from ..ops.logs import log_event
from .models import AccessAnchor, AccessEntry

log = logging.getLogger("casework.privacy")

CATEGORIES = ("hardship", "illness", "education", "holiday_visit")
FINAL = ("closed", "rejected", "withdrawn")
# Input types whose values are a person's words or names (cleared); amounts, dates and choices stay.
_WORDS = ("text", "username", "usernames")

for _category in CATEGORIES:
    settings.declare(f"aid_retention_years_{_category}", 5, "count",
                     _l("Years an aid request of the category “%(category)s” keeps its personal information after "
                        "it is closed; then the sweep anonymises it (statistics, ledgers and the audit's hashes "
                        "stay).", category=CHOICE_LABELS[_category]), lo=1, hi=30)
settings.declare("reads_log_retention_months", 12, "count",
                 _l("Months the reads log keeps each entry before the sweep purges it (the chain still verifies "
                    "from an anchor). At least 6 (Cybersecurity Law art. 21)."), lo=6, hi=600,
                 below=_l("The reads log must be kept at least 6 months (Cybersecurity Law art. 21)."))


def years_for(case) -> int:
    return int(settings.get(case.unit, f"aid_retention_years_{case.category}"))


def _add_years(day: date, years: int) -> date:
    try:
        return day.replace(year=day.year + years)
    except ValueError:  # 29 February
        return day.replace(year=day.year + years, day=28)


def due_on(case) -> date | None:
    """The day from which a closed request is anonymised (its category's period after it was closed)."""
    if case.state not in FINAL:
        return None
    return _add_years(local(case.state_entered_at).date(), years_for(case))


# -- guards and effects (workflows/aid.py) ------------------------------------------------------

@guard("not_on_hold")
def _not_on_hold(step: Step):
    return None if not step.case.hold_reason else _("This request is under a legal hold.")


@guard("on_hold")
def _on_hold(step: Step):
    return None if step.case.hold_reason else _("This request is not under a legal hold.")


@guard("retention_passed")
def _retention_passed(step: Step):
    if step.case.anonymised_at is not None:
        return _("This request has already been anonymised.")
    due = due_on(step.case)
    if due is None or local(step.now).date() < due:
        return _("The retention period of this request has not ended yet.")
    return None


@effect("place_hold")
def _place_hold(step: Step):
    case = step.case
    case.hold_reason, case.hold_at, case.hold_by_id = step.comment, step.now, step.user.id


@effect("lift_hold")
def _lift_hold(step: Step):
    step.record("hold", True, False)
    case = step.case
    case.hold_reason, case.hold_at, case.hold_by_id = None, None, None


@effect("anonymise")
def _anonymise(step: Step):
    anonymise(step, full=True)


# -- the anonymiser -----------------------------------------------------------------------------

def anonymise(step: Step, *, full: bool) -> dict:
    """Clears the request's personal information in the step's transaction (files go once it commits).
    Without `full` (consent withdrawn) only what was given under the consent: attachments, details,
    circumstances, visit findings and their private inputs in the audit. Either way the inbox and the
    mail outbox forget the case (notifications.mail.forget_case): no waiting mail can send its words."""
    from ..attachments.operations import erase_for
    from ..aid.models import AidVisit
    case = step.case
    ok, bad = verify_chain(case.id)
    if not ok:  # sealing a tampered entry would vouch for it
        raise RuntimeError(f"{case.number}: audit chain broken at entry {bad}; not anonymised")
    removed = erase_for(case)
    case.circumstances, case.details = "", {}
    db.session.execute(update(AidVisit).where(AidVisit.case_id == case.id).values(findings=""))
    record: dict = {"audit": _clear_audit(case, full)}
    summary = {"attachments": removed, "details": True}
    if full:
        person = case.applicant
        pseudonym = _pseudonym(case)
        record["reads"] = _clear_reads(case, person, pseudonym)
        summary.update(_clear_words(case, person, pseudonym))
        case.anonymised_at = step.now
        summary["pseudonym"] = pseudonym.username
    else:
        from ..notifications.mail import forget_case
        forget_case(case)
        case.consent_withdrawn_at = step.now
    step.record("erased", None, summary)
    step.changes["cleared"] = record
    return summary


def _fields_of(trigger: str, kind: str = "aid") -> dict[str, str]:
    import workflows
    return {f.name: f.type for t in workflows.get(kind).transitions if t.trigger == trigger for f in t.fields}


def _clear_audit(case, full: bool) -> list[list]:
    """Clears the words in the case's audit entries; returns [seq, hash, seal] of each entry cleared."""
    person = case.applicant.username
    out = []
    entries = db.session.scalars(select(AuditEntry).where(AuditEntry.case_id == case.id)
                                 .order_by(AuditEntry.seq)).all()
    table = AuditEntry.__table__
    for e in entries:
        changes = dict(e.changes or {})
        types = _fields_of(e.trigger)
        inputs = dict(changes.get("inputs") or {})
        private = set(changes.get("private") or ())
        for name, value in inputs.items():
            if (name in private) or (full and types.get(name, "text") in _WORDS):
                inputs[name] = redaction.clear(value)
        if inputs:
            changes["inputs"] = inputs
        comment = redaction.clear(e.comment or "") if full else (e.comment or "")
        actor = redaction.clear(e.actor_label) if full and e.actor_label == person else e.actor_label
        if changes == (e.changes or {}) and comment == (e.comment or "") and actor == e.actor_label:
            continue
        sealed = redaction.seal(e.payload())
        db.session.execute(update(table).where(table.c.id == e.id).values(
            changes=changes, comment=comment, actor_label=actor))
        db.session.expire(e)
        out.append([e.seq, e.hash, sealed])
    return out


def _clear_reads(case, person: User, pseudonym: User) -> list[list]:
    """The case's reads: attachment names cleared, the person's own reads cleared (their address blanked) and
    moved to the pseudonym.
    The seal recorded is that of the entry as it is left: the kind before a cleared name, the blank address and
    the pseudonym's id are not strings the seal can see through, so the anonymise entry vouches for them."""
    out = []
    table = AccessEntry.__table__
    for e in db.session.scalars(select(AccessEntry).where(AccessEntry.chain == f"case:{case.id}")
                                .order_by(AccessEntry.seq)).all():
        kind, sep, rest = e.what.partition(":")
        what = f"{kind}:{redaction.clear(rest)}" if rest else e.what
        mine = e.user_id == person.id
        actor = redaction.clear(e.actor_label) if mine else e.actor_label
        address = "" if mine else e.address  # blanked: a marker does not fit the column, and the seal covers it
        user = pseudonym.id if mine else e.user_id
        if what == e.what and actor == e.actor_label and address == e.address and user == e.user_id:
            continue
        if len(what) > 120:  # the marker of a long name: keep it whole, the column takes 120
            what = redaction.clear(e.what)
        sealed = redaction.seal({**e.payload(), "what": what, "actor": actor, "address": address, "user": user})
        db.session.execute(update(table).where(table.c.id == e.id).values(
            what=what, actor_label=actor, address=address, user_id=user))
        db.session.expire(e)
        out.append([e.seq, e.hash, sealed])
    return out


def _pseudonym(case) -> User:
    """An inactive account standing for the person in this one case: nothing links it back."""
    token = secrets.token_hex(5)
    user = User(username=f"anon-{token}", name=f"匿名{token[:4].upper()}", unit_id=case.unit_id,
                active=False, password_hash="")
    db.session.add(user)
    db.session.flush()
    return user


def _clear_words(case, person: User, pseudonym: User) -> dict:
    from ..notifications.mail import forget_case
    if case.created_by_id == person.id:
        case.created_by_id = pseudonym.id
    if case.consent_by_id == person.id:
        case.consent_by_id = pseudonym.id
    case.applicant_id = pseudonym.id
    db.session.execute(update(CaseParty).where(CaseParty.case_id == case.id, CaseParty.user_id == person.id)
                       .values(user_id=pseudonym.id))
    db.session.execute(update(AuditEntry.__table__).where(AuditEntry.case_id == case.id,
                                                          AuditEntry.actor_id == person.id)
                       .values(actor_id=pseudonym.id))
    votes = db.session.scalars(select(Vote).where(Vote.case_id == case.id)).all()
    for v in votes:
        v.comment, v.texts = "", {k: "" for k in (v.texts or {})}
    gone = forget_case(case, person)
    objections = _clear_objections(case, person)
    from ..notices.operations import reissue_anonymised
    notices = reissue_anonymised(case, pseudonym)
    db.session.expire(case, ["applicant", "created_by", "consent_by", "parties"])
    return {"votes": len(votes), "notifications": gone, "notices": notices, "objections": objections}


def _clear_objections(case, person: User) -> int:
    """Objections to the case's board items, reports (举报) about a posting that held it, and reports to the
    case's unit or a union above it naming no posting whose text names the person or the case: their words
    and contacts go, stored as their SHA-256 like the audit's. Rows, codes, dates, outcomes and rewards stay:
    counts and the reward ledger do not change."""
    from ..disclosure.models import DisclosureItem, Objection
    items = select(DisclosureItem.id).where(DisclosureItem.case_id == case.id)
    postings = select(DisclosureItem.disclosure_id).where(DisclosureItem.case_id == case.id)
    named = [Objection.text.contains(w, autoescape=True) for w in (person.name, case.number) if w]
    rows = db.session.scalars(select(Objection).where(or_(
        Objection.item_id.in_(items),
        and_(Objection.kind == "report", Objection.disclosure_id.in_(postings)),
        and_(Objection.disclosure_id.is_(None), Objection.unit_id.in_(case.unit.ancestor_ids() or [case.unit_id]),
             or_(*named))))).all()
    for row in rows:
        row.text, row.answer, row.contact = (redaction.clear(row.text), redaction.clear(row.answer or ""),
                                             redaction.clear(row.contact or ""))
    return len(rows)


# -- what is due --------------------------------------------------------------------------------

@dataclass
class Planned:
    case_id: int
    number: str
    category: str
    closed_on: date
    due_on: date
    removes: dict = field(default_factory=dict)


def _min_years() -> int:
    keys = [f"aid_retention_years_{c}" for c in CATEGORIES]
    values = [int(settings.DEFAULTS[k]) for k in keys] + [int(v) for v in db.session.scalars(
        select(UnitSetting.value).where(UnitSetting.key.in_(keys)))]
    return min(values)


def plan(day: date) -> list[Planned]:
    """The requests the sweep would anonymise on `day`: closed, not anonymised, not on hold, period over."""
    from ..aid.models import AidRequest, AidVisit
    from ..core.models import Attachment
    latest = datetime.combine(_add_years(day, -_min_years()) + timedelta(days=1), datetime.min.time())
    rows = db.session.scalars(select(AidRequest).where(
        AidRequest.state.in_(FINAL), AidRequest.anonymised_at.is_(None), AidRequest.hold_reason.is_(None),
        AidRequest.state_entered_at < latest).order_by(AidRequest.id)).all()
    out = []
    for case in rows:
        due = due_on(case)
        if due is None or day < due:
            continue
        files = db.session.scalar(select(func.count()).select_from(Attachment).where(Attachment.case_id == case.id))
        visits = db.session.scalar(select(func.count()).select_from(AidVisit).where(AidVisit.case_id == case.id))
        out.append(Planned(case.id, case.number, case.category, local(case.state_entered_at).date(), due,
                           {"attachments": files, "visits": visits, "details": bool(case.details or case.circumstances),
                            "person": True}))
    return out


def held() -> list:
    from ..aid.models import AidRequest
    return db.session.scalars(select(AidRequest).where(AidRequest.hold_reason.is_not(None))
                              .order_by(AidRequest.hold_at)).all()


def run(at: datetime, *, only: set[int] | None = None) -> int:
    """Anonymises, once, every request due as of `at` (the sweep's task and `casework retention`). Each
    case is its own transaction keyed like the sweep's other effects, so a repeat or a second process does
    nothing twice; a case that fails is recorded for the admin page and the rest go on."""
    from ..core.engine import fire
    from ..core.errors import CaseworkError
    from ..core.models import Case
    from ..scheduler.models import ScheduledEffect
    from ..scheduler.sweep import record_failure
    done = 0
    for item in plan(local(at).date()):
        if only is not None and item.case_id not in only:
            continue
        try:
            case = db.session.get(Case, item.case_id)
            db.session.add(ScheduledEffect(case_id=case.id, state_seq=case.state_seq, kind="anonymise",
                                           state=case.state))
            db.session.flush()
            fire(case, "anonymise", None)
            db.session.commit()
            done += 1
        except CaseworkError:
            db.session.rollback()
        except Exception as exc:  # noqa: BLE001  one case must not stop the others
            db.session.rollback()
            log.exception("anonymising %s failed", item.number)
            record_failure(f"{item.case_id}:anonymise", item.case_id, "anonymise", exc)
    return done


def reads_months() -> int:
    key = "reads_log_retention_months"
    return max([int(settings.DEFAULTS[key]), *(int(v) for v in db.session.scalars(
        select(UnitSetting.value).where(UnitSetting.key == key)))])


def reads_cutoff(at: datetime) -> datetime:
    """Reads older than this go: the longest period any unit sets (the log is one, across units)."""
    months = reads_months()
    day = local(at).date()
    year, month = divmod(day.month - 1 - months, 12)
    first = date(day.year + year, month + 1, 1)
    return datetime.combine(first, datetime.min.time()) + timedelta(days=min(day.day, 28) - 1)


def reads_cutoff_day(day: date) -> date:
    return reads_cutoff(datetime.combine(day, datetime.min.time()) + timedelta(hours=12)).date()


def purge_reads(at: datetime) -> int:
    """Deletes reads-log entries older than the period, each chain's oldest first, and moves its anchor to the
    last one purged, so the kept part still verifies. Only an intact chain is purged."""
    from .models import verify_access_chain
    cutoff = reads_cutoff(at)
    chains = db.session.scalars(select(AccessEntry.chain).where(AccessEntry.at < cutoff).distinct()).all()
    purged = 0
    table = AccessEntry.__table__
    for chain in sorted(chains):
        if not verify_access_chain(chain)[0]:
            log.error("reads log %s is broken: not purged", chain)
            continue
        last = db.session.execute(select(AccessEntry.seq, AccessEntry.hash).where(
            AccessEntry.chain == chain, AccessEntry.at < cutoff).order_by(AccessEntry.seq.desc()).limit(1)).first()
        count = db.session.execute(delete(table).where(table.c.chain == chain, table.c.seq <= last.seq)).rowcount
        anchor = db.session.get(AccessAnchor, chain)
        if anchor is None:
            db.session.add(AccessAnchor(chain=chain, seq=last.seq, hash=last.hash, purged=count, at=utcnow()))
        else:
            anchor.seq, anchor.hash, anchor.purged, anchor.at = last.seq, last.hash, anchor.purged + count, utcnow()
        purged += count
        log_event("reads_purged", chain=chain, upto=last.seq, count=count, anchor=last.hash)
    db.session.flush()
    return purged
