"""What the store answers about the corpus: documents, statistics and facets, new documents, chunks under
filters, lexical search, and term statistics within an audience. Mixed into ``Store`` (``self.db``)."""
from __future__ import annotations

import json
import math
import re
import sqlite3
import time
from collections import Counter
from dataclasses import dataclass

from veille.filters import Filters


def document_row(row: sqlite3.Row) -> dict:
    doc = dict(row)
    for key in ("filieres", "tags", "audience"):
        doc[key] = json.loads(doc.get(key) or "[]")
    doc["extra"] = json.loads(doc.get("extra") or "{}")
    return doc


CHUNK_COLUMNS = "c.chunk_id, c.doc_id, c.position, c.char_start, c.char_end, c.heading, c.text"
AUDIENCE_POOL = 1000  # lexical candidates re-scored within an audience
BM25_K1, BM25_B = 1.2, 0.75  # FTS5's bm25 constants
# FTS5's unicode61 tokens (our terms are already folded): letters and digits, anything else separates.
_FTS_TOKEN = re.compile(r"[^\W_]+")
DF_CACHE_SIZE = 20000  # (audience, term) -> passages holding it, valid for one store generation
DF_CAP = 2000  # passages counted per term at most within an audience: above that a term is "common" anyway


def bm25_idf(passages: int, df: int) -> float:
    """FTS5's idf: log((N - n + 0.5) / (n + 0.5)), floored at 1e-6."""
    value = math.log(max(passages - df + 0.5, 1e-9) / (df + 0.5))
    return value if value > 0 else 1e-6


def _varints(blob: bytes, count: int | None = None) -> list[int]:
    """The first ``count`` (default: all) SQLite varints of an FTS5 record: a docsize record holds tokens per
    column, the averages record the row count then tokens per column. A varint's ninth byte carries 8 bits."""
    values, value, width = [], 0, 0
    for byte in blob:
        if width == 8:
            values.append((value << 8) | byte)
            value = width = 0
        else:
            value, width = (value << 7) | (byte & 0x7F), width + 1
            if byte < 0x80:
                values.append(value)
                value = width = 0
        if count is not None and len(values) >= count:
            break
    return values


def _varint(blob: bytes) -> int:
    """The first value of an FTS5 docsize blob: the passage's length in tokens."""
    values = _varints(blob, 1)
    return values[0] if values else 0


@dataclass
class TermStats:
    """BM25-style inverse document frequencies over a set of passages (the whole corpus, or an audience).

    ``absent`` is the weight of a term no passage of the set contains: the upper bound of ``idf``."""
    passages: int
    df: "callable"

    def __post_init__(self) -> None:
        self._cache: dict[str, float] = {}

    @property
    def absent(self) -> float:
        return math.log(1 + (self.passages + 0.5) / 0.5)

    def __call__(self, term: str) -> float:
        if term not in self._cache:
            df = self.df(term)
            self._cache[term] = math.log(1 + (self.passages - df + 0.5) / (df + 0.5))
        return self._cache[term]

    def contains(self, term: str) -> bool:
        return self(term) < self.absent - 1e-9


class CorpusQueries:
    db: sqlite3.Connection
    _visible_totals: dict

    # --- documents ------------------------------------------------------------------------------
    def document(self, doc_id: str) -> dict | None:
        row = self.db.execute("SELECT * FROM documents WHERE doc_id=?", (doc_id,)).fetchone()
        return document_row(row) if row else None

    def document_labels(self, doc_ids: list[str]) -> dict[str, dict]:
        """Title, date and type of each document (what a prompt shows of a passage's source), by id."""
        ids = list(dict.fromkeys(doc_ids))
        if not ids:
            return {}
        rows = self.db.execute(f"SELECT doc_id, title, date, doc_type FROM documents "
                               f"WHERE doc_id IN ({','.join('?' * len(ids))})", ids)
        return {r["doc_id"]: {k: r[k] for k in ("title", "date", "doc_type") if r[k]} for r in rows}

    def chunk_pages(self, chunk_id: str) -> tuple[int | None, int | None]:
        """First and last page of a passage (None for formats without pages)."""
        row = self.db.execute("SELECT page_start, page_end FROM chunks WHERE chunk_id=?", (chunk_id,)).fetchone()
        return (row["page_start"], row["page_end"]) if row else (None, None)

    def documents(self, filters: Filters | None = None, limit: int = 1000, order: str = "ingested") -> list[dict]:
        """Stored documents within ``filters``, without their text: newest ingestion first, or by ``order``
        (``date``: newest dated first, undated last; ``title``; ``doc_type``; ``source``)."""
        orders = {"ingested": "d.ingested_at DESC", "date": "d.date IS NULL, d.date DESC, d.title",
                  "title": "d.title COLLATE NOCASE, d.date DESC", "doc_type": "d.doc_type, d.date DESC",
                  "source": "COALESCE(d.site, d.url, d.source), d.date DESC"}
        if order not in orders:
            raise ValueError(f"unknown order {order!r}; valid: {', '.join(orders)}")
        where, params = (filters or Filters()).sql("d")
        rows = self.db.execute(
            "SELECT doc_id, title, doc_type, date, source, url, site, author, language, region, filieres, tags, "
            f"audience, n_chunks, n_chars, ingested_at FROM documents d WHERE d.state='done' AND {where} "
            f"ORDER BY {orders[order]} LIMIT ?", [*params, limit]).fetchall()
        return [document_row(r) for r in rows]

    def documents_with_terms(self, terms: list[str], filters: Filters | None = None) -> set[str]:
        """The documents within ``filters`` whose passages hold every one of ``terms`` (analysed terms of
        the lexical index: accents and case do not matter), wherever in the document each one is."""
        where, params = (filters or Filters()).sql("d")
        found: set[str] | None = None
        for term in dict.fromkeys(terms):
            rows = self.db.execute(
                "SELECT DISTINCT c.doc_id FROM chunks_fts JOIN chunks c ON c.rowid = chunks_fts.rowid "
                f"JOIN documents d ON d.doc_id = c.doc_id WHERE chunks_fts MATCH ? AND d.state='done' AND {where}",
                [f'"{term}"', *params])
            docs = {r[0] for r in rows}
            found = docs if found is None else found & docs
            if not found:
                return set()
        return found or set()

    def document_passages(self, doc_id: str) -> list[sqlite3.Row]:
        """A document's passages in reading order (offsets, heading, text)."""
        return self.db.execute(f"SELECT {CHUNK_COLUMNS} FROM chunks c WHERE c.doc_id=? ORDER BY c.position",
                               (doc_id,)).fetchall()

    def document_sources(self, doc_id: str) -> list[str]:
        """Where a document came from: file paths and URLs recorded at ingestion (one text may have several)."""
        return [r[0] for r in self.db.execute("SELECT source FROM sources WHERE doc_id=? ORDER BY source", (doc_id,))]

    def visible_documents(self, doc_ids: list[str], filters: Filters) -> set[str]:
        """The documents among ``doc_ids`` that pass ``filters`` (a session's audience)."""
        if not doc_ids:
            return set()
        where, params = Filters(**{**filters.as_dict(), "doc_ids": list(doc_ids)}).sql("d")
        return {r[0] for r in self.db.execute(f"SELECT d.doc_id FROM documents d WHERE {where}", params)}

    def new_documents(self, since: float, until: float) -> list[str]:
        """Documents whose ingestion finished in (since, until], oldest first."""
        rows = self.db.execute("SELECT doc_id FROM documents WHERE state='done' AND ingested_at > ? "
                               "AND ingested_at <= ? ORDER BY ingested_at", (since, until)).fetchall()
        return [r["doc_id"] for r in rows]

    def all_chunk_rows(self) -> list[sqlite3.Row]:
        """Every stored passage with its place in its document (the training script rebuilds retrievals from it)."""
        return self.db.execute("SELECT chunk_id, doc_id, position, char_start, char_end, heading, text "
                               "FROM chunks").fetchall()

    def source_documents(self) -> list[tuple[str, str]]:
        """(source, doc_id) for every recorded source (file path, URL or bench:// key)."""
        return [(r["source"], r["doc_id"]) for r in self.db.execute("SELECT source, doc_id FROM sources")]

    # --- statistics -----------------------------------------------------------------------------
    def count_documents(self, filters: Filters | None = None) -> int:
        where, params = (filters or Filters()).sql("d")
        return self.db.execute(f"SELECT count(*) FROM documents d WHERE state='done' AND {where}", params).fetchone()[0]

    def count_chunks(self, filters: Filters | None = None) -> int:
        if filters is None:
            return self.db.execute("SELECT count(*) FROM chunks").fetchone()[0]
        where, params = filters.sql("d")
        return self.db.execute(f"SELECT coalesce(sum(n_chunks), 0) FROM documents d WHERE state='done' AND {where}",
                               params).fetchone()[0]

    def count_by(self, column: str, filters: Filters | None = None, limit: int = 500) -> list[tuple[str | None, int]]:
        """Documents per value of ``column``: ``doc_type``, ``language``, ``month`` (YYYY-MM of the date,
        None when undated) or ``source`` (site, else source), most frequent first (months: newest first)."""
        expression = {"doc_type": "d.doc_type", "language": "d.language", "month": "substr(d.date, 1, 7)",
                      "source": "COALESCE(d.site, d.source)"}.get(column)
        if expression is None:
            raise ValueError(f"unknown statistic {column!r}; valid: doc_type, language, month, source")
        where, params = (filters or Filters()).sql("d")
        order = "1 DESC" if column == "month" else "2 DESC, 1"
        return [(r[0], r[1]) for r in self.db.execute(
            f"SELECT {expression}, count(*) FROM documents d WHERE state='done' AND {where} GROUP BY 1 "
            f"ORDER BY {order} LIMIT ?", [*params, limit])]

    def filieres(self, filters: Filters | None = None) -> list[str]:
        where, params = (filters or Filters()).sql("d")
        return [r[0] for r in self.db.execute(
            f"SELECT DISTINCT j.value FROM documents d, json_each(d.filieres) j WHERE d.state='done' AND {where} "
            "ORDER BY 1", params)]

    # --- ingestion log --------------------------------------------------------------------------
    def record_ingestion(self, started_at: float, summary: dict) -> None:
        self.db.execute("INSERT INTO ingestions(started_at, finished_at, summary) VALUES(?,?,?)",
                        (started_at, time.time(), json.dumps(summary)))

    def ingestions(self, limit: int = 10) -> list[dict]:
        """The latest ingestion runs, newest first: ``finished_at`` and the summary of each."""
        return [{"finished_at": r["finished_at"], "summary": json.loads(r["summary"] or "{}")}
                for r in self.db.execute("SELECT finished_at, summary FROM ingestions ORDER BY id DESC LIMIT ?",
                                         (limit,))]

    # --- retrieval ------------------------------------------------------------------------------
    def chunks(self, chunk_ids: list[str], filters: Filters | None = None) -> dict[str, sqlite3.Row]:
        """The stored chunks among ``chunk_ids`` that pass ``filters``, by id."""
        if not chunk_ids:
            return {}
        where, params = (filters or Filters()).sql("d")
        return {r["chunk_id"]: r for r in self.db.execute(
            f"SELECT {CHUNK_COLUMNS} FROM chunks c JOIN documents d ON d.doc_id = c.doc_id "
            f"WHERE c.chunk_id IN ({','.join('?' * len(chunk_ids))}) AND d.state = 'done' AND {where}",
            [*chunk_ids, *params])}

    def lexical_search(self, terms: list[str], filters: Filters | None = None, top_k: int = 50) -> list[dict]:
        """BM25 over analysed terms, any of ``terms``, within ``filters``; rows carry ``rank`` (negative, lower
        is better, as FTS5's ``bm25``).

        Under an audience restriction the scores are BM25 with the statistics of the audience's passages
        (passage count, average length, each term's frequency), computed here from FTS5's own counts: FTS5's
        ``bm25`` uses the whole corpus, so a score would tell about documents the asker may not read. The
        candidates are the ``AUDIENCE_POOL`` best by FTS5's rank; scores are exact whenever all matches fit."""
        if not terms:
            return []
        filters = filters or Filters()
        pruned = self.lexical_pruned(terms, filters, top_k)  # bounded cost (veille/store/lexical.py)
        return pruned if pruned is not None else self.lexical_full(terms, filters, top_k)

    def lexical_full(self, terms: list[str], filters: Filters | None = None, top_k: int = 50) -> list[dict]:
        """FTS5's OR query over every term, as ``lexical_search`` rows: what ``lexical_search`` runs when
        ``lexical_pruned`` has nothing to bound or too few rare matches, and the reference the pruned scores are
        checked against (tests/test_lexical_pruned.py)."""
        if not terms:
            return []
        filters = filters or Filters()
        match = " OR ".join(f'"{t}"' for t in terms)
        where, params = filters.sql("d")
        restricted = filters.audience is not None
        rows = self.db.execute(
            f"SELECT {CHUNK_COLUMNS}, c.rowid AS fts_rowid, bm25(chunks_fts) AS rank FROM chunks_fts "
            f"JOIN chunks c ON c.rowid = chunks_fts.rowid JOIN documents d ON d.doc_id = c.doc_id "
            f"WHERE chunks_fts MATCH ? AND d.state = 'done' AND {where} ORDER BY rank LIMIT ?",
            [match, *params, AUDIENCE_POOL if restricted else top_k]).fetchall()
        found = [dict(r) for r in rows]
        if restricted and found:
            found = self._audience_bm25(terms, found, filters.audience)[:top_k]
        return found

    def _audience_bm25(self, terms: list[str], rows: list[dict], audience: list[str]) -> list[dict]:
        """``rows`` re-scored with BM25 (FTS5's formula: k1 1.2, b 0.75, idf floored at 1e-6) over the audience."""
        passages, total_length = self._audience_lengths(audience)
        generation = self._generation()
        idf = {t: bm25_idf(passages, self._audience_df(t, audience, generation)) for t in set(terms)}
        scores = self._bm25_scores([r["fts_rowid"] for r in rows], idf, total_length / passages if passages else 1.0)
        for row in rows:
            row["rank"] = scores.get(row["fts_rowid"], -0.0)
        return sorted(rows, key=lambda r: (r["rank"], r["fts_rowid"]))

    def _bm25_scores(self, ids: list[int], idf: dict[str, float], average: float) -> dict[int, float]:
        """FTS5's BM25 of each passage of ``ids`` over the terms of ``idf``, negative as FTS5's (lower is better),
        from the passages' stored terms and lengths."""
        marks = ",".join("?" * len(ids))
        lengths = {r[0]: _varint(r[1]) for r in self.db.execute(
            f"SELECT id, sz FROM chunks_fts_docsize WHERE id IN ({marks})", ids)}
        scores = {}
        for rowid, text in self.db.execute(f"SELECT rowid, terms FROM chunks_fts WHERE rowid IN ({marks})", ids):
            words = Counter(_FTS_TOKEN.findall(text))
            norm = BM25_K1 * (1 - BM25_B + BM25_B * lengths.get(rowid, 0) / average)
            score = 0.0
            for term, weight in idf.items():
                tf = words.get(term, 0)
                if tf:
                    score += weight * tf * (BM25_K1 + 1) / (tf + norm)
            scores[rowid] = -score
        return scores

    def _audience_df(self, term: str, audience: list[str], generation: tuple) -> int:
        """Passages of the audience holding ``term``, cached for one store ``generation``."""
        cache = self._visible_totals.setdefault("df", {})
        key = (generation, tuple(audience), term)
        value = cache.get(key)
        if value is not None:
            return value
        where, params = Filters(audience=audience).sql("d")
        value = self.db.execute(
            f"SELECT count(*) FROM chunks_fts JOIN chunks c ON c.rowid = chunks_fts.rowid JOIN documents d "
            f"ON d.doc_id = c.doc_id WHERE chunks_fts MATCH ? AND d.state='done' AND {where}",
            [f'"{term}"', *params]).fetchone()[0]
        if len(cache) >= DF_CACHE_SIZE:  # stale generations and rare terms go together (simple, thread-safe)
            cache.clear()
        cache[key] = value
        return value

    def _generation(self) -> tuple:
        """Changes whenever passages are added or removed (by this process or another): the key of the caches
        of audience statistics, which must never outlive the passages they count."""
        return tuple(self.db.execute("SELECT max(rowid), count(*) FROM chunks").fetchone())

    def _audience_lengths(self, audience: list[str]) -> tuple[int, int]:
        """(passages, total length in tokens) of an audience, as FTS5 counts them; recomputed when passages
        change."""
        key = ("lengths", *audience)
        cached = self._visible_totals.get(key)
        generation = self._generation()
        if cached is None or cached[0] != generation:
            where, params = Filters(audience=audience).sql("d")
            sizes = self.db.execute(
                f"SELECT z.sz FROM chunks_fts_docsize z JOIN chunks c ON c.rowid = z.id JOIN documents d "
                f"ON d.doc_id = c.doc_id WHERE d.state='done' AND {where}", params).fetchall()
            cached = self._visible_totals[key] = (generation, (len(sizes), sum(_varint(r[0]) for r in sizes)))
        return cached[1]

    def term_stats(self, audience: list[str] | None = None) -> TermStats:
        """Term weights over the passages the asker may see (``audience``), or over the whole corpus (None).

        The global vocabulary (FTS5's fts5vocab) counts every passage, so weights — hence an answer's sentence
        choice and confidence — would shift with documents the asker may not read (a probe for « is this rare
        word in a partner bulletin? »). Within an audience both the passage count and each term's frequency are
        taken there; counts stop at ``DF_CAP`` to bound the cost."""
        db = self.db
        if audience is None:
            db.execute("CREATE VIRTUAL TABLE IF NOT EXISTS temp.chunks_vocab USING fts5vocab(main, chunks_fts, 'row')")
            total = db.execute("SELECT count(*) FROM chunks").fetchone()[0] or 1

            def df(term: str) -> int:
                row = db.execute("SELECT doc FROM temp.chunks_vocab WHERE term=?", (term,)).fetchone()
                return row[0] if row else 0

            return TermStats(total, df)
        where, params = Filters(audience=audience).sql("d")
        key = tuple(audience)
        cached = self._visible_totals.get(key)
        generation = self._generation()
        if cached is None or cached[0] != generation:
            total = db.execute(f"SELECT coalesce(sum(d.n_chunks), 0) FROM documents d WHERE d.state='done' "
                               f"AND {where}", params).fetchone()[0]
            cached = self._visible_totals[key] = (generation, int(total))

        def audience_df(term: str) -> int:
            return db.execute(
                f"SELECT count(*) FROM (SELECT 1 FROM chunks_fts JOIN chunks c ON c.rowid = chunks_fts.rowid "
                f"JOIN documents d ON d.doc_id = c.doc_id WHERE chunks_fts MATCH ? AND d.state='done' AND {where} "
                f"LIMIT {DF_CAP})", [f'"{term}"', *params]).fetchone()[0]

        return TermStats(max(1, cached[1]), audience_df)
