"""The search page behind the header's box (the same service as the API, with kind and date filters), and
saving and deleting the filters of /work and /cases."""
from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _, lazy_gettext as _l
from flask_login import current_user, login_required

from ..core.errors import CaseworkError
from ..core.inputs import record_id
from ..extensions import db
from . import saved, service

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


FIELD_NAMES = {"name": _l("Filter name"), "page": _l("List"), "query": _l("Filter")}


def _back(page: str, query: str = ""):
    target = url_for(saved.PAGES[page])
    return redirect(f"{target}?{query}" if query else target)


@bp.post("/saved-filters")
@login_required
def save_filter():
    page = request.form.get("page") if request.form.get("page") in saved.PAGES else "cases"
    query = saved.clean_query(page, request.form.get("query", ""))
    try:
        row = saved.create(current_user, request.form.to_dict())
        db.session.commit()
    except CaseworkError as exc:
        db.session.rollback()
        for field, message in (exc.fields or {"": exc.message}).items():
            flash(f"{FIELD_NAMES[field]}：{message}" if field in FIELD_NAMES else str(message), "error")
        return _back(page, query)
    flash(_("Filter “%(name)s” saved.", name=row.name), "success")
    return _back(page, row.query)


@bp.post("/saved-filters/<int:filter_id>/delete")
@login_required
def delete_filter(filter_id: int):
    row = saved.delete(current_user, filter_id)  # 404 for another's
    db.session.commit()
    flash(_("Filter “%(name)s” deleted.", name=row.name), "success")
    return _back(row.page)
