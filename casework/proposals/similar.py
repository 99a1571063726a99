"""Possible duplicates: earlier proposals that say much the same, by TF-IDF cosine over jieba words.

Each proposal's words are indexed once, when it is submitted (its text is fixed from then on). A query
reads only the index rows of the words it shares with the proposal, so it stays fast over many
thousands of proposals; the few best candidates are then scored exactly.
"""
from __future__ import annotations

import math
from collections import Counter, defaultdict

from flask_babel import lazy_gettext as _l
from sqlalchemy import event, func, select

from ..core import settings
from ..core.models import Case
from ..core.text import WORD as _WORD, segmenter
from ..extensions import db
from .models import Proposal, ProposalTerm

settings.declare("duplicate_threshold", 30, "percent",
                 _l("How alike (cosine similarity, in percent) a new proposal and an earlier one must be for "
                    "reviewers to see it as a possible duplicate."))

# Words every proposal uses; they would only add noise.
STOPWORDS = frozenset("""
的 了 在 是 和 与 及 对 将 把 被 为 等 也 就 都 而 或 但 并 从 到 由 以 于 之 其 这 那 有 无 不 没 很 太
一个 一些 我们 你们 他们 大家 进行 可以 能够 没有 这个 那个 这些 那些 因为 所以 如果 由于 通过 目前 现在
经常 常常 比较 非常 问题 建议 希望 需要 情况 造成 导致 存在 出现 已经 工作 方面 有关 相关 提出
""".split())
TITLE_WEIGHT = 2  # a title's words count twice: it names the subject
CANDIDATES = 30


def words(text: str) -> list[str]:
    out = []
    for w in segmenter().lcut_for_search(text or ""):
        w = w.strip().lower()
        if len(w) >= 2 and _WORD.match(w) and w not in STOPWORDS and not w.isdigit():
            out.append(w[:32])
    return out


def terms_of(title: str, problem: str, suggestion: str) -> Counter:
    counts = Counter(words(f"{problem}\n{suggestion}"))
    for w in words(title):
        counts[w] += TITLE_WEIGHT
    return counts


def index(proposal: Proposal) -> None:
    """Add the proposal's words to the index (once: its text no longer changes after submission)."""
    db.session.add_all(ProposalTerm(proposal_id=proposal.id, term=t, tf=n)
                       for t, n in terms_of(proposal.title, proposal.problem, proposal.suggestion).items())


@event.listens_for(Case.state, "set", propagate=True)
def _on_submit(target, value, oldvalue, _initiator):
    # The engine sets the state inside the submit step, so the index rows join that transaction.
    if isinstance(target, Proposal) and oldvalue == "draft" and value == "submitted" and target.id:
        index(target)


def _weight(tf: int, idf: float) -> float:
    return (1 + math.log(tf)) * idf


def similar(proposal: Proposal, *, limit: int = 5, threshold: float | None = None) -> list[tuple[int, float]]:
    """[(proposal id, cosine)] of earlier submitted proposals, best first, at or above the threshold."""
    if threshold is None:
        threshold = settings.get(proposal.unit, "duplicate_threshold") / 100
    earlier = select(Proposal.id).where(Proposal.id < proposal.id, Proposal.state != "draft")
    return ranked(_terms(proposal), earlier, limit=limit, threshold=threshold)


def ranked(query: Counter, among, *, limit: int, threshold: float) -> list[tuple[int, float]]:
    """[(proposal id, cosine)] of the proposals in `among` (a SELECT of ids) most like the words `query`."""
    if not query:
        return []
    # Every submitted proposal is indexed: IDF counts over all of them, candidates come from `among`.
    n_docs = db.session.scalar(select(func.count()).select_from(Case).where(Case.kind == "proposal",
                                                                                 Case.state != "draft"))
    if not n_docs:
        return []
    df = _df(query)
    idf = {t: math.log((n_docs + 1) / (df.get(t, 0) + 1)) + 1 for t in query}
    q_vec = {t: _weight(n, idf[t]) for t, n in query.items()}
    q_norm = math.sqrt(sum(w * w for w in q_vec.values()))
    # Words in more than half the proposals say little and would read most of the index: skip them here.
    rare = [t for t in query if df.get(t, 0) <= max(n_docs // 2, 10)]
    partial: dict[int, float] = defaultdict(float)
    for pid, term, tf in db.session.execute(
            select(ProposalTerm.proposal_id, ProposalTerm.term, ProposalTerm.tf)
            .where(ProposalTerm.term.in_(rare), ProposalTerm.proposal_id.in_(among))):
        partial[pid] += q_vec[term] * _weight(tf, idf[term])
    best = sorted(partial, key=partial.get, reverse=True)[:CANDIDATES]
    if not best:
        return []
    # Exact cosine for the best candidates: their whole vectors with the same IDF.
    vectors: dict[int, dict[str, int]] = defaultdict(dict)
    for pid, term, tf in db.session.execute(select(ProposalTerm.proposal_id, ProposalTerm.term, ProposalTerm.tf)
                                            .where(ProposalTerm.proposal_id.in_(best))):
        vectors[pid][term] = tf
    more = _df({t for v in vectors.values() for t in v if t not in idf})
    for t, n in more.items():
        idf[t] = math.log((n_docs + 1) / (n + 1)) + 1
    scored = []
    for pid in best:
        vec = {t: _weight(tf, idf.get(t, 1.0)) for t, tf in vectors[pid].items()}
        norm = math.sqrt(sum(w * w for w in vec.values()))
        if not norm:
            continue
        cos = sum(q_vec[t] * w for t, w in vec.items() if t in q_vec) / (q_norm * norm)
        if cos >= threshold:
            scored.append((pid, round(cos, 4)))
    scored.sort(key=lambda x: (-x[1], x[0]))
    return scored[:limit]


def _terms(proposal: Proposal) -> Counter:
    rows = db.session.execute(select(ProposalTerm.term, ProposalTerm.tf)
                              .where(ProposalTerm.proposal_id == proposal.id)).all()
    if rows:
        return Counter(dict(rows))
    return terms_of(proposal.title, proposal.problem, proposal.suggestion)


def _df(terms) -> dict[str, int]:
    terms = list(terms)
    out: dict[str, int] = {}
    for i in range(0, len(terms), 500):  # keep IN lists a sane size
        out.update(db.session.execute(select(ProposalTerm.term, func.count()).where(
            ProposalTerm.term.in_(terms[i:i + 500])).group_by(ProposalTerm.term)).all())
    return out
