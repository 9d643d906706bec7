"""The one place where Veille's store is opened.

Two parts, written together by ingestion and read together by retrieval:
- **Chroma** (embedded ``PersistentClient`` under ``home``, or a ``chroma run`` server when
  ``VEILLE_CHROMA_URL`` is set) holds chunk vectors, reached through llama-index's ``ChromaVectorStore``;
- **SQLite** (``home/veille.db``) holds the document registry (ids, content hashes, sources, metadata,
  write state) and the lexical index (FTS5 over French-analysed terms), so the lexical branch is
  incremental, persisted and transactional with the registry.
"""
from __future__ import annotations

import json
import sqlite3
import threading
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from urllib.parse import urlparse

from veille.config import Settings, get_settings

SCHEMA = """
CREATE TABLE IF NOT EXISTS documents (
    doc_id TEXT PRIMARY KEY,
    state TEXT NOT NULL,              -- 'pending' while being written, 'done', 'deleting' once superseded or removed
    title TEXT, doc_type TEXT, date TEXT, date_num INTEGER, source TEXT, url TEXT, site TEXT,
    author TEXT, language TEXT, region TEXT,
    filieres TEXT NOT NULL DEFAULT '[]', tags TEXT NOT NULL DEFAULT '[]',
    audience TEXT NOT NULL DEFAULT '["public"]',
    n_chunks INTEGER NOT NULL DEFAULT 0, n_chars INTEGER NOT NULL DEFAULT 0,
    ingested_at REAL NOT NULL,
    text TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS sources (
    source TEXT PRIMARY KEY,          -- absolute file path or URL
    doc_id TEXT NOT NULL,
    size INTEGER, mtime REAL, file_hash TEXT
);
CREATE INDEX IF NOT EXISTS sources_doc ON sources(doc_id);
CREATE TABLE IF NOT EXISTS chunks (
    rowid INTEGER PRIMARY KEY,
    chunk_id TEXT UNIQUE NOT NULL,
    doc_id TEXT NOT NULL,
    position INTEGER NOT NULL,
    char_start INTEGER NOT NULL, char_end INTEGER NOT NULL,
    heading TEXT,
    text TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS chunks_doc ON chunks(doc_id);
CREATE VIRTUAL TABLE IF NOT EXISTS chunks_fts USING fts5(terms, tokenize='unicode61 remove_diacritics 2');
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT);
CREATE TABLE IF NOT EXISTS ingestions (
    id INTEGER PRIMARY KEY, started_at REAL, finished_at REAL, summary TEXT
);
"""


def _connect(path: Path) -> sqlite3.Connection:
    path.parent.mkdir(parents=True, exist_ok=True)
    conn = sqlite3.connect(str(path), timeout=60, isolation_level=None, check_same_thread=False)
    conn.row_factory = sqlite3.Row
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=NORMAL")
    conn.execute("PRAGMA foreign_keys=ON")
    return conn


@dataclass
class Store:
    settings: Settings
    _local: threading.local = field(default_factory=threading.local, repr=False)
    _vector_store: object = field(default=None, repr=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    # --- SQLite -------------------------------------------------------------------------------
    @property
    def db(self) -> sqlite3.Connection:
        """A connection per thread (Gradio and the load test call from many threads)."""
        conn = getattr(self._local, "conn", None)
        if conn is None:
            conn = _connect(self.settings.db_path)
            conn.executescript(SCHEMA)
            self._local.conn = conn
        return conn

    def transaction(self):
        return _Transaction(self.db)

    # --- Chroma -------------------------------------------------------------------------------
    @property
    def chroma_client(self):
        return open_chroma_client(self.settings.chroma_url, str(self.settings.store_dir))

    @property
    def collection(self):
        return self.vector_store.client

    @property
    def vector_store(self):
        """llama-index's ChromaVectorStore over this model's collection (cosine space)."""
        with self._lock:
            if self._vector_store is None:
                from llama_index.vector_stores.chroma import ChromaVectorStore

                collection = self.chroma_client.get_or_create_collection(
                    self.settings.collection_name, embedding_function=None,
                    metadata={"hnsw:space": "cosine", "embedder": self.settings.embedder})
                self._vector_store = ChromaVectorStore(chroma_collection=collection)
            return self._vector_store

    @property
    def location(self) -> str:
        return self.settings.chroma_url or str(self.settings.store_dir)

    def meta_get(self, key: str, default: str | None = None) -> str | None:
        row = self.db.execute("SELECT value FROM meta WHERE key=?", (key,)).fetchone()
        return row["value"] if row else default

    def meta_set(self, key: str, value: str) -> None:
        self.db.execute("INSERT INTO meta(key, value) VALUES(?, ?) ON CONFLICT(key) DO UPDATE SET value=excluded.value",
                        (key, value))

    def document(self, doc_id: str) -> dict | None:
        row = self.db.execute("SELECT * FROM documents WHERE doc_id=?", (doc_id,)).fetchone()
        return document_row(row) if row else None


def document_row(row: sqlite3.Row) -> dict:
    doc = dict(row)
    for key in ("filieres", "tags", "audience"):
        doc[key] = json.loads(doc.get(key) or "[]")
    return doc


class _Transaction:
    def __init__(self, conn: sqlite3.Connection):
        self.conn = conn

    def __enter__(self) -> sqlite3.Connection:
        self.conn.execute("BEGIN IMMEDIATE")
        return self.conn

    def __exit__(self, exc_type, exc, tb) -> None:
        self.conn.execute("ROLLBACK" if exc_type else "COMMIT")


@lru_cache(maxsize=4)
def open_chroma_client(url: str | None, path: str):
    import chromadb
    from chromadb.config import Settings as ChromaSettings

    chroma_settings = ChromaSettings(anonymized_telemetry=False, allow_reset=False)
    if url:
        parsed = urlparse(url if "://" in url else f"http://{url}")
        return chromadb.HttpClient(host=parsed.hostname or "localhost", port=parsed.port or 8000,
                                   ssl=parsed.scheme == "https", settings=chroma_settings)
    Path(path).mkdir(parents=True, exist_ok=True)
    return chromadb.PersistentClient(path=path, settings=chroma_settings)


_stores: dict[Settings, Store] = {}
_stores_lock = threading.Lock()


def get_store(settings: Settings | None = None) -> Store:
    """The process-wide store for these settings."""
    settings = settings or get_settings()
    with _stores_lock:
        if settings not in _stores:
            _stores[settings] = Store(settings)
        return _stores[settings]
