"""API: a case's notices (shared/design/API.md) and a notice's PDF for token holders."""
from __future__ import annotations

from apiflask import Schema
from apiflask.fields import Boolean, Integer, List, Nested, String
from apiflask.schemas import FileSchema
from flask import g
from flask_babel import gettext as _

from ..api.base import make_blueprint, public, user as _user
from ..core import kinds
from ..core.errors import NotFound, Unauthorized
from ..extensions import db
from . import operations
from .models import Notice

bp = make_blueprint("notices_api", __name__, tag="notices")


class NoticeOut(Schema):
    id = Integer(required=True)
    kind = String(required=True, metadata={"example": "aid_approval"})
    title = String(metadata={"example": "救助审批通知书"})
    number = String(required=True, metadata={"description": "文号", "example": "工帮〔2026〕12号"})
    issued_at = String(required=True)
    sha256 = String(required=True)
    verify_code = String(required=True, metadata={"description": "check it at /verify/<code>"})
    url = String(required=True, metadata={"description": "the PDF, same bytes every time (bearer token)"})
    verify_url = String()
    superseded = Boolean()
    superseded_by = String(allow_none=True, metadata={"description": "文号 of the replacing notice"})


class NoticeList(Schema):
    items = List(Nested(NoticeOut), required=True)


def serialize(n: Notice) -> dict:
    from flask import url_for

    from ..config import public_url
    return {"id": n.id, "kind": n.kind, "title": n.spec.title, "number": n.number,
            "issued_at": n.issued_at.isoformat() + "Z", "sha256": n.sha256, "verify_code": n.verify_code,
            "url": url_for("notices_api.pdf", notice_id=n.id),
            "verify_url": public_url(f"/verify/{n.verify_code}"),
            "superseded": n.superseded_by_id is not None,
            "superseded_by": n.superseded_by.number if n.superseded_by else None}


@bp.get("/cases/<kind>/<int:case_id>/notices")
@bp.output(NoticeList)
@bp.doc(summary="The PDF notices issued for a case, oldest first", responses={404: "absent or not visible"})
def case_notices(kind: str, case_id: int):
    case = kinds.load(kind, case_id, _user())
    return {"items": [serialize(n) for n in operations.visible_for_case(case, _user())]}


@bp.get("/notices/<int:notice_id>/pdf")
@public
@bp.output(FileSchema(type="string", format="binary"), content_type="application/pdf",
           description="the notice as issued")
@bp.doc(summary="A notice's PDF: public notices to anyone, others to those who may see the case",
        responses={404: "absent or not visible"})
def pdf(notice_id: int):
    from .views import send
    notice = db.session.get(Notice, notice_id)
    if notice is not None and not notice.spec.public and g.api_user is None:
        raise Unauthorized(_("Send a token: Authorization: Bearer <token>."), code="no_token")
    if notice is None or not operations.may_see(g.api_user, notice):
        raise NotFound(_("No such notice."))
    return send(notice)
