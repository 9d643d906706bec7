"""Collection state in the store's SQLite (one row per fetched URL) and the snapshots on disk.

Snapshots (raw bytes as received) and extracted records live under ``home/collect/`` so a document
can be re-extracted without fetching again (``veille collect --reextract``).
"""
from __future__ import annotations

import hashlib
import json
import time
from dataclasses import dataclass
from pathlib import Path

from veille.config import Settings
from veille.store import get_store

SCHEMA = """
CREATE TABLE IF NOT EXISTS collect_state (
    url TEXT PRIMARY KEY,             -- canonical form of the URL as listed by its source
    source_name TEXT NOT NULL,
    kind TEXT NOT NULL,               -- page | robots | sitemap | feed
    final_url TEXT, canonical TEXT,   -- after redirects; identity given to the ingestion (documents.source)
    last_fetch REAL, last_change REAL,
    http_status INTEGER,
    status TEXT NOT NULL,             -- new | changed | unchanged | skipped | failed
    error TEXT,
    etag TEXT, last_modified TEXT, content_type TEXT,
    body_hash TEXT, doc_id TEXT, snapshot TEXT
);
CREATE INDEX IF NOT EXISTS collect_state_source ON collect_state(source_name);
CREATE TABLE IF NOT EXISTS collect_runs (
    id INTEGER PRIMARY KEY, started_at REAL, finished_at REAL, summary TEXT
);
"""


@dataclass
class UrlState:
    url: str
    etag: str | None
    last_modified: str | None
    snapshot: str | None
    doc_id: str | None
    status: str
    canonical: str | None
    content_type: str | None


class CollectState:
    def __init__(self, settings: Settings):
        self.settings = settings
        self.root = settings.home / "collect"
        self.db = get_store(settings).db
        self.db.executescript(SCHEMA)

    # --- rows -----------------------------------------------------------------------------------
    def get(self, url: str) -> UrlState | None:
        row = self.db.execute("SELECT * FROM collect_state WHERE url=?", (url,)).fetchone()
        if row is None:
            return None
        return UrlState(row["url"], row["etag"], row["last_modified"], row["snapshot"], row["doc_id"],
                        row["status"], row["canonical"], row["content_type"])

    def record(self, url: str, source_name: str, kind: str, status: str, **values) -> None:
        """Insert or update one URL's row; only the given columns change (a 304 keeps the validators)."""
        values = {"source_name": source_name, "kind": kind, "status": status, "last_fetch": time.time(), **values}
        cols = ", ".join(values)
        marks = ", ".join("?" * len(values))
        updates = ", ".join(f"{c}=excluded.{c}" for c in values)
        self.db.execute(f"INSERT INTO collect_state(url, {cols}) VALUES(?, {marks}) "
                        f"ON CONFLICT(url) DO UPDATE SET {updates}", (url, *values.values()))

    def usable_validators(self, url: str) -> tuple[str | None, str | None]:
        """ETag / Last-Modified to send, only when a 304 would leave nothing missing: the snapshot is
        on disk and the document it produced is still in the store."""
        st = self.get(url)
        if st is None or not (st.etag or st.last_modified) or st.status in ("failed", "fetched"):
            return None, None
        if not st.snapshot or not (self.root / st.snapshot).is_file():
            return None, None
        if st.doc_id:
            row = self.db.execute("SELECT 1 FROM documents WHERE doc_id=? AND state='done'", (st.doc_id,)).fetchone()
            if row is None:
                return None, None
        return st.etag, st.last_modified

    def rows(self, kind: str | None = None) -> list[dict]:
        sql = "SELECT * FROM collect_state" + (" WHERE kind=?" if kind else "") + " ORDER BY source_name, url"
        return [dict(r) for r in self.db.execute(sql, (kind,) if kind else ())]

    def record_run(self, started: float, summary: dict) -> None:
        self.db.execute("INSERT INTO collect_runs(started_at, finished_at, summary) VALUES(?,?,?)",
                        (started, time.time(), json.dumps(summary, ensure_ascii=False)))

    # --- snapshots ------------------------------------------------------------------------------
    @staticmethod
    def key(url: str) -> str:
        return hashlib.sha256(url.encode("utf-8")).hexdigest()[:32]

    def snapshot_name(self, url: str, content_type: str) -> str:
        ext = {"text/html": "html", "application/xhtml+xml": "html", "application/pdf": "pdf",
               "text/plain": "txt"}.get(content_type, "bin")
        k = self.key(url)
        return f"pages/{k[:2]}/{k}.{ext}"

    def write_snapshot(self, name: str, body: bytes) -> None:
        path = self.root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(path.suffix + ".tmp")
        tmp.write_bytes(body)
        tmp.replace(path)  # atomic: a crash never leaves half a snapshot

    def read_snapshot(self, name: str) -> bytes:
        return (self.root / name).read_bytes()

    def write_record(self, name: str, record: dict) -> None:
        path = (self.root / name).with_suffix(".json")
        tmp = path.with_suffix(".json.tmp")
        tmp.write_text(json.dumps(record, ensure_ascii=False, indent=1), encoding="utf-8")
        tmp.replace(path)
