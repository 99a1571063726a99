"""GET /api/v1/search: the one search service, for API callers."""
from __future__ import annotations

from apiflask import Schema
from apiflask.fields import Integer, List, Nested, String
from flask import current_app, request

from ..api.base import make_blueprint, user
from ..core import paging
from . import service

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
