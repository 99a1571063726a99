"""Congress motions as a case kind."""
from __future__ import annotations

from flask_babel import gettext as _

from ..accounts.models import User
from ..core.inputs import Reader
from ..core.kinds import KindSpec, register
from ..core.models import CongressSession
from ..core.permissions import roles_at
from ..extensions import db
from .models import Motion


def _parse(data: dict, user: User) -> dict:
    r = Reader(data)
    values = {"title": r.text("title", max_len=200), "reasons": r.text("reasons"),
              "proposal_text": r.text("proposal_text")}
    session_id = r.integer("session", lo=1)
    session = db.session.get(CongressSession, session_id) if session_id else None
    if session_id and session is None:
        r.fail("session", _("No such congress session."))
    elif session is not None:
        if session.status == "closed":
            r.fail("session", _("This congress session is closed."))
        elif "representative" not in roles_at(user, session.unit):
            r.fail("session", _("Only representatives of this session can submit motions to it."))
    r.done()
    values["session"] = session
    return values


def _fields(case: Motion, viewer: User) -> dict:
    return {"title": case.title, "reasons": case.reasons, "proposal_text": case.proposal_text,
            "session": case.session_id, "cosigners": sorted(p.user.username for p in case.parties
                                                            if p.role == "cosigner"),
            "merged_into": case.merged_into_id, "reopened": case.reopened,
            "satisfaction": case.satisfaction, "reply": case.reply,
            "co_departments": list(case.co_department_ids or [])}


SPEC = register(KindSpec(kind="motion", model=Motion, parse=_parse, fields=_fields,
                         owner=lambda values, user: (values["session"].unit, user),
                         title=lambda v: v["title"],
                         search_fields=("title", "reasons", "proposal_text")))
