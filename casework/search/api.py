"""GET /api/v1/search (the one search service) and /api/v1/me/saved-filters (the caller's saved filters)."""
from __future__ import annotations

from apiflask import Schema
from apiflask.fields import Integer, List, Nested, String
from apiflask.validators import OneOf
from flask import current_app, request
from flask_babel import gettext as _

from ..api.base import json_body, make_blueprint, user
from ..core import paging
from ..core.errors import BadRequest
from ..extensions import db
from . import saved, service

bp = make_blueprint("search_api", __name__, tag="search")


class SearchItem(Schema):
    kind = String()
    id = Integer()
    number = String()
    title = String()
    state = String()


class SearchPage(Schema):
    items = List(Nested(SearchItem), required=True)
    next = String(allow_none=True)


@bp.get("/search")
@bp.output(SearchPage)
@bp.doc(summary="Cases the caller may see by partial number, title, people's names and Chinese full text; "
                "`kind`, `from`/`to` (YYYY-MM-DD, the union's days), `after` (the `next` cursor)",
        responses={400: "a bad date, kind or cursor"})
def search():
    args = request.args
    rows, last = service.search(user(), args.get("q", ""), kind=service.parse_kind(args.get("kind")),
                                start=service.parse_day(args.get("from"), "from"),
                                end=service.parse_day(args.get("to"), "to"),
                                after=paging.decode(args.get("after")),
                                size=current_app.config["CASEWORK_PAGE_SIZE"])
    return {"items": [service.item(c, user()) for c in rows], "next": paging.encode(last)}


class SavedFilterIn(Schema):
    page = String(required=True, validate=OneOf(list(saved.PAGES)), metadata={"description": "work or cases"})
    name = String(required=True, metadata={"description": f"at most {saved.MAX_NAME} characters"})
    query = String(metadata={"description": "the list's query string, e.g. "
                                            "state=submitted&sort=deadline&dir=desc"})


class SavedFilterItem(Schema):
    id = Integer(required=True)
    page = String(required=True)
    name = String(required=True)
    query = String(required=True)
    created_at = String(required=True)


class SavedFilterOut(SavedFilterItem):
    """The filter just saved (one schema per use: a schema both nested and returned is declared twice)."""


class SavedFilterList(Schema):
    items = List(Nested(SavedFilterItem), required=True)


@bp.get("/me/saved-filters")
@bp.output(SavedFilterList)
@bp.doc(summary="The caller's saved filters of /work and /cases (`page`: only those of one)",
        responses={400: "an unknown page"})
def list_saved_filters():
    page = request.args.get("page") or None
    if page is not None and page not in saved.PAGES:
        raise BadRequest(_("Unknown list."), fields={"page": "|".join(saved.PAGES)})
    return {"items": [saved.item(row) for row in saved.owned(user(), page)]}


@bp.post("/me/saved-filters")
@bp.input(SavedFilterIn, validation=False)
@bp.output(SavedFilterOut, status_code=201)
@bp.doc(summary="Save a filter under a name (unique per page for the caller)",
        responses={422: "no name, a name too long or already used, or too many saved filters"})
def create_saved_filter(json_data=None):
    row = saved.create(user(), json_body())
    db.session.commit()
    return saved.item(row)


@bp.delete("/me/saved-filters/<int:filter_id>")
@bp.output({}, status_code=204)
@bp.doc(summary="Delete one of the caller's saved filters",
        responses={404: "no such saved filter of the caller"})
def delete_saved_filter(filter_id: int):
    saved.delete(user(), filter_id)
    db.session.commit()
    return ""
