"""Retrievers with llama-index's ``BaseRetriever`` contract (``retrieve(str | Query)``, subclasses write
``_retrieve``) but not its class, which would load ``llama_index.core`` on every question (see
``veille.passage``): dense (Chroma), lexical (SQLite FTS5 over French-analysed terms) and hybrid (both,
fused, with per-document diversity). ``HybridRetriever.search``
returns a ``Retrieval``: the passages and, as evidence for the refusal policy, each branch's own list.

Every retriever applies ``Filters`` inside its own search (Chroma ``where``, SQL ``WHERE``), i.e.
before ranking, so a filtered-out passage can never take a slot.
"""
from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Callable

from assistant.search.fusion import ReciprocalRankFusion, make_fusion
from veille.errors import UnknownChoice
from veille.filters import Filters
from veille.passage import Passage, Query, ScoredPassage
from veille.store import Store
from veille.text import tokens

@dataclass
class Timings:
    values: dict[str, float] = field(default_factory=dict)

    def add(self, stage: str, started: float) -> None:
        self.values[stage] = self.values.get(stage, 0.0) + (time.perf_counter() - started) * 1000


def node_from_row(row) -> Passage:
    return Passage(id_=row["chunk_id"], text=row["text"], start_char_idx=row["char_start"],
                   end_char_idx=row["char_end"],
                   metadata={"doc_id": row["doc_id"], "position": row["position"], "heading": row["heading"] or ""})


class Retriever:
    """``retrieve`` takes a question or a ``Query`` (with its vector when the caller has one)."""

    def retrieve(self, query: str | Query) -> list[ScoredPassage]:
        return self._retrieve(Query(query) if isinstance(query, str) else query)

    def _retrieve(self, query: Query) -> list[ScoredPassage]:
        raise NotImplementedError


class DenseRetriever(Retriever):
    def __init__(self, store: Store, embedder, top_k: int = 50, filters: Filters | None = None,
                 timings: Timings | None = None):
        self.store, self.embedder, self.top_k = store, embedder, top_k
        self.filters = filters or Filters()
        self.timings = timings or Timings()

    def embed(self, query: str) -> list[float]:
        t0 = time.perf_counter()
        vector = self.embedder.embed_queries([query])[0].tolist()
        self.timings.add("embed_query", t0)
        return vector

    def _retrieve(self, query: Query) -> list[ScoredPassage]:
        vector = query.embedding or self.embed(query.query_str)
        t0 = time.perf_counter()
        where = self.filters.chroma_where()
        filtered = where is not None or bool(self.filters.entities)  # entities live in the store only
        found = self._nearest_in_sql(vector, self.top_k * DENSE_FILTER_POOL if filtered else self.top_k,
                                     can_fall_back=where is not None)
        if found is None:
            found = self._chroma_where(vector, where)
        self.timings.add("search_dense", t0)
        return found

    def _nearest_in_sql(self, vector: list[float], pool: int, can_fall_back: bool = True) -> list[ScoredPassage] | None:
        """The nearest ``pool`` chunk ids (at least ``DENSE_SEARCH_WIDTH``; ids and distances only, a few ms),
        then the same SQL filter as the lexical branch keeps the allowed ones, in distance order — filtered
        search without Chroma's ``where`` (0.3–0.8 s at 100,000 chunks, see scripts/bench_scale.py).

        Exact whenever ``top_k`` allowed chunks are in the pool (same scores, same order). Otherwise,
        under an audience restriction, the allowed part of the pool is returned as is — always the same
        work, so the response time tells nothing about documents outside the audience; without one, the
        caller falls back to Chroma's ``where`` (None) when it has one (``can_fall_back``)."""
        width = max(pool, DENSE_SEARCH_WIDTH)
        result = self.store.collection.query(query_embeddings=[vector], n_results=width, include=["distances"])
        ids, distances = result["ids"][0], result["distances"][0]
        if not ids:
            return []
        # Rows (with their text) for the first ``pool`` ids, the others only when some of those are not allowed —
        # but all at once under an audience, so that the work never depends on what the asker may not see.
        head = ids if self.filters.audience is not None else ids[:pool]
        rows = self.store.chunks(head, self.filters)
        if len(rows) < len(head) < len(ids):
            rows.update(self.store.chunks(ids[len(head):], self.filters))
        kept = self._allowed_nearest(ids, distances, rows)
        if (can_fall_back and len(kept) < self.top_k and len(ids) == width and self.filters.audience is None
                and not self.filters.entities):
            return None  # Chroma's where searches past the pool
        return kept

    def _chroma_where(self, vector: list[float], where: dict) -> list[ScoredPassage]:
        result = self.store.collection.query(query_embeddings=[vector], where=where, include=["distances"],
                                             n_results=max(self.top_k, DENSE_SEARCH_WIDTH))
        ids, distances = result["ids"][0], result["distances"][0]
        return self._allowed_nearest(ids, distances, self.store.chunks(ids, self.filters))

    def _allowed_nearest(self, ids: list[str], distances: list[float], rows: dict) -> list[ScoredPassage]:
        """The first ``top_k`` of ``ids`` (nearest first) that have a stored, allowed row in ``rows``."""
        kept = [(rows[i], dist) for i, dist in zip(ids, distances) if i in rows][:self.top_k]
        # Chroma's cosine space reports distance = 1 - cosine.
        return [ScoredPassage(node=node_from_row(row), score=1.0 - dist) for row, dist in kept]


# Candidate pool of the filtered dense search, in multiples of top_k (50 × 40 = 2,000 ids: ~12 ms at 100k).
DENSE_FILTER_POOL = 40
# Chroma's HNSW keeps the best max(ef_search = 100, n_results) candidates while it walks the graph, and what it
# misses varies from one process to the next. Asked for 50 among the 5,290 passages of the demo-among-distractors
# store, it put the true nearest passage first for 0.956–0.968 of 500 PIAF training questions (three processes;
# 0.965 of the demo questions, and with the misses went right answers); 200: 0.970–0.980; 400: 0.988–0.994, for
# 4.9 ms a query instead of 2.9 (scripts/bench_dense_recall.py; widths compared on training questions). Raising
# ef_search on the collection does not reach a loaded index.
DENSE_SEARCH_WIDTH = 400


class LexicalRetriever(Retriever):
    """BM25 (SQLite FTS5) over stemmed, accent-folded, stop-word-free French terms."""

    def __init__(self, store: Store, top_k: int = 50, filters: Filters | None = None,
                 timings: Timings | None = None):
        self.store, self.top_k = store, top_k
        self.filters = filters or Filters()
        self.timings = timings or Timings()

    def _retrieve(self, query: Query) -> list[ScoredPassage]:
        t0 = time.perf_counter()
        terms = sorted(set(tokens(query.query_str)))
        rows = self.store.lexical_search(terms, self.filters, self.top_k)
        self.timings.add("search_lexical", t0)
        # FTS5's bm25() is negative (lower is better); flip it so higher is better everywhere.
        return [ScoredPassage(node=node_from_row(r), score=-r["rank"]) for r in rows]


@dataclass
class Retrieval:
    """What a search hands to the composer and the refusal policy."""
    passages: list[ScoredPassage]  # fused, at most ``per_doc`` per document, best first
    dense: list[ScoredPassage] = field(default_factory=list)  # the dense branch's own list (cosines)
    lexical: list[ScoredPassage] = field(default_factory=list)  # the lexical branch's own list (BM25)
    timings: Timings = field(default_factory=Timings)

    @property
    def dense_top(self) -> float:
        """Best cosine of the dense branch (refusal evidence); 0 without a dense branch."""
        return max((n.score for n in self.dense), default=0.0)


MODES = ("hybrid", "dense", "bm25")

# A boost gives each fused candidate an extra score, as a fraction of the best fused score (the scale of
# fused scores depends on the fusion: [0, 1] for wsum, ~1/60 for RRF), e.g. ``assistant.search.period.PeriodBoost``.
Boost = Callable[[list[Passage]], list[float]]


def boosted(fused: list[tuple[str, float]], nodes: list[Passage], boost: Boost) -> list[tuple[str, float]]:
    """``fused`` with ``boost`` added and re-sorted, best first."""
    if not fused:
        return fused
    top = fused[0][1]
    scores = [(key, score + top * extra) for (key, score), extra in zip(fused, boost(nodes))]
    return sorted(scores, key=lambda kv: kv[1], reverse=True)


# The lexical branch of hybrid searches runs here while the caller's thread runs the dense one (SQLite and
# Chroma's index release the GIL); each worker thread opens its own SQLite connection (Store.db).
_LEXICAL_WORKERS = ThreadPoolExecutor(max_workers=4, thread_name_prefix="veille-lexical")


class HybridRetriever(Retriever):
    """Dense + lexical, fused, then at most ``per_doc`` passages per document and one document per
    near-duplicate cluster (diversity: five copies of one press release take one document's slots).
    A ``boost`` (see ``Boost``) reorders the fused candidates before that cut."""

    def __init__(self, store: Store, embedder, top_k: int = 8, candidates: int = 50,
                 filters: Filters | None = None, fusion=None, per_doc: int = 3, mode: str = "hybrid",
                 boost: Boost | None = None):
        if mode not in MODES:
            raise UnknownChoice("Mode de recherche inconnu", mode, MODES)
        self.timings = Timings()
        self.store = store
        self.dense = DenseRetriever(store, embedder, candidates, filters, self.timings)
        self.lexical = LexicalRetriever(store, candidates, filters, self.timings)
        self.fusion = fusion or ReciprocalRankFusion()
        self.top_k, self.per_doc, self.mode, self.boost = top_k, per_doc, mode, boost

    def branches(self, query: Query) -> tuple[list[ScoredPassage], list[ScoredPassage]]:
        """The dense and the lexical lists (empty for a branch the mode leaves out). In hybrid mode the two run at
        once: the lexical one in a worker thread; each list is the one its branch gives alone."""
        if self.mode == "hybrid":
            pending = _LEXICAL_WORKERS.submit(self.lexical.retrieve, query)
            dense = self.dense.retrieve(query)
            return dense, pending.result()
        dense = self.dense.retrieve(query) if self.mode == "dense" else []
        lexical = self.lexical.retrieve(query) if self.mode == "bm25" else []
        return dense, lexical

    def search(self, query: Query) -> Retrieval:
        dense, lexical = self.branches(query)
        t0 = time.perf_counter()
        by_id = {n.node.node_id: n for n in lexical}
        by_id.update({n.node.node_id: n for n in dense})
        lists = [[(n.node.node_id, n.score) for n in lst] for lst in (dense, lexical) if lst]
        fused = self.fusion.fuse(lists) if len(lists) > 1 else (lists[0] if lists else [])
        if self.boost is not None:
            fused = boosted(fused, [by_id[i].node for i, _ in fused], self.boost)
        out: list[ScoredPassage] = []
        per_doc: dict[str, int] = {}
        clusters = self.store.clusters_of([by_id[i].node.metadata.get("doc_id", "") for i, _ in fused])
        kept_copy: dict[str, str] = {}  # cluster -> the document retrieved for it
        for node_id, score in fused:
            node = by_id[node_id].node
            doc_id = node.metadata.get("doc_id", "")
            if per_doc.get(doc_id, 0) >= self.per_doc or kept_copy.setdefault(clusters[doc_id], doc_id) != doc_id:
                continue
            per_doc[doc_id] = per_doc.get(doc_id, 0) + 1
            out.append(ScoredPassage(node=node, score=score))
            if len(out) >= self.top_k:
                break
        # Passages are read from SQL by both branches and carry no title, date or type: the prompts of the
        # generative paths show them (``format_passages``).
        labels = self.store.document_labels([n.node.metadata.get("doc_id", "") for n in out])
        for nws in out:
            for key, value in labels.get(nws.node.metadata.get("doc_id", ""), {}).items():
                nws.node.metadata.setdefault(key, value)
        self.timings.add("fuse", t0)
        return Retrieval(out, dense, lexical, self.timings)

    def _retrieve(self, query: Query) -> list[ScoredPassage]:
        return self.search(query).passages


@dataclass
class Search:
    """The assistant's retrieval part: a ``HybridRetriever`` per question (filters and top-k vary), over one
    store and model, in one mode with one fusion — both checked when the part is made."""
    store: Store
    embedder: object
    mode: str = "hybrid"
    fusion: str = "wsum"
    dense_weight: float = 0.6
    candidates: int = 50

    def __post_init__(self) -> None:
        if self.mode not in MODES:
            raise UnknownChoice("Mode de recherche inconnu", self.mode, MODES)
        make_fusion(self.fusion, self.dense_weight)

    def __call__(self, question: str, filters: Filters, top_k: int, boost: Boost | None = None) -> Retrieval:
        retriever = HybridRetriever(self.store, self.embedder, top_k=top_k, candidates=self.candidates,
                                    filters=filters, fusion=make_fusion(self.fusion, self.dense_weight),
                                    mode=self.mode, boost=boost)
        return retriever.search(Query(question))
