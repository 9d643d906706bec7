"""How the store records ingestion: the SQL of the write protocol described in ``ingestion/write.py`` (which
orchestrates it with the vector writes). Mixed into ``Store`` (``self.db``, ``self.transaction``)."""
from __future__ import annotations

import json
import sqlite3
import time

from veille.dates import date_number

_DATE_SOURCE = "json_extract(d.extra, '$.date_source') AS date_source"
SOURCE_COLUMNS = "INSERT OR REPLACE INTO sources(source, doc_id, size, mtime, file_hash) VALUES(?,?,?,?,?)"


def _source_values(doc_id: str, info: dict) -> tuple:
    return (info["source"], doc_id, info.get("size"), info.get("mtime"), info.get("file_hash"))


def _mark_orphans(tx: sqlite3.Connection, doc_ids: list[str]) -> list[str]:
    """Inside the transaction that removed their last source: mark these documents for deletion, so that the
    commit which drops a source also takes its document out of the answers (retrieval reads 'done' only)."""
    doomed = []
    for doc_id in dict.fromkeys(doc_ids):
        if not tx.execute("SELECT 1 FROM sources WHERE doc_id=? LIMIT 1", (doc_id,)).fetchone():
            tx.execute("UPDATE documents SET state='deleting' WHERE doc_id=?", (doc_id,))
            doomed.append(doc_id)
    return doomed


class WriteQueries:
    db: sqlite3.Connection

    # --- reads of the ingestion ---------------------------------------------------------------------
    def source_row(self, source: str) -> sqlite3.Row | None:
        """A source, its document's state and the evidence of its date (None: stored before dates had one)."""
        return self.db.execute(f"SELECT s.*, d.state, {_DATE_SOURCE} FROM sources s LEFT JOIN documents d USING(doc_id) "
                               "WHERE s.source=?", (source,)).fetchone()

    def part_rows(self, source: str) -> list[sqlite3.Row]:
        """Sources of the documents found inside ``source`` (``<source>#…``: messages, attachments)."""
        prefix = source + "#"
        return self.db.execute(
            f"SELECT s.*, d.state, {_DATE_SOURCE} FROM sources s LEFT JOIN documents d USING(doc_id) "
            "WHERE substr(s.source, 1, ?) = ?", (len(prefix), prefix)).fetchall()

    def document_done(self, doc_id: str) -> bool:
        row = self.db.execute("SELECT state FROM documents WHERE doc_id=?", (doc_id,)).fetchone()
        return bool(row) and row["state"] == "done"

    def unfinished_documents(self) -> set[str]:
        """Documents being written, marked for deletion, or that no source points at."""
        return {r["doc_id"] for r in self.db.execute(
            "SELECT doc_id FROM documents d WHERE state IN ('pending', 'deleting') "
            "OR NOT EXISTS (SELECT 1 FROM sources s WHERE s.doc_id = d.doc_id)")}

    def chunk_documents(self) -> dict[str, str]:
        """Every stored chunk id with its document."""
        return {r["chunk_id"]: r["doc_id"] for r in self.db.execute("SELECT chunk_id, doc_id FROM chunks")}

    # --- the write protocol -------------------------------------------------------------------------
    def insert_pending(self, documents: list[dict]) -> None:
        """Step 1: each document's row, ``state='pending'`` (``documents``: doc_id, meta, text, extra, n_chunks)."""
        now = time.time()
        with self.transaction() as tx:
            for d in documents:
                m = d["meta"]
                tx.execute(
                    "INSERT OR REPLACE INTO documents(doc_id, state, title, doc_type, date, date_num, source, url, "
                    "site, author, language, region, filieres, tags, audience, n_chunks, n_chars, ingested_at, text, "
                    "extra) VALUES(?, 'pending', ?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
                    (d["doc_id"], m.get("title"), m.get("doc_type"), m.get("date"), date_number(m.get("date")),
                     m.get("source"), m.get("url"), m.get("site"), m.get("author"), m.get("language"),
                     m.get("region"), json.dumps(m.get("filieres", [])), json.dumps(m.get("tags", [])),
                     json.dumps(m.get("audience", ["public"])), d["n_chunks"], len(d["text"]), now, d["text"],
                     json.dumps(d.get("extra") or {}, ensure_ascii=False)))

    def commit_documents(self, documents: list[dict], on_each=None) -> list[str]:
        """Step 3, one transaction: chunks (``chunks``: chunk_id, position, start, end, heading, text, terms,
        page_start, page_end, embed_key), lexical terms, source links, ``state='done'``; the documents this left without a
        source (superseded versions) are marked for deletion. Returns them. ``on_each(doc_id)`` runs inside the
        transaction before a document is done (the enrichment stages store its entities and cluster there)."""
        replaced: list[str] = []
        with self.transaction() as tx:
            for d in documents:
                for c in d["chunks"]:
                    cur = tx.execute(
                        "INSERT INTO chunks(chunk_id, doc_id, position, char_start, char_end, heading, text, "
                        "page_start, page_end, embed_key) VALUES(?,?,?,?,?,?,?,?,?,?)",
                        (c["chunk_id"], d["doc_id"], c["position"], c["start"], c["end"], c["heading"], c["text"],
                         c["page_start"], c["page_end"], c.get("embed_key")))
                    tx.execute("INSERT INTO chunks_fts(rowid, terms) VALUES(?, ?)", (cur.lastrowid, c["terms"]))
                for info in d["sources"]:
                    old = tx.execute("SELECT doc_id FROM sources WHERE source=?", (info["source"],)).fetchone()
                    if old and old["doc_id"] != d["doc_id"]:
                        replaced.append(old["doc_id"])
                    tx.execute(SOURCE_COLUMNS, _source_values(d["doc_id"], info))
                if on_each is not None:
                    on_each(d["doc_id"])
                tx.execute("UPDATE documents SET state='done' WHERE doc_id=?", (d["doc_id"],))
            return _mark_orphans(tx, replaced)

    def link_source(self, doc_id: str, info: dict) -> tuple[str | None, list[str]]:
        """Point a source at an already stored document: (the document it pointed at before, the documents
        marked for deletion because no source points at them any more)."""
        with self.transaction() as tx:
            previous = tx.execute("SELECT doc_id FROM sources WHERE source=?", (info["source"],)).fetchone()
            tx.execute(SOURCE_COLUMNS, _source_values(doc_id, info))
            old = previous["doc_id"] if previous else None
            return old, _mark_orphans(tx, [old] if old and old != doc_id else [])

    def unlink_source(self, source: str) -> list[str]:
        """Forget a source; returns its document, marked for deletion, when no other source points at it."""
        with self.transaction() as tx:
            row = tx.execute("SELECT doc_id FROM sources WHERE source=?", (source,)).fetchone()
            if row:
                tx.execute("DELETE FROM sources WHERE source=?", (source,))
            return _mark_orphans(tx, [row["doc_id"]] if row else [])

    def mark_deleting(self, doc_id: str) -> None:
        self.db.execute("UPDATE documents SET state='deleting' WHERE doc_id=?", (doc_id,))

    def delete_document_rows(self, doc_id: str) -> None:
        """Every SQLite row of a document (chunks, lexical terms, sources, the document), in one transaction."""
        with self.transaction() as tx:
            rows = tx.execute("SELECT rowid FROM chunks WHERE doc_id=?", (doc_id,)).fetchall()
            tx.executemany("DELETE FROM chunks_fts WHERE rowid=?", [(r["rowid"],) for r in rows])
            tx.execute("DELETE FROM chunks WHERE doc_id=?", (doc_id,))
            tx.execute("DELETE FROM sources WHERE doc_id=?", (doc_id,))
            tx.execute("DELETE FROM documents WHERE doc_id=?", (doc_id,))
