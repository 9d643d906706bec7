"""What the store answers about near-duplicates: MinHash band buckets (the LSH index, persistent and
incremental like the lexical one), each document's cluster, a cluster's members. Mixed into ``Store``."""
from __future__ import annotations

import sqlite3

from veille.filters import Filters

_IN_BATCH = 500


def _marks(values) -> str:
    return ",".join("?" * len(values))


class ClusterQueries:
    db: sqlite3.Connection

    # --- writes (inside the ingestion's transaction) -------------------------------------------
    def band_candidates(self, bands: list[tuple[int, int]]) -> list[str]:
        """Documents sharing at least one (band, hash) bucket with ``bands``."""
        if not bands:
            return []
        values = ",".join("(?,?)" for _ in bands)
        return [r[0] for r in self.db.execute(
            f"WITH q(band, hash) AS (VALUES {values}) SELECT DISTINCT b.doc_id FROM doc_bands b "
            "JOIN q ON b.band = q.band AND b.hash = q.hash", [v for pair in bands for v in pair])]

    def signatures(self, doc_ids: list[str]) -> dict[str, tuple[str, bytes | None, int]]:
        """(cluster, signature, shingle count) of each document among ``doc_ids`` that has been enriched."""
        out = {}
        for start in range(0, len(doc_ids), _IN_BATCH):
            part = doc_ids[start:start + _IN_BATCH]
            for r in self.db.execute(f"SELECT doc_id, cluster, signature, shingles FROM doc_enrichment WHERE doc_id IN "
                                     f"({_marks(part)})", part):
                out[r["doc_id"]] = (r["cluster"], r["signature"], r["shingles"])
        return out

    def save_enrichment(self, doc_id: str, model: str | None, cluster: str, similarity: float,
                        signature: bytes | None, shingles: int, bands: list[tuple[int, int]]) -> None:
        self.db.execute("DELETE FROM doc_bands WHERE doc_id=?", (doc_id,))
        self.db.executemany("INSERT INTO doc_bands(band, hash, doc_id) VALUES(?,?,?)",
                            [(b, h, doc_id) for b, h in bands])
        self.db.execute("INSERT OR REPLACE INTO doc_enrichment(doc_id, entities_model, cluster, similarity, "
                        "signature, shingles) VALUES(?,?,?,?,?,?)",
                        (doc_id, model, cluster, similarity, signature, shingles))

    def documents_to_enrich(self, limit: int = 500, with_entities: bool = True) -> list[sqlite3.Row]:
        """Stored documents the enrichment stages have not read (ingested before they existed, or, when
        ``with_entities``, while entities were turned off), oldest first."""
        return self.db.execute(
            "SELECT d.doc_id, d.title, d.text FROM documents d LEFT JOIN doc_enrichment e ON e.doc_id = d.doc_id "
            "WHERE d.state = 'done' AND (e.doc_id IS NULL OR (? AND e.entities_model IS NULL)) "
            "ORDER BY d.ingested_at LIMIT ?", (int(with_entities), limit)).fetchall()

    def document_chunks(self, doc_id: str) -> list[sqlite3.Row]:
        return self.db.execute("SELECT chunk_id, position, char_start, char_end FROM chunks WHERE doc_id=? "
                               "ORDER BY position", (doc_id,)).fetchall()

    # --- reads ------------------------------------------------------------------------------------
    def clusters_of(self, doc_ids: list[str]) -> dict[str, str]:
        """The cluster of each document (a document never enriched is its own cluster)."""
        out = {d: d for d in doc_ids}
        ids = list(dict.fromkeys(doc_ids))
        for start in range(0, len(ids), _IN_BATCH):
            part = ids[start:start + _IN_BATCH]
            for r in self.db.execute(f"SELECT doc_id, cluster FROM doc_enrichment WHERE doc_id IN ({_marks(part)})",
                                     part):
                out[r["doc_id"]] = r["cluster"]
        return out

    def cluster_members(self, clusters: list[str], filters: Filters | None = None) -> dict[str, list[dict]]:
        """The documents of each cluster that pass ``filters`` (a session's audience), oldest first, with
        every source they were read from (the same text from two places is stored once)."""
        out: dict[str, list[dict]] = {}
        where, params = (filters or Filters()).sql("d")
        ids = list(dict.fromkeys(clusters))
        for start in range(0, len(ids), _IN_BATCH):
            part = ids[start:start + _IN_BATCH]
            rows = self.db.execute(
                "SELECT e.cluster, e.similarity, d.doc_id, d.title, d.date, d.doc_type, d.url, d.source, d.site, "
                "d.ingested_at, (SELECT json_group_array(s.source) FROM sources s WHERE s.doc_id = d.doc_id) "
                "AS origins FROM doc_enrichment e JOIN documents d ON d.doc_id = e.doc_id "
                f"WHERE e.cluster IN ({_marks(part)}) AND d.state = 'done' AND {where} "
                "ORDER BY d.ingested_at, d.doc_id", [*part, *params]).fetchall()
            for r in rows:
                out.setdefault(r["cluster"], []).append(dict(r))
        return out
