"""The one place where Veille's store is opened, and the only code that speaks SQL to it.

Two parts, written together by ingestion and read together by retrieval:
- **Chroma** (embedded ``PersistentClient`` under ``home``, or a ``chroma run`` server when
  ``VEILLE_CHROMA_URL`` is set) holds chunk vectors, reached through llama-index's ``ChromaVectorStore``;
- **SQLite** (``home/veille.db``) holds the document registry (ids, content hashes, sources, metadata,
  write state) and the lexical index (FTS5 over French-analysed terms), so the lexical branch is
  incremental, persisted and transactional with the registry.

Everyone else asks the store questions through its methods (``veille/store/corpus.py``: documents,
statistics, facets, lexical search, term statistics within an audience; ``writes.py``: the ingestion's
write protocol; ``embedcache.py``: stored vectors found by embedded text; ``watches.py``; ``collect.py``;
``entities.py``, ``clusters.py``, ``bulletins.py``, ``dating.py`` (dates, their evidence, corrections),
``schedule.py``: the watch job).
"""
from __future__ import annotations

import sqlite3
import threading
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from urllib.parse import urlparse

from veille.config import Settings, get_settings
from veille.db import Transaction, connect
from veille.store.bulletins import BulletinQueries
from veille.store.clusters import ClusterQueries
from veille.store.collect import CollectQueries
from veille.store.corpus import CorpusQueries
from veille.store.dating import DatingQueries
from veille.store.embedcache import EmbedCacheQueries
from veille.store.entities import EntityQueries
from veille.store.lexical import LexicalQueries
from veille.store.refused import RefusedQueries
from veille.store.schedule import ScheduleQueries
from veille.store.schema import SCHEMA, migrate
from veille.store.watches import WatchQueries
from veille.store.writes import WriteQueries


@dataclass
class Store(CorpusQueries, LexicalQueries, WriteQueries, EmbedCacheQueries, WatchQueries, CollectQueries, EntityQueries,
            ClusterQueries, BulletinQueries, ScheduleQueries, RefusedQueries, DatingQueries):
    settings: Settings
    _local: threading.local = field(default_factory=threading.local, repr=False)
    _collection: object = field(default=None, repr=False)
    _vector_store: object = field(default=None, repr=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)
    _visible_totals: dict = field(default_factory=dict, repr=False)  # audience -> (read at, passages)

    # --- SQLite -------------------------------------------------------------------------------
    @property
    def db(self) -> sqlite3.Connection:
        """A connection per thread (Gradio and the load test call from many threads)."""
        conn = getattr(self._local, "conn", None)
        if conn is None:
            conn = connect(self.settings.db_path, foreign_keys=True)
            conn.executescript(SCHEMA)
            migrate(conn)
            self._local.conn = conn
        return conn

    def transaction(self):
        return Transaction(self.db)

    # --- Chroma -------------------------------------------------------------------------------
    @property
    def chroma_client(self):
        return open_chroma_client(self.settings.chroma_url, str(self.settings.store_dir))

    @property
    def collection(self):
        """This model's Chroma collection (cosine space): what searches query, without llama-index."""
        with self._lock:
            if self._collection is None:
                self._collection = self.chroma_client.get_or_create_collection(
                    self.settings.collection_name, embedding_function=None,
                    metadata={"hnsw:space": "cosine", "embedder": self.settings.embedder})
            return self._collection

    @property
    def vector_store(self):
        """llama-index's ChromaVectorStore over the same collection: what ingestion writes through."""
        collection = self.collection  # before the lock, which ``collection`` takes too
        with self._lock:
            if self._vector_store is None:
                from llama_index.vector_stores.chroma import ChromaVectorStore

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
