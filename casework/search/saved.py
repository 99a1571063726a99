"""Saved filters: a person names the query of /work or /cases (its filters and order) to come back to it.
One set of rules for the pages and the API; only the owner ever sees or deletes one."""
from __future__ import annotations

from urllib.parse import parse_qsl, urlencode

from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from ..accounts.models import User
from ..core.errors import Invalid, NotFound
from ..core.inputs import Reader, record_id
from ..extensions import db
from .models import SavedFilter

MAX_NAME = 40
MAX_QUERY = 1000
MAX_PER_PAGE = 30
# The lists that save filters, their pages, and the parameters each one reads (the pager's cursor is not one).
PAGES = {"work": "web.queue", "cases": "web.case_list"}
PARAMS = {"work": ("q", "kind", "category", "state", "unit", "from", "to", "sort", "dir"),
          "cases": ("kind", "state", "from", "to", "sort", "dir")}


def owned(user: User, page: str | None = None) -> list[SavedFilter]:
    stmt = select(SavedFilter).where(SavedFilter.user_id == user.id)
    if page:
        stmt = stmt.where(SavedFilter.page == page)
    return db.session.scalars(stmt.order_by(SavedFilter.page, SavedFilter.name)).all()


def clean_query(page: str, raw: str) -> str:
    """The list's own parameters of a query string, in a fixed order; anything else (the cursor, a stray
    token) is left out, so a saved filter always opens the first page."""
    given = dict(parse_qsl(raw.lstrip("?"), keep_blank_values=False))
    return urlencode([(k, given[k].strip()) for k in PARAMS[page] if given.get(k, "").strip()])


def create(user: User, data: dict) -> SavedFilter:
    reader = Reader(data)
    page = reader.choice("page", tuple(PAGES))
    name = reader.text("name", max_len=MAX_NAME)
    query = reader.text("query", required=False, max_len=MAX_QUERY)
    reader.done()
    taken = db.session.scalars(select(SavedFilter.name).where(SavedFilter.user_id == user.id,
                                                              SavedFilter.page == page)).all()
    if name in taken:
        raise _duplicate()
    if len(taken) >= MAX_PER_PAGE:
        raise Invalid(_("You have %(n)s saved filters here already: delete one first.", n=MAX_PER_PAGE),
                      fields={"name": _("You have %(n)s saved filters here already: delete one first.",
                                        n=MAX_PER_PAGE)})
    row = SavedFilter(user_id=user.id, page=page, name=name, query=clean_query(page, query))
    try:
        with db.session.begin_nested():  # the same name saved twice at once: the unique key decides
            db.session.add(row)
    except IntegrityError:
        raise _duplicate() from None
    return row


def _duplicate() -> Invalid:
    message = _("You already have a saved filter of this name.")
    return Invalid(message, fields={"name": message})


def find_owned(user: User, filter_id) -> SavedFilter:
    """The caller's saved filter; 404 for anyone else's, as for one that does not exist."""
    ident = record_id(filter_id)
    row = db.session.get(SavedFilter, ident) if ident else None
    if row is None or row.user_id != user.id:
        raise NotFound(_("No such saved filter."))
    return row


def delete(user: User, filter_id) -> SavedFilter:
    row = find_owned(user, filter_id)
    db.session.delete(row)
    db.session.flush()
    return row


def item(row: SavedFilter) -> dict:
    return {"id": row.id, "page": row.page, "name": row.name, "query": row.query,
            "created_at": row.created_at.isoformat() + "Z"}
