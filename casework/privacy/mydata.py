"""我的数据 (PIPL arts. 45-46): everything the service holds about a person, as JSON and as a readable PDF,
and requests to correct it, which union staff answer.

What a person gets of a case is what the case page shows them (`kinds.serialize` as that person), so the
copy follows the same visibility rules; of other people's cases they took part in, only which and how."""
from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import or_, select

from ..accounts.models import ApiToken, Delegation, DepartmentMember, RoleAssignment, User
from ..clock import local, utcnow
from ..core import kinds
from ..core.models import Attachment, AuditEntry, Case, CaseParty, Vote
from ..extensions import db
from ..notifications.models import MailOutbox, Notification, NotificationPref, mail_enabled
from .models import AccessEntry, CorrectionRequest


def _t(dt: datetime | None) -> str | None:
    return local(dt).isoformat(timespec="seconds") if dt else None


def _plain(value):
    if isinstance(value, (date, datetime)):
        return value.isoformat()
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    return value


def collect(user: User) -> dict:
    """The person's copy. Never another person's account, case details or identity."""
    own = db.session.scalars(select(Case).where(or_(Case.applicant_id == user.id, Case.created_by_id == user.id))
                             .order_by(Case.id)).all()
    own_ids = {c.id for c in own}
    cases = []
    for case in own:
        record = kinds.serialize(case, user, transitions=[])
        steps = db.session.scalars(select(AuditEntry).where(AuditEntry.case_id == case.id)
                                   .order_by(AuditEntry.seq)).all()
        record["timeline"] = [{"at": _t(e.at), "step": e.trigger, "from": e.from_state, "to": e.to_state,
                               "comment": e.comment} for e in steps]
        record["attachments"] = [{"name": a.original_name, "type": a.doc_type, "size": a.size, "sha256": a.sha256,
                                  "uploaded_at": _t(a.at)}
                                 for a in db.session.scalars(select(Attachment).where(
                                     Attachment.case_id == case.id, Attachment.private.is_(False)))]
        record["filed_for_someone_else"] = case.applicant_id != user.id
        if case.applicant_id != user.id:  # a group leader's filing: not the worker's details
            record = {k: record[k] for k in ("id", "kind", "number", "state", "created_at",
                                             "filed_for_someone_else")}
        cases.append(_plain(record))
    parties = db.session.execute(select(Case.number, Case.kind, CaseParty.role, CaseParty.created_at)
                                 .join(Case, Case.id == CaseParty.case_id)
                                 .where(CaseParty.user_id == user.id, CaseParty.case_id.notin_(own_ids or {0}))
                                 .order_by(CaseParty.id)).all()
    votes = db.session.execute(select(Case.number, Vote.trigger, Vote.data, Vote.comment, Vote.at)
                               .join(Case, Case.id == Vote.case_id).where(Vote.user_id == user.id)
                               .order_by(Vote.id)).all()
    out = {
        "generated_at": _t(utcnow()),
        "account": {"username": user.username, "name": user.name, "employee_no": user.employee_no,
                    "phone": user.phone, "email": user.email, "unit": user.unit.full_name(),
                    "active": user.active, "language": user.language, "created_at": _t(user.created_at)},
        "roles": [{"role": r.role, "unit": r.unit.name} for r in db.session.scalars(
            select(RoleAssignment).where(RoleAssignment.user_id == user.id).order_by(RoleAssignment.id))],
        "departments": [m.department.name for m in db.session.scalars(
            select(DepartmentMember).where(DepartmentMember.user_id == user.id))],
        "delegations": [{"direction": "given" if d.from_user_id == user.id else "received", "role": d.role,
                         "unit": d.unit.name, "starts_on": d.starts_on.isoformat(),
                         "ends_on": d.ends_on.isoformat()}
                        for d in db.session.scalars(select(Delegation).where(or_(
                            Delegation.from_user_id == user.id, Delegation.to_user_id == user.id)))],
        "identity": _identity(user),
        "cases": cases,
        "took_part_in": [{"case": n, "kind": k, "as": role, "since": _t(at)} for n, k, role, at in parties],
        "votes": [{"case": n, "decision": t, "inputs": _plain(d or {}), "reason": c, "at": _t(at)}
                  for n, t, d, c, at in votes],
        "household": _household(user),
        "notifications": [{"at": _t(n.at), "subject": n.subject, "body": n.body, "read": n.read_at is not None}
                          for n in db.session.scalars(select(Notification).where(
                              Notification.user_id == user.id).order_by(Notification.id))],
        "notification_settings": _notification_settings(user),
        "mail": _mail(user),
        "api_tokens": [{"label": t.label, "created_at": _t(t.created_at), "expires_at": _t(t.expires_at),
                        "revoked": t.revoked_at is not None, "last_used_at": _t(t.last_used_at)}
                       for t in db.session.scalars(select(ApiToken).where(ApiToken.user_id == user.id))],
        "objections": _objections(user),
        "my_reads": [{"at": _t(e.at), "case": e.case_id, "what": e.what, "allowed": e.allowed}
                     for e in db.session.scalars(select(AccessEntry).where(AccessEntry.user_id == user.id)
                                                 .order_by(AccessEntry.id))],
        "corrections": [_correction(c) for c in db.session.scalars(
            select(CorrectionRequest).where(CorrectionRequest.user_id == user.id).order_by(CorrectionRequest.id))],
    }
    return out


def _notification_settings(user: User) -> dict:
    """How the person is told: the inbox always; e-mail at their address, each at once or one digest a day."""
    pref = db.session.get(NotificationPref, user.id)
    by_mail = bool(mail_enabled() and user.email and user.active)
    return {"mode": pref.mode if pref else "immediate", "since": _t(pref.since) if pref else None,
            "channels": ["inbox", "email"] if by_mail else ["inbox"], "email": user.email or None}


def _mail(user: User) -> list[dict]:
    """The e-mails to the person: what, to where, whether and when sent. Not the bodies: a reset link's is a
    secret, and the rest repeat the notifications above."""
    rows = db.session.scalars(select(MailOutbox).where(MailOutbox.user_id == user.id).order_by(MailOutbox.id))
    return [{"subject": m.subject, "to": m.to_addr, "state": m.status,
             "kind": "digest" if m.digest_key else ("notification" if m.notification_id else "account"),
             "queued_at": _t(m.created_at), "sent_at": _t(m.sent_at), "attempts": m.attempts} for m in rows]


def _identity(user: User) -> dict | None:
    from ..roster.crypto import decrypt
    from ..roster.models import UserIdentity
    row = db.session.get(UserIdentity, user.id)
    if row is None:
        return None
    try:
        number = decrypt(row.id_number_encrypted)
    except Exception:  # noqa: BLE001  a key that changed: the masked form is still theirs to see
        number = None
    return {"id_number": number or row.id_masked, "updated_at": _t(row.updated_at)}


def _household(user: User) -> dict | None:
    from ..register.models import Household
    h = db.session.scalar(select(Household).where(Household.user_id == user.id))
    if h is None:
        return None
    return {"grade": h.grade, "status": h.status, "causes": list(h.causes or []), "circumstances": h.circumstances,
            "visited_on": h.visited_on.isoformat() if h.visited_on else None,
            "members": [{"name": m.name, "relation": m.relation, "monthly_income": m.monthly_income,
                         "note": m.note} for m in h.members]}


def _objections(user: User) -> list[dict]:
    from ..disclosure.models import Objection
    return [{"kind": o.kind, "tracking_code": o.tracking_code, "text": o.text, "status": o.status,
             "answer": o.answer} for o in db.session.scalars(
        select(Objection).where(Objection.user_id == user.id).order_by(Objection.id))]


def _correction(c: CorrectionRequest) -> dict:
    return {"id": c.id, "at": _t(c.at), "text": c.text, "channel": c.channel, "status": c.status,
            "answer": c.answer, "answered_at": _t(c.answered_at)}
