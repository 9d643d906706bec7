"""Saved watches (alerts): a named query with filters, run over the documents added since its last run.

A watch runs the assistant's own retrieval restricted to the new documents (``Filters.doc_ids``) and
keeps a document only if its confidence (e5 cosine of its best passage + share of the query's terms
its best sentences cover, as for refusals) reaches the watch's threshold, so unrelated new documents
stay quiet. Watches and their findings live in the store's SQLite, so they survive restarts.
"""
from __future__ import annotations

import json
import time
from dataclasses import dataclass, field

import numpy as np

from assistant.answer import make_idf, query_coverage, select_sentences, sentence_candidates
from assistant.filters import Filters
from veille.config import Settings, get_settings
from veille.store import get_store

SCHEMA = """
CREATE TABLE IF NOT EXISTS watches (
    id INTEGER PRIMARY KEY,
    name TEXT UNIQUE NOT NULL,
    query TEXT NOT NULL,
    filters TEXT NOT NULL DEFAULT '{}',
    threshold REAL,                   -- NULL = the refusal threshold of the settings
    created_at REAL NOT NULL,
    last_run REAL NOT NULL            -- documents ingested after this instant are "new" for the watch
);
CREATE TABLE IF NOT EXISTS watch_hits (
    watch_id INTEGER NOT NULL REFERENCES watches(id) ON DELETE CASCADE,
    doc_id TEXT NOT NULL,
    score REAL NOT NULL,
    title TEXT, url TEXT, date TEXT, doc_type TEXT,
    snippet TEXT NOT NULL,
    chunk_id TEXT,
    found_at REAL NOT NULL,
    seen INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (watch_id, doc_id)
);
"""
BATCH_DOCS = 16  # documents per retrieval: each gets a fair share of the candidate slots


class WatchError(Exception):
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

    def as_filters(self, doc_ids: list[str] | None = None) -> Filters:
        return Filters(**{**self.filters, "doc_ids": list(doc_ids or [])})


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


def _db(settings: Settings):
    db = get_store(settings).db
    db.executescript(SCHEMA)
    return db


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
    db = _db(settings)
    if db.execute("SELECT 1 FROM watches WHERE name=?", (name,)).fetchone():
        raise WatchError(f"Une veille « {name} » existe déjà (veille watch remove « {name} » pour la remplacer).")
    now = time.time()
    stored = (filters or Filters()).as_dict()
    stored.pop("doc_ids", None)
    db.execute("INSERT INTO watches(name, query, filters, threshold, created_at, last_run) VALUES(?,?,?,?,?,?)",
               (name, query, json.dumps(stored, ensure_ascii=False), threshold, now, now))
    return get_watch(name, settings)


def get_watch(name_or_id: str, settings: Settings | None = None) -> Watch:
    db = _db(settings or get_settings())
    row = db.execute("SELECT * FROM watches WHERE name=? OR CAST(id AS TEXT)=?", (name_or_id, str(name_or_id))).fetchone()
    if row is None:
        raise WatchError(f"Aucune veille « {name_or_id} » (veille watch list pour les voir).")
    return _watch(row)


def list_watches(settings: Settings | None = None) -> list[Watch]:
    db = _db(settings or get_settings())
    rows = db.execute("SELECT w.*, (SELECT count(*) FROM watch_hits h WHERE h.watch_id=w.id AND h.seen=0) AS unseen "
                      "FROM watches w ORDER BY w.name").fetchall()
    return [_watch(r) for r in rows]


def remove_watch(name_or_id: str, settings: Settings | None = None) -> Watch:
    settings = settings or get_settings()
    watch = get_watch(name_or_id, settings)
    with get_store(settings).transaction() as tx:
        tx.execute("DELETE FROM watch_hits WHERE watch_id=?", (watch.id,))
        tx.execute("DELETE FROM watches WHERE id=?", (watch.id,))
    return watch


# --- running ------------------------------------------------------------------------------------

def new_documents(settings: Settings, since: float, until: float) -> list[str]:
    rows = _db(settings).execute("SELECT doc_id FROM documents WHERE state='done' AND ingested_at > ? "
                                 "AND ingested_at <= ? ORDER BY ingested_at", (since, until)).fetchall()
    return [r["doc_id"] for r in rows]


def evaluate(assistant, watch: Watch, doc_ids: list[str], threshold: float) -> list[WatchHit]:
    """The new documents that answer the watch's query, best first, each with its cited sentences."""
    from assistant.service import Assistant

    store = assistant.store
    idf = make_idf(store)
    query_vec = np.asarray(assistant.embedder.embed_queries([watch.query])[0], dtype=np.float32)
    hits: list[WatchHit] = []
    for start in range(0, len(doc_ids), BATCH_DOCS):
        batch = doc_ids[start:start + BATCH_DOCS]
        result = assistant.retrieve(watch.query, watch.as_filters(batch), top_k=3 * len(batch))
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
            score = Assistant.confidence(best_cos, coverage)
            if score < threshold or not chosen:
                continue
            doc = store.document(doc_id) or {}
            snippet = " … ".join(s.text.strip() for s in chosen)
            hits.append(WatchHit(watch.name, doc_id, round(score, 4), doc.get("title") or "",
                                 doc.get("url") or doc.get("source") or "", doc.get("date"),
                                 doc.get("doc_type") or "autre", snippet, time.time()))
    return sorted(hits, key=lambda h: h.score, reverse=True)


def run_watches(settings: Settings | None = None, embedder=None, assistant=None) -> dict[str, list[WatchHit]]:
    """Run every watch over the documents ingested since its last run; returns the new findings."""
    settings = settings or get_settings()
    watches = list_watches(settings)
    found: dict[str, list[WatchHit]] = {}
    if not watches:
        return found
    now = time.time()
    for watch in watches:
        doc_ids = new_documents(settings, watch.last_run, now)
        hits: list[WatchHit] = []
        if doc_ids:
            if assistant is None:
                from assistant.service import Assistant

                assistant = Assistant(settings, embedder=embedder)
            threshold = watch.threshold if watch.threshold is not None else settings.watch_threshold
            hits = evaluate(assistant, watch, doc_ids, threshold)
        with get_store(settings).transaction() as tx:
            for h in hits:
                tx.execute("INSERT INTO watch_hits(watch_id, doc_id, score, title, url, date, doc_type, snippet, "
                           "found_at) VALUES(?,?,?,?,?,?,?,?,?) ON CONFLICT(watch_id, doc_id) DO UPDATE SET "
                           "score=excluded.score, snippet=excluded.snippet, found_at=excluded.found_at, seen=0",
                           (watch.id, h.doc_id, h.score, h.title, h.url, h.date, h.doc_type, h.snippet, h.found_at))
            tx.execute("UPDATE watches SET last_run=? WHERE id=?", (now, watch.id))
        found[watch.name] = hits
    return found


def visible_documents(settings: Settings, doc_ids: list[str], restrict: Filters) -> set[str]:
    """The documents among ``doc_ids`` that pass ``restrict`` (a session's audience, in the app)."""
    if not doc_ids:
        return set()
    from dataclasses import replace

    where, params = replace(restrict, doc_ids=list(doc_ids)).sql("d")
    return {r[0] for r in _db(settings).execute(f"SELECT d.doc_id FROM documents d WHERE {where}", params)}


def news(settings: Settings | None = None, name: str | None = None, include_seen: bool = False,
         mark_seen: bool = True, restrict: Filters | None = None) -> dict[str, list[WatchHit]]:
    """What each watch found (unseen findings only unless ``include_seen``); marks them seen.
    ``restrict`` keeps only the documents a session may see."""
    settings = settings or get_settings()
    watches = [get_watch(name, settings)] if name else list_watches(settings)
    db = _db(settings)
    out: dict[str, list[WatchHit]] = {}
    for w in watches:
        rows = db.execute("SELECT * FROM watch_hits WHERE watch_id=?" + ("" if include_seen else " AND seen=0") +
                          " ORDER BY found_at DESC, score DESC", (w.id,)).fetchall()
        out[w.name] = [WatchHit(w.name, r["doc_id"], r["score"], r["title"] or "", r["url"] or "", r["date"],
                                r["doc_type"] or "autre", r["snippet"], r["found_at"], bool(r["seen"])) for r in rows]
        if restrict is not None:
            allowed = visible_documents(settings, [h.doc_id for h in out[w.name]], restrict)
            out[w.name] = [h for h in out[w.name] if h.doc_id in allowed]
        if mark_seen and rows:
            db.execute("UPDATE watch_hits SET seen=1 WHERE watch_id=? AND seen=0", (w.id,))
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
        flt = Filters(**w.filters).describe() if hasattr(Filters, "describe") else ""
        parts.append(f"### {name}\n_Requête : {w.query}{' · ' + flt if flt else ''}_\n")
        if not hits:
            parts.append("Rien de nouveau.\n")
        for i, h in enumerate(hits, 1):
            date = f" · {h.date}" if h.date else ""
            new = " 🆕" if not h.seen else ""
            parts.append(f"{i}. **{h.title or h.url}**{new} ({h.doc_type}{date}) — [{h.url}]({h.url})\n"
                         f"   > « {h.snippet} »\n")
    return "\n".join(parts)


def print_run_summary(found: dict[str, list[WatchHit]]) -> None:
    from veille.console import out

    for name, hits in found.items():
        if hits:
            out.print(f"[bold green]Veille « {name} » :[/] {len(hits)} nouveau(x) document(s) "
                      f"(veille watch news pour les lire)", highlight=False)


def after_ingestion(settings: Settings | None = None, embedder=None, quiet: bool = False) -> dict[str, int]:
    """Hook called after ``veille ingest`` and ``veille collect``; never fails the ingestion."""
    from veille.console import err

    try:
        found = run_watches(settings, embedder=embedder)
    except Exception as exc:  # noqa: BLE001
        err.print(f"[yellow]Veilles non exécutées : {type(exc).__name__}: {exc}[/]")
        return {}
    if not quiet:
        print_run_summary(found)
    return {name: len(hits) for name, hits in found.items()}
