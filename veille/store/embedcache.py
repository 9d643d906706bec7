"""The chunk-level embedding cache: stored passages' vectors found again by the hash of the exact text embedded.

The cache is the store itself, not a copy: ``chunks.embed_key`` (hash of the model and the embedded text) points
at a chunk whose vector Chroma already holds. An edited document re-embeds only the passages whose text changed,
and a passage shared with another stored document reuses its vector. Nothing needs pruning or bounding: a
document's keys go with its chunk rows, and only committed chunks are looked up, so an interrupted write
(``ingestion/write.py``) never offers a vector Chroma may lack; a vector missing anyway is simply embedded again.
Mixed into ``Store`` (``self.db``, ``self.collection``)."""
from __future__ import annotations

import sqlite3

import numpy as np

_LOOKUP = 500  # keys per query: well under SQLite's variable limit and Chroma's request size


class EmbedCacheQueries:
    db: sqlite3.Connection

    def cached_vectors(self, keys: list[str]) -> dict[str, np.ndarray]:
        """The stored vector of each key found (one chunk per key; missing keys are absent)."""
        wanted = list(dict.fromkeys(k for k in keys if k))
        chunk_of: dict[str, str] = {}
        for start in range(0, len(wanted), _LOOKUP):
            part = wanted[start:start + _LOOKUP]
            rows = self.db.execute(
                f"SELECT embed_key, min(chunk_id) AS chunk_id FROM chunks WHERE embed_key IN "
                f"({','.join('?' * len(part))}) GROUP BY embed_key", part).fetchall()
            chunk_of.update((r["embed_key"], r["chunk_id"]) for r in rows)
        if not chunk_of:
            return {}
        key_of = {chunk_id: key for key, chunk_id in chunk_of.items()}
        found: dict[str, np.ndarray] = {}
        ids = sorted(key_of)
        for start in range(0, len(ids), _LOOKUP):
            got = self.collection.get(ids=ids[start:start + _LOOKUP], include=["embeddings"])
            for chunk_id, vector in zip(got["ids"], got["embeddings"]):
                found[key_of[chunk_id]] = np.asarray(vector, dtype=np.float32)
        return found
