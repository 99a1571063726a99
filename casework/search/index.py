"""Keeping the search index: a case's words are (re)written when it is inserted or one of its kind's
`search_fields` changes, on the flush's own connection, so they commit or roll back with the case."""
from __future__ import annotations

from sqlalchemy import delete, event, insert, inspect, select

from ..core import kinds
from ..core.models import Case
from ..core.text import WORD, segmenter
from ..extensions import db
from .models import SearchText

MAX_TOKENS = 4000  # a long motion's words, once each; enough to find it by any of them


def tokens(text: str, *, for_query: bool = False) -> list[str]:
    """jieba words, lower-cased, each once. Documents get the finer search-mode cut as well as the whole
    words, so a query word matches whichever way it is cut; queries use the precise cut."""
    jieba = segmenter()
    cut = jieba.lcut(text or "") if for_query else jieba.lcut_for_search(text or "")
    out: dict[str, None] = {}
    for w in cut:
        w = w.strip().lower()
        if w and WORD.match(w):
            out.setdefault(w[:64], None)
    return list(out)[:MAX_TOKENS]


def text_of(case: Case) -> str:
    fields = _fields(case)
    return "\n".join(str(getattr(case, f, "") or "") for f in fields)


def _fields(case: Case) -> tuple[str, ...]:
    spec = kinds.KINDS.get(case.kind)
    return spec.search_fields if spec else ()


def _write(connection, case: Case, fresh: bool = False) -> None:
    if not fresh:  # a case just inserted has no words yet
        connection.execute(delete(SearchText).where(SearchText.case_id == case.id))
    words = tokens(text_of(case))
    if words:
        connection.execute(insert(SearchText).values(case_id=case.id, tokens=" ".join(words)))


@event.listens_for(Case, "after_insert", propagate=True)
def _on_insert(_mapper, connection, target):
    if _fields(target):
        _write(connection, target, fresh=True)


@event.listens_for(Case, "after_update", propagate=True)
def _on_update(_mapper, connection, target):
    state = inspect(target)
    if any(state.attrs[f].history.has_changes() for f in _fields(target) if f in state.attrs):
        _write(connection, target)


def rebuild(batch: int = 500) -> int:
    """Rewrite every case's words (after a change to what is indexed); returns how many cases have words."""
    db.session.execute(delete(SearchText))
    written = 0
    for spec in kinds.KINDS.values():
        if not spec.search_fields:
            continue
        model, last = spec.model, 0
        while True:
            rows = db.session.scalars(select(model).where(model.id > last).order_by(model.id).limit(batch)).all()
            if not rows:
                break
            values = [{"case_id": c.id, "tokens": " ".join(w)} for c in rows if (w := tokens(text_of(c)))]
            if values:
                db.session.execute(insert(SearchText), values)
            written += len(values)
            last = rows[-1].id
            db.session.expunge_all()  # a rebuild of 100,000 cases must not hold them all
    if db.engine.dialect.name == "sqlite":
        db.session.execute(db.text("INSERT INTO search_fts(search_fts) VALUES ('optimize')"))
    return written
