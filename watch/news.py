"""« Nouveautés depuis votre dernière visite »: the documents that arrived since the user's previous visit (per
account; 'local' without accounts) and concern them — found by one of the watches, mentioning an entity a watch
follows (``--entite``), or of one of the account's filières — one per near-duplicate cluster, each with one or two
cited key sentences. Only documents of the user's audience are considered.

A visit starts when the user comes back after ``VISIT_GAP_S`` without looking (as web analytics count visits), so
refreshing a page does not empty the list; the first visit shows the last ``FIRST_VISIT_DAYS`` days.
"""
from __future__ import annotations

import time
from dataclasses import asdict, dataclass, field

from accounts import active_user, enforce
from assistant.answering.answer import Copy
from watch.cards import DocumentCard
from assistant.answering.citation_extras import copies_of
from assistant.answering.compose import select_sentences, sentence_candidates
from veille.filters import Filters
from watch.watches import list_watches

VISIT_GAP_S = 30 * 60
FIRST_VISIT_DAYS = 7


@dataclass
class NewsItem(DocumentCard):
    reasons: list[str] = field(default_factory=list)  # « veille « X » », « entité Région Normandie », « filière … »
    sentences: list[str] = field(default_factory=list)
    copies: list[Copy] = field(default_factory=list)  # other members of its cluster the user may see
    ingested_at: float = 0.0

    def copies_label(self) -> str:
        """« repris par N sources » (distinct sources, itself included), empty without copies elsewhere."""
        n = len({self.source} | {c.source for c in self.copies})
        return f"repris par {n} sources" if n > 1 else ""

    def as_dict(self) -> dict:
        return asdict(self)


@dataclass
class News:
    user: str
    since: float
    items: list[NewsItem] = field(default_factory=list)
    first_visit: bool = False


def whats_new(assistant, filters: Filters | None = None, now: float | None = None, limit: int = 30) -> News:
    """The news of the user ``filters`` carries ('local' without one), since their previous visit."""
    settings, store = assistant.settings, assistant.store
    filters = enforce(settings, filters or Filters())
    user = filters.user or "local"
    now = time.time() if now is None else now
    previous = store.begin_visit(user, now, VISIT_GAP_S)
    since, first = (previous, False) if previous is not None else (now - FIRST_VISIT_DAYS * 86400, True)
    arrived = store.new_documents(since, now)
    visible = store.visible_documents(arrived, Filters(audience=filters.audience)) if arrived else set()
    arrived = [d for d in arrived if d in visible]
    news = News(user, since, first_visit=first)
    if not arrived:
        return news
    reasons: dict[str, list[str]] = {}
    snippets: dict[str, list[str]] = {}
    watches = list_watches(settings)
    for w in watches:  # documents a watch kept, with the sentences it cited
        for hit in store.watch_hits(w.id, include_seen=True):
            if hit["doc_id"] in visible and hit["found_at"] > since:
                reasons.setdefault(hit["doc_id"], []).append(f"veille « {w.name} »")
                snippets.setdefault(hit["doc_id"], [s.strip() for s in hit["snippet"].split(" … ") if s.strip()])
    followed = sorted({e for w in watches for e in w.filters.get("entities", [])})
    for name in followed:
        for doc_id in store.visible_documents(arrived, Filters(audience=filters.audience, entities=[name])):
            reasons.setdefault(doc_id, []).append(f"entité {name}")
    account = active_user(settings, filters.user) if filters.user else None
    for filiere in (account.filieres if account else ()):
        for doc_id in store.visible_documents(arrived, Filters(audience=filters.audience, filieres=[filiere])):
            reasons.setdefault(doc_id, []).append(f"filière {filiere}")
    concerned = [d for d in reversed(arrived) if d in reasons]  # newest first
    clusters = store.clusters_of(concerned)
    copies = copies_of(store, concerned, filters.audience)
    seen_clusters: set[str] = set()
    idf = assistant.term_stats(filters)
    for doc_id in concerned:
        cluster = clusters[doc_id]
        if cluster in seen_clusters:
            continue
        seen_clusters.add(cluster)
        doc = store.document(doc_id) or {}
        sentences = snippets.get(doc_id) or _key_sentences(assistant, doc_id, reasons[doc_id], filters, idf)
        news.items.append(NewsItem(**DocumentCard.fields_of({**doc, "doc_id": doc_id}), reasons=reasons[doc_id],
                                   sentences=sentences[:2],
                                   copies=copies.get(doc_id, []),
                                   ingested_at=doc.get("ingested_at") or 0.0))
        if len(news.items) >= limit:
            break
    return news


def _key_sentences(assistant, doc_id: str, reasons: list[str], filters: Filters, idf) -> list[str]:
    """Two sentences of the document for what concerns the user (the entity or filière that brought it)."""
    query = " ".join(r.split(" ", 1)[1] for r in reasons)
    scope = Filters(**{**filters.as_dict(), "doc_ids": [doc_id], "user": filters.user})
    passages = assistant.retrieve(query, scope, top_k=3).passages
    chosen = select_sentences(sentence_candidates(query, passages, idf), max_sentences=2)
    return [" ".join(s.text.split()) for s in chosen]
