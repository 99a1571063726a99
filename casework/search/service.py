"""The one search: among the cases the viewer may see (`visible_filter`, the rule every list uses), those
whose number contains the text, whose title contains it (kinds with indexed text only: an aid request's
title is its category), whose applicant's name contains it, or whose indexed words hold every word of it.
Newest first through the one keyset pager."""
from __future__ import annotations

from datetime import date

from flask_babel import gettext as _
from sqlalchemy import Integer, column, false, func, select, text, union

from ..accounts.models import User
from ..core import kinds, paging
from ..core.errors import BadRequest
from ..core.models import Case
from ..core.queries import created_within, day_span, listed
from ..extensions import db
from .index import tokens
from .models import SearchText

MAX_QUERY = 100
MAX_WORDS = 8


def parse_day(raw: str | None, field: str) -> date | None:
    """One day of the search by the lists' one reader (`day_span`); a wrong one is a 400 with its message."""
    start, end, errors = day_span({field: raw})
    if errors:
        raise BadRequest(errors[field], fields=errors)
    return start if field == "from" else end


def parse_kind(raw: str | None) -> str | None:
    raw = (raw or "").strip()
    if raw and raw not in kinds.KINDS:
        raise BadRequest(_("Unknown kind of case."), fields={"kind": "|".join(sorted(kinds.KINDS))})
    return raw or None


def _words_match(words: list[str]):
    """The ids of cases whose indexed words hold every one of `words`, through the full-text index."""
    if db.engine.dialect.name == "sqlite":
        query = " ".join('"' + w.replace('"', '""') + '"' for w in words)
        return (select(column("rowid", Integer)).select_from(text("search_fts"))
                .where(text("search_fts MATCH :q").bindparams(q=query)))
    tsv = func.to_tsvector(text("'simple'"), SearchText.tokens)
    tsq = func.plainto_tsquery(text("'simple'"), " ".join(words))
    return select(SearchText.case_id).where(tsv.op("@@")(tsq))


def search_filter(q: str):
    """The matching cases as one IN over a UNION of narrow selects: each read once, then the newest-first
    page only probes the set (an OR per row made a rare word cost a scan of every case)."""
    q = q.strip()[:MAX_QUERY]
    if not q:
        return false()
    text_kinds = sorted(k for k, spec in kinds.KINDS.items() if spec.search_fields)
    parts = [select(Case.id).where(Case.number.contains(q.upper(), autoescape=True)),
             select(Case.id).where(Case.kind.in_(text_kinds), Case.title.contains(q, autoescape=True)),
             select(Case.id).where(Case.applicant_id.in_(
                 select(User.id).where(User.name.contains(q, autoescape=True))))]
    words = tokens(q, for_query=True)[:MAX_WORDS]
    if words:
        parts.append(_words_match(words))
    return Case.id.in_(union(*parts))


def search(viewer: User, q: str, *, kind: str | None = None, start: date | None = None,
           end: date | None = None, after: int | None = None, size: int = 25) -> tuple[list[Case], int | None]:
    """A page of matching cases the viewer may see, newest first, and the id to continue below."""
    if not (q or "").strip():
        return [], None
    stmt = kinds.visible_cases(viewer, kind).where(search_filter(q))
    stmt = created_within(stmt, start, end)  # the union's days, as in every list
    return paging.newest_first(listed(stmt), Case.id, after, size, unique=True)


def item(case: Case, viewer: User) -> dict:
    """A result as lists name it: an aid request's category only for those who see the whole request."""
    return {"kind": case.kind, "id": case.id, "number": case.number,
            "title": kinds.caption(case, viewer, with_name=False), "state": case.state}
