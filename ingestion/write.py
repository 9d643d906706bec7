"""Stage 7 — store: write documents, chunks, vectors and lexical terms so that a crash loses nothing.

Protocol (what makes an interrupted run end like an uninterrupted one):
1. the document row is written with ``state='pending'`` (one SQLite transaction);
2. its chunk vectors are added to Chroma (ids are deterministic: ``<doc_id>-<position>``);
3. chunks, lexical terms, source links and ``state='done'`` are written in one transaction.
At the start of every run, ``recover()`` deletes whatever a pending document left behind in both
stores; the files behind it are then simply ingested again.
"""
from __future__ import annotations

import json
import time
from dataclasses import dataclass, field

import numpy as np

from ingestion.chunk import Chunk
from ingestion.metadata import chunk_metadata, date_number
from veille.store import Store
from veille.text import analyze


@dataclass
class PreparedDocument:
    doc_id: str
    text: str
    meta: dict
    chunks: list[Chunk]
    sources: list[dict] = field(default_factory=list)  # {source, size, mtime, file_hash}
    embeddings: np.ndarray | None = None

    def chunk_id(self, chunk: Chunk) -> str:
        return f"{self.doc_id}-{chunk.position:04d}"


class StoreWriter:
    def __init__(self, store: Store, on_write=None):
        """``on_write(doc)`` runs inside the final transaction of each document (enrichment stages)."""
        self.store = store
        self.db = store.db
        self.on_write = on_write

    # --- reads ----------------------------------------------------------------------------------
    def source_row(self, source: str):
        return self.db.execute(
            "SELECT s.*, d.state FROM sources s LEFT JOIN documents d USING(doc_id) WHERE s.source=?",
            (source,)).fetchone()

    def document_done(self, doc_id: str) -> bool:
        row = self.db.execute("SELECT state FROM documents WHERE doc_id=?", (doc_id,)).fetchone()
        return bool(row) and row["state"] == "done"

    # --- writes ---------------------------------------------------------------------------------
    def recover(self) -> int:
        """Remove every trace of documents whose write was interrupted, and of documents whose vectors are
        missing from this model's collection (another embedder chosen, a Chroma store lost): their files
        are then ingested again in this run."""
        pending = {r["doc_id"] for r in self.db.execute("SELECT doc_id FROM documents WHERE state='pending'")}
        chunk_count = self.db.execute("SELECT count(*) FROM chunks").fetchone()[0]
        if self.store.collection.count() != chunk_count:
            vector_ids = set(self.store.collection.get(include=[])["ids"])
            rows = self.db.execute("SELECT chunk_id, doc_id FROM chunks").fetchall()
            pending |= {r["doc_id"] for r in rows if r["chunk_id"] not in vector_ids}
            stray = vector_ids - {r["chunk_id"] for r in rows}
            if stray:
                self.store.collection.delete(ids=sorted(stray))
        for doc_id in sorted(pending):
            self._delete_everywhere(doc_id)
        return len(pending)

    def link_source(self, doc_id: str, info: dict) -> str | None:
        """Point a source at an already stored document; returns the document it pointed at before."""
        with self.store.transaction() as tx:
            previous = tx.execute("SELECT doc_id FROM sources WHERE source=?", (info["source"],)).fetchone()
            tx.execute("INSERT INTO sources(source, doc_id, size, mtime, file_hash) VALUES(?,?,?,?,?) "
                       "ON CONFLICT(source) DO UPDATE SET doc_id=excluded.doc_id, size=excluded.size, "
                       "mtime=excluded.mtime, file_hash=excluded.file_hash",
                       (info["source"], doc_id, info.get("size"), info.get("mtime"), info.get("file_hash")))
        old = previous["doc_id"] if previous else None
        if old and old != doc_id:
            self.drop_if_orphan(old)
        return old

    def write(self, docs: list[PreparedDocument]) -> None:
        if not docs:
            return
        now = time.time()
        with self.store.transaction() as tx:
            for doc in docs:
                m = doc.meta
                tx.execute(
                    "INSERT OR REPLACE INTO documents(doc_id, state, title, doc_type, date, date_num, source, url, "
                    "site, author, language, region, filieres, tags, audience, n_chunks, n_chars, ingested_at, text) "
                    "VALUES(?, 'pending', ?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
                    (doc.doc_id, m.get("title"), m.get("doc_type"), m.get("date"), date_number(m.get("date")),
                     m.get("source"), m.get("url"), m.get("site"), m.get("author"), m.get("language"),
                     m.get("region"), json.dumps(m.get("filieres", [])), json.dumps(m.get("tags", [])),
                     json.dumps(m.get("audience", ["public"])), len(doc.chunks), len(doc.text), now, doc.text))
        self.store.vector_store.add(self._nodes(docs))
        replaced: list[str] = []
        with self.store.transaction() as tx:
            for doc in docs:
                for chunk in doc.chunks:
                    cur = tx.execute(
                        "INSERT INTO chunks(chunk_id, doc_id, position, char_start, char_end, heading, text) "
                        "VALUES(?,?,?,?,?,?,?)",
                        (doc.chunk_id(chunk), doc.doc_id, chunk.position, chunk.start, chunk.end, chunk.heading,
                         chunk.text))
                    terms = analyze(" ".join(filter(None, [doc.meta.get("title"), chunk.heading, chunk.text])))
                    tx.execute("INSERT INTO chunks_fts(rowid, terms) VALUES(?, ?)", (cur.lastrowid, terms))
                for info in doc.sources:
                    old = tx.execute("SELECT doc_id FROM sources WHERE source=?", (info["source"],)).fetchone()
                    if old and old["doc_id"] != doc.doc_id:
                        replaced.append(old["doc_id"])
                    tx.execute("INSERT OR REPLACE INTO sources(source, doc_id, size, mtime, file_hash) "
                               "VALUES(?,?,?,?,?)",
                               (info["source"], doc.doc_id, info.get("size"), info.get("mtime"),
                                info.get("file_hash")))
                if self.on_write is not None:
                    self.on_write(doc)
                tx.execute("UPDATE documents SET state='done' WHERE doc_id=?", (doc.doc_id,))
        for doc_id in replaced:
            self.drop_if_orphan(doc_id)

    def _nodes(self, docs: list[PreparedDocument]):
        from llama_index.core.schema import NodeRelationship, RelatedNodeInfo, TextNode

        nodes = []
        for doc in docs:
            base = chunk_metadata({**doc.meta, "doc_id": doc.doc_id})
            for chunk, vector in zip(doc.chunks, doc.embeddings):
                nodes.append(TextNode(
                    id_=doc.chunk_id(chunk), text=chunk.text, embedding=vector.tolist(),
                    start_char_idx=chunk.start, end_char_idx=chunk.end,
                    metadata={**base, "position": chunk.position, "heading": chunk.heading or ""},
                    excluded_embed_metadata_keys=list(base), excluded_llm_metadata_keys=list(base),
                    relationships={NodeRelationship.SOURCE: RelatedNodeInfo(node_id=doc.doc_id)}))
        return nodes

    def drop_if_orphan(self, doc_id: str) -> bool:
        if self.db.execute("SELECT 1 FROM sources WHERE doc_id=? LIMIT 1", (doc_id,)).fetchone():
            return False
        self._delete_everywhere(doc_id)
        return True

    def _delete_everywhere(self, doc_id: str) -> None:
        # Mark first: if we die between the two stores, recover() finishes the job next time.
        self.db.execute("UPDATE documents SET state='pending' WHERE doc_id=?", (doc_id,))
        self.store.collection.delete(where={"doc_id": doc_id})
        with self.store.transaction() as tx:
            rows = tx.execute("SELECT rowid FROM chunks WHERE doc_id=?", (doc_id,)).fetchall()
            tx.executemany("DELETE FROM chunks_fts WHERE rowid=?", [(r["rowid"],) for r in rows])
            tx.execute("DELETE FROM chunks WHERE doc_id=?", (doc_id,))
            tx.execute("DELETE FROM sources WHERE doc_id=?", (doc_id,))
            tx.execute("DELETE FROM documents WHERE doc_id=?", (doc_id,))

    def remove_source(self, source: str) -> bool:
        row = self.db.execute("SELECT doc_id FROM sources WHERE source=?", (source,)).fetchone()
        if not row:
            return False
        self.db.execute("DELETE FROM sources WHERE source=?", (source,))
        return self.drop_if_orphan(row["doc_id"])
