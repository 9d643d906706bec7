"""What the store answers about entities: their mentions (written with the chunks), counts and trends under
filters, a timeline, co-mentions, and the re-keying an edited alias file asks for. Mixed into ``Store``."""
from __future__ import annotations

import sqlite3
from collections import Counter, defaultdict
from dataclasses import dataclass

from veille.entity_names import AliasBook, load_aliases
from veille.filters import Filters

_IN_BATCH = 500  # keys per IN (...) list


@dataclass(frozen=True)
class MentionRow:
    """One mention as ingestion hands it to the store (offsets in the document text)."""
    chunk_id: str
    start: int
    end: int
    label: str
    surface: str
    norm: str
    key: str


def _marks(values) -> str:
    return ",".join("?" * len(values))


class EntityQueries:
    db: sqlite3.Connection
    settings: object

    # --- writes (inside the ingestion's transaction) -------------------------------------------
    def add_entity_mentions(self, doc_id: str, mentions: list[MentionRow]) -> None:
        self.db.executemany(
            "INSERT INTO entity_mentions(doc_id, chunk_id, char_start, char_end, label, surface, norm, key) "
            "VALUES(?,?,?,?,?,?,?,?)",
            [(doc_id, m.chunk_id, m.start, m.end, m.label, m.surface, m.norm, m.key) for m in mentions])

    def clear_entity_mentions(self, doc_id: str) -> None:
        self.db.execute("DELETE FROM entity_mentions WHERE doc_id=?", (doc_id,))

    def alias_book(self) -> AliasBook:
        """The user's alias file (``$VEILLE_HOME/entites.yaml``), the stored mentions re-keyed if it changed."""
        book = load_aliases(self.settings.home)
        self.sync_entity_aliases(book)
        return book

    def sync_entity_aliases(self, book: AliasBook) -> int:
        """Re-key the stored mentions after an edit of the alias file; returns how many changed."""
        if self.meta_get("entity_aliases") == book.digest:
            return 0
        changed = 0
        with self.transaction() as tx:
            for row in tx.execute("SELECT DISTINCT norm, key FROM entity_mentions").fetchall():
                key = book.canonical(row["norm"])
                if key != row["key"]:
                    changed += tx.execute("UPDATE entity_mentions SET key=? WHERE norm=? AND key=?",
                                          (key, row["norm"], row["key"])).rowcount
            self.meta_set("entity_aliases", book.digest)
        return changed

    # --- reads ------------------------------------------------------------------------------------
    def entity_totals(self, filters: Filters | None = None) -> list[sqlite3.Row]:
        """Per (key, label): mentions and documents within ``filters``."""
        where, params = (filters or Filters()).sql("d")
        return self.db.execute(
            "SELECT m.key, m.label, count(*) AS mentions, count(DISTINCT m.doc_id) AS documents "
            "FROM entity_mentions m JOIN documents d ON d.doc_id = m.doc_id "
            f"WHERE m.key != '' AND d.state = 'done' AND {where} GROUP BY m.key, m.label", params).fetchall()

    def _key_counts(self, keys: list[str], column: str) -> dict[str, Counter]:
        """Mentions of each key per value of ``column`` (``surface`` or ``label``)."""
        counts: dict[str, Counter] = defaultdict(Counter)
        for start in range(0, len(keys), _IN_BATCH):
            part = keys[start:start + _IN_BATCH]
            for r in self.db.execute(f"SELECT key, {column} AS value, count(*) AS n FROM entity_mentions WHERE key "
                                     f"IN ({_marks(part)}) GROUP BY key, {column}", part):
                counts[r["key"]][r["value"]] += r["n"]
        return dict(counts)

    def entity_surfaces(self, keys: list[str]) -> dict[str, str]:
        """The most frequent written form of each key."""
        return {k: max(c.items(), key=lambda kv: (kv[1], kv[0]))[0]
                for k, c in self._key_counts(keys, "surface").items()}

    def entity_buckets(self, keys: list[str], filters: Filters | None, width: int) -> list[sqlite3.Row]:
        """Documents mentioning each key per period (``width`` 7: YYYY-MM, 4: YYYY) of the document's date;
        undated documents, and dates coarser than the period (a year when counting months), are left out."""
        if not keys:
            return []
        where, params = (filters or Filters()).sql("d")
        bucket = f"CASE WHEN length(d.date) >= {width} THEN substr(d.date, 1, {width}) END"
        return self.db.execute(
            f"SELECT m.key, {bucket} AS bucket, count(DISTINCT m.doc_id) AS documents FROM entity_mentions m "
            f"JOIN documents d ON d.doc_id = m.doc_id WHERE m.key IN ({_marks(keys)}) AND d.state = 'done' "
            f"AND {where} GROUP BY 1, 2 HAVING bucket IS NOT NULL ORDER BY 2", [*keys, *params]).fetchall()

    def entity_timeline(self, key: str, filters: Filters | None = None, limit: int = 200) -> list[sqlite3.Row]:
        """The mentions of ``key`` in date order (undated documents last, by ingestion), with their passage."""
        where, params = (filters or Filters()).sql("d")
        return self.db.execute(
            "SELECT m.doc_id, m.chunk_id, m.char_start, m.char_end, m.label, m.surface, d.title, d.date, "
            "d.doc_type, d.url, d.source, d.site, d.ingested_at, c.text AS chunk_text, c.char_start AS chunk_start "
            "FROM entity_mentions m JOIN documents d ON d.doc_id = m.doc_id JOIN chunks c ON c.chunk_id = m.chunk_id "
            f"WHERE m.key = ? AND d.state = 'done' AND {where} "
            "ORDER BY d.date_num IS NULL, d.date_num, d.ingested_at, m.char_start LIMIT ?",
            [key, *params, limit]).fetchall()

    def co_mentioned(self, key: str, filters: Filters | None = None, limit: int = 10) -> list[sqlite3.Row]:
        """The entities most often mentioned in the same documents as ``key``: (key, documents)."""
        where, params = (filters or Filters()).sql("d")
        return self.db.execute(
            "SELECT o.key, count(DISTINCT o.doc_id) AS documents FROM entity_mentions o "
            "JOIN documents d ON d.doc_id = o.doc_id "
            "WHERE o.doc_id IN (SELECT doc_id FROM entity_mentions WHERE key = ?) AND o.key != ? AND o.key != '' "
            f"AND d.state = 'done' AND {where} GROUP BY o.key ORDER BY 2 DESC, 1 LIMIT ?",
            [key, key, *params, limit]).fetchall()

    def document_entities(self, doc_ids: list[str], per_doc: int = 6) -> dict[str, list[tuple[str, int]]]:
        """Each document's most mentioned entities: (key, mentions), most mentioned first."""
        out: dict[str, list[tuple[str, int]]] = {}
        for start in range(0, len(doc_ids), _IN_BATCH):
            part = doc_ids[start:start + _IN_BATCH]
            for r in self.db.execute(
                    f"SELECT doc_id, key, count(*) AS n FROM entity_mentions WHERE doc_id IN ({_marks(part)}) "
                    "AND key != '' GROUP BY doc_id, key ORDER BY doc_id, n DESC, key", part):
                out.setdefault(r["doc_id"], []).append((r["key"], r["n"]))
        return {d: v[:per_doc] for d, v in out.items()}

    def entity_labels(self, keys: list[str]) -> dict[str, Counter]:
        """Mentions per label of each key (the type shown is the most frequent one)."""
        return self._key_counts(keys, "label")
