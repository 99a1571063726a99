"""The search page behind the header's box: the same service as the API, with kind and date filters."""
from __future__ import annotations

from flask import Blueprint, render_template, request
from flask_login import current_user, login_required

from ..core.errors import CaseworkError
from ..core.inputs import record_id
from . import service

bp = Blueprint("search", __name__)
PAGE = 25


@bp.get("/search")
@login_required
def results():
    args = request.args
    q = args.get("q", "").strip()[:service.MAX_QUERY]
    filters = {"q": q, "kind": args.get("kind", ""), "from": args.get("from", ""), "to": args.get("to", "")}
    error, rows, next_after = None, [], None
    try:
        kind = service.parse_kind(filters["kind"])
        start = service.parse_day(filters["from"], "from")
        end = service.parse_day(filters["to"], "to")
    except CaseworkError as exc:
        error = exc.message
    else:
        rows, next_after = service.search(current_user, q, kind=kind, start=start, end=end,
                                          after=args.get("after", type=record_id), size=PAGE)
    status = 400 if error else 200
    return render_template("search/results.html", cases=rows, filters=filters, error=error,
                           next_after=next_after), status
