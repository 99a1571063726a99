"""The one keyset pager: newest first by id, or in a list's chosen `Order` (keyset on (value, id)), a page and
the cursor to the next one (web pages and the API).

Keyset, not OFFSET: a page costs the same at the end of a long list, and rows added meanwhile do not shift it.
The API hands the cursor out opaque (`encode`/`decode`); pages pass the id itself (`?after=`/`?before=`).
"""
from __future__ import annotations

import base64
from dataclasses import dataclass, replace
from typing import Any, Callable

from flask_babel import gettext as _
from sqlalchemy import and_, or_

from ..extensions import db
from .errors import BadRequest
from .inputs import record_id


def newest_first(stmt, column, before: int | None, size: int, *,
                 unique: bool = False) -> tuple[list, int | None]:
    """`size` rows of `stmt` with `column` (an id) below `before`, highest first; and the id to continue
    below, None on the last page."""
    if before:
        stmt = stmt.where(column < before)
    result = db.session.scalars(stmt.order_by(column.desc()).limit(size + 1))
    rows = (result.unique() if unique else result).all()
    if len(rows) <= size:
        return rows, None
    rows = rows[:size]
    return rows, getattr(rows[-1], column.key)


def encode(last_id: int | None) -> str | None:
    return base64.urlsafe_b64encode(str(last_id).encode()).decode().rstrip("=") if last_id else None


def decode(cursor: str | None, field: str = "after") -> int | None:
    """The id in an API cursor; None when there is none; 400 on one this API did not hand out."""
    if not cursor:
        return None
    try:
        last_id = record_id(base64.urlsafe_b64decode(cursor.encode() + b"==").decode())
    except ValueError:  # binascii.Error and UnicodeDecodeError are ValueErrors
        last_id = None
    if last_id is None:
        raise BadRequest(_("The cursor is not valid."), fields={field: "cursor"})
    return last_id


@dataclass(frozen=True)
class Order:
    """A list's order: by `column` (None: by id alone) one way, then by id the same way; rows without a value
    (a case without a deadline) last either way. `value` reads the sorted value of a row for the cursor,
    `parse` reads it back."""
    key: str
    column: Any = None
    descending: bool = False
    nullable: bool = False
    value: Callable[[Any], Any] | None = None
    parse: Callable[[str], Any] = str
    id_column: Any = None

    def reversed(self, descending: bool) -> "Order":
        return replace(self, descending=descending)


def ordered(stmt, order: Order, after: str | None):
    """`stmt` in `order`, from the row after the cursor `after` on (keyset on (sorted value, id))."""
    ident = order.id_column
    value, last_id = read_cursor(order, after)
    later_id = (ident < last_id if order.descending else ident > last_id) if last_id is not None else None
    if order.column is None:
        if last_id is not None:
            stmt = stmt.where(later_id)
        return stmt.order_by(ident.desc() if order.descending else ident.asc())
    col = order.column
    if last_id is not None:
        if value is None:  # already among the rows without a value
            stmt = stmt.where(col.is_(None), later_id)
        else:
            later = or_(col < value if order.descending else col > value, and_(col == value, later_id))
            stmt = stmt.where(or_(later, col.is_(None)) if order.nullable else later)
    by = col.desc() if order.descending else col.asc()
    return stmt.order_by(by.nulls_last() if order.nullable else by,
                         ident.desc() if order.descending else ident.asc())


def cursor_of(order: Order, row) -> str:
    """The cursor that continues after `row`: "value|id", or the id alone when ordered by id."""
    row_id = getattr(row, order.id_column.key)
    if order.column is None:
        return str(row_id)
    value = order.value(row) if order.value else getattr(row, order.column.key)
    shown = "" if value is None else (value.isoformat() if hasattr(value, "isoformat") else str(value))
    return f"{shown}|{row_id}"


def read_cursor(order: Order, raw: str | None):
    """(value, id) of a cursor made by `cursor_of`; (None, None) without one; 400 on a malformed one."""
    if not raw:
        return None, None
    shown, sep, ident = str(raw).rpartition("|")
    last_id = record_id(ident)
    try:
        if last_id is None or (order.column is None) == bool(sep):
            raise ValueError(raw)
        value = None if order.column is None or shown == "" else order.parse(shown)
    except ValueError:
        raise BadRequest(_("The cursor is not valid."), fields={"after": "cursor"}) from None
    return value, last_id


def keyset(stmt, order: Order, after: str | None, size: int, *,
           unique: bool = False) -> tuple[list, str | None]:
    """`size` rows of `stmt` in `order` after the cursor `after`; and the cursor to continue with, None on
    the last page."""
    result = db.session.scalars(ordered(stmt, order, after).limit(size + 1))
    rows = (result.unique() if unique else result).all()
    if len(rows) <= size:
        return rows, None
    rows = rows[:size]
    return rows, cursor_of(order, rows[-1])


def encode_cursor(cursor: str | None) -> str | None:
    """An API cursor for a `keyset` cursor: opaque, and for an order by id the same as `encode`."""
    return base64.urlsafe_b64encode(cursor.encode()).decode().rstrip("=") if cursor else None


def decode_cursor(cursor: str | None) -> str | None:
    if not cursor:
        return None
    try:
        decoded = base64.urlsafe_b64decode(cursor.encode() + b"==").decode()
    except ValueError:
        decoded = ""
    if not decoded:  # characters outside the alphabet are dropped: "!!" reads as nothing
        raise BadRequest(_("The cursor is not valid."), fields={"after": "cursor"})
    return decoded
