"""The one keyset pager: newest first by id, a page and the cursor to the next one (web pages and the API).

Keyset, not OFFSET: a page costs the same at the end of a long list, and rows added meanwhile do not shift it.
The API hands the cursor out opaque (`encode`/`decode`); pages pass the id itself (`?after=`/`?before=`).
"""
from __future__ import annotations

import base64

from flask_babel import gettext as _

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
