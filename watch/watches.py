"""Saved watches (alerts): a named query with filters, run over the documents added since its last run.

A watch runs the assistant's own retrieval restricted to the new documents (``Filters.doc_ids``) and
keeps a document only if its confidence (e5 cosine of its best passage + share of the query's terms
its best sentences cover, as for refusals) reaches the watch's threshold, so unrelated new documents
stay quiet. Watches and their findings are kept by the store (``veille/store/watches.py``), so they survive restarts.
"""
from __future__ import annotations

import json
import time
from dataclasses import dataclass

import numpy as np

from assistant.answering.citations import centred_excerpt
from assistant.answering.compose import query_coverage, select_sentences, sentence_candidates
from assistant.service import Assistant
from veille.config import Settings, get_settings
from veille.errors import VeilleError
from veille.filters import Filters, safe_url, source_label
from veille.markup import md_literal
from veille.store import get_store

BATCH_DOCS = 16  # documents per retrieval: each gets a fair share of the candidate slots


class WatchError(VeilleError):
    """A watch request that cannot be honoured; the message is French."""


@dataclass
class Watch:
    id: int
    name: str
    query: str
    filters: dict
    threshold: float | None
    created_at: float
    last_run: float
    unseen: int = 0

    def as_filters(self, doc_ids: list[str] | None = None, dated: bool = True) -> Filters:
        """The watch's filters over ``doc_ids``; ``dated=False`` leaves out its period: an undated document is
        judged on the rest, and found said as undated, never dropped for want of a date."""
        period = {} if dated else {"date_from": None, "date_to": None}
        return Filters(**{**self.filters, **period, "doc_ids": list(doc_ids or [])})


@dataclass
class WatchHit:
    watch: str
    doc_id: str
    score: float
    title: str
    url: str
    date: str | None
    doc_type: str
    snippet: str
    found_at: float
    seen: bool = False

    def as_dict(self) -> dict:
        return dict(self.__dict__)


def _watch(row) -> Watch:
    return Watch(row["id"], row["name"], row["query"], json.loads(row["filters"] or "{}"), row["threshold"],
                 row["created_at"], row["last_run"], row["unseen"] if "unseen" in row.keys() else 0)


def add_watch(query: str, filters: Filters | None = None, name: str | None = None, threshold: float | None = None,
              settings: Settings | None = None) -> Watch:
    settings = settings or get_settings()
    query = (query or "").strip()
    if not query:
        raise WatchError("La requête de la veille est vide.")
    name = (name or query).strip()
    if threshold is not None and not 0.0 <= threshold <= 1.0:
        raise WatchError("Le seuil doit être compris entre 0 et 1.")
    store = get_store(settings)
    if store.watch_row(name) is not None:
        raise WatchError(f"Une veille « {name} » existe déjà (veille watch remove « {name} » pour la remplacer).")
    now = time.time()
    stored = (filters or Filters()).as_dict()
    stored.pop("doc_ids", None)
    store.insert_watch(name, query, stored, threshold, now)
    return get_watch(name, settings)


def get_watch(name_or_id: str, settings: Settings | None = None) -> Watch:
    row = get_store(settings or get_settings()).watch_row(name_or_id)
    if row is None:
        raise WatchError(f"Aucune veille « {name_or_id} » (veille watch list pour les voir).")
    return _watch(row)


def list_watches(settings: Settings | None = None) -> list[Watch]:
    return [_watch(r) for r in get_store(settings or get_settings()).watch_rows()]


def remove_watch(name_or_id: str, settings: Settings | None = None) -> Watch:
    settings = settings or get_settings()
    watch = get_watch(name_or_id, settings)
    get_store(settings).delete_watch(watch.id)
    return watch


# --- running ------------------------------------------------------------------------------------

def evaluate(assistant, watch: Watch, doc_ids: list[str], threshold: float) -> list[WatchHit]:
    """The new documents that answer the watch's query, best first, each with its cited sentences."""
    store = assistant.store
    filters = watch.as_filters()
    idf = assistant.term_stats(filters)  # within the watch's audience, as for answers
    query_vec = np.asarray(assistant.embedder.embed_queries([watch.query])[0], dtype=np.float32)
    hits: list[WatchHit] = []
    groups = [(doc_ids, True)]
    if filters.date_from is not None or filters.date_to is not None:  # the undated judged apart, without the period
        undated = set(store.undated_documents(Filters(doc_ids=list(doc_ids))))
        groups = [([d for d in doc_ids if d not in undated], True), ([d for d in doc_ids if d in undated], False)]
    batches = [(ids[s:s + BATCH_DOCS], dated) for ids, dated in groups for s in range(0, len(ids), BATCH_DOCS)]
    for batch, is_dated in batches:
        result = assistant.retrieve(watch.query, watch.as_filters(batch, is_dated), top_k=3 * len(batch))
        by_doc: dict[str, list] = {}
        for p in result.passages:
            by_doc.setdefault(p.node.metadata.get("doc_id", ""), []).append(p)
        ids = [p.node.node_id for ps in by_doc.values() for p in ps]
        if not ids:
            continue
        got = store.collection.get(ids=ids, include=["embeddings"])
        cosine = {i: float(np.dot(query_vec, np.asarray(v, dtype=np.float32)) /
                           (np.linalg.norm(query_vec) * np.linalg.norm(v) or 1.0))
                  for i, v in zip(got["ids"], got["embeddings"])}
        for doc_id, passages in by_doc.items():
            best_cos = max(cosine.get(p.node.node_id, 0.0) for p in passages)
            chosen = select_sentences(sentence_candidates(watch.query, passages, idf), max_sentences=2)
            coverage = query_coverage(watch.query, chosen, idf)
            score = relevance(best_cos, coverage)
            if score < threshold or not chosen:
                continue
            doc = store.document(doc_id) or {}
            snippet = " […] ".join(centred_excerpt(passages[s.passage].node.get_content(), s.text) for s in chosen)
            hits.append(WatchHit(watch.name, doc_id, round(score, 4), doc.get("title") or "",
                                 doc.get("url") or doc.get("source") or "", doc.get("date"),
                                 doc.get("doc_type") or "autre", snippet, time.time()))
    return sorted(hits, key=lambda h: h.score, reverse=True)


def apply_to_existing(watch: Watch, settings: Settings | None = None, embedder=None,
                      assistant=None) -> list[WatchHit]:
    """Run a (new) watch over every document already in the corpus (« appliquer aux documents déjà
    présents »); its findings are kept as for any run, and later runs look at what arrives after."""
    settings = settings or get_settings()
    store = get_store(settings)
    now = time.time()
    doc_ids = store.new_documents(0.0, now)
    hits: list[WatchHit] = []
    if doc_ids:
        assistant = assistant or Assistant(settings, embedder=embedder)
        threshold = watch.threshold if watch.threshold is not None else settings.watch_threshold
        hits = evaluate(assistant, watch, doc_ids, threshold)
    store.save_watch_run(watch.id, [h.as_dict() for h in hits], now)
    return hits


def run_watches(settings: Settings | None = None, embedder=None, assistant=None,
                names: set[str] | None = None) -> dict[str, list[WatchHit]]:
    """Run every watch (or those ``names``) over the documents ingested since its last run; returns the new
    findings."""
    settings = settings or get_settings()
    watches = [w for w in list_watches(settings) if names is None or w.name in names]
    found: dict[str, list[WatchHit]] = {}
    if not watches:
        return found
    now = time.time()
    store = get_store(settings)
    for watch in watches:
        doc_ids = store.new_documents(watch.last_run, now)
        hits: list[WatchHit] = []
        if doc_ids:
            if assistant is None:
                assistant = Assistant(settings, embedder=embedder)
            threshold = watch.threshold if watch.threshold is not None else settings.watch_threshold
            hits = evaluate(assistant, watch, doc_ids, threshold)
        store.save_watch_run(watch.id, [h.as_dict() for h in hits], now)
        found[watch.name] = hits
    return found


def news(settings: Settings | None = None, name: str | None = None, include_seen: bool = False,
         mark_seen: bool = True, restrict: Filters | None = None) -> dict[str, list[WatchHit]]:
    """What each watch found (unseen findings only unless ``include_seen``); marks them seen.
    ``restrict`` keeps only the documents a session may see."""
    settings = settings or get_settings()
    watches = [get_watch(name, settings)] if name else list_watches(settings)
    store = get_store(settings)
    out: dict[str, list[WatchHit]] = {}
    for w in watches:
        rows = store.watch_hits(w.id, include_seen)
        out[w.name] = [WatchHit(w.name, r["doc_id"], r["score"], r["title"] or "", r["url"] or "", r["date"],
                                r["doc_type"] or "autre", r["snippet"], r["found_at"], bool(r["seen"])) for r in rows]
        if restrict is not None:
            allowed = store.visible_documents([h.doc_id for h in out[w.name]], restrict)
            out[w.name] = [h for h in out[w.name] if h.doc_id in allowed]
        if mark_seen and rows:
            store.mark_watch_seen(w.id)
    return out


# --- presentation (CLI and the Gradio "Veilles" tab) -------------------------------------------

def news_markdown(settings: Settings | None = None, include_seen: bool = True, mark_seen: bool = False,
                  restrict: Filters | None = None) -> str:
    """Markdown of every watch and its findings, for the Gradio app's "Veilles" tab."""
    settings = settings or get_settings()
    watches = {w.name: w for w in list_watches(settings)}
    if not watches:
        return ("Aucune veille enregistrée. Créez-en une : `veille watch add \"cybersécurité PME\" "
                "--filiere numerique`.")
    parts = []
    for name, hits in news(settings, include_seen=include_seen, mark_seen=mark_seen, restrict=restrict).items():
        w = watches[name]
        flt = Filters(**w.filters).describe()
        lit = md_literal  # corpus text (titles, snippets, addresses) stays text
        parts.append(f"### {lit(name)}\n_Requête : {lit(w.query)}{' · ' + lit(flt) if flt else ''}_\n")
        if not hits:
            parts.append("Rien de trouvé pour l'instant.\n" if include_seen else "Rien de nouveau.\n")
        for i, h in enumerate(hits, 1):
            date = f" · {h.date}" if h.date else " · non daté"
            new = " 🆕" if not h.seen else ""
            where = lit(safe_url(h.url) or source_label(h.url or ""))
            parts.append(f"{i}. **{lit(h.title) or where}**{new} ({h.doc_type}{date}) — {where}\n"
                         f"   > « {lit(h.snippet)} »\n")
    return "\n".join(parts)


def after_ingestion(settings: Settings | None = None, embedder=None) -> tuple[dict[str, int], str | None]:
    """Hook run after every ingestion (``veille ingest``, ``veille collect``, an upload in the web UI): the
    number of new findings per watch, and a French warning instead of an error when the watches could not
    run (an ingestion never fails because of a watch)."""
    try:
        found = run_watches(settings, embedder=embedder)
    except Exception as exc:  # noqa: BLE001 — reported, never raised: the documents are already stored
        return {}, f"Veilles non exécutées : {type(exc).__name__}: {exc}"
    return {name: len(hits) for name, hits in found.items()}, None


def relevance(dense_top: float, coverage: float) -> float:
    """How well a new document matches a watch: e5 cosine of its best passage (≈0.75 unrelated, ≈0.9 on
    topic) rescaled to [0, 1], averaged with the share of the query's terms its best sentences cover.
    Answers use the refusal policy instead (assistant/answerability/policy.py)."""
    dense = min(1.0, max(0.0, (dense_top - 0.75) / 0.15))
    return 0.5 * dense + 0.5 * coverage
