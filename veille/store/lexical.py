"""Bounded-cost lexical search (``Store.lexical_search``), mixed into ``Store`` next to ``CorpusQueries``.

FTS5 scores every passage that holds any query term before sorting, so an OR query whose terms include a
word found in a third of the corpus costs a third of the corpus (p95 112–146 ms at 100,000 passages). Here
the terms held by more than ``PRUNE_FRACTION`` of the passages (and by more than ``PRUNE_MIN_DF``: below
that a posting list is cheap) only *score*: the candidates are the ``PRUNE_POOL`` best passages by FTS5's
rank over the rarer terms, then every candidate is re-scored with BM25 over *all* the terms — the same
formula and statistics as the full query (FTS5's own for the whole corpus; the audience's under an
audience restriction), so a passage found by both paths has the same score. What may change is only the
candidate set: a passage sharing nothing but common words with the question is no longer a candidate.
When the rare terms find fewer than ``top_k`` passages, the full query (``lexical_full``) runs instead.

Which terms are common is decided on the statistics the scores use (the audience's under a restriction),
so the choice, like the scores, tells nothing about documents outside the audience.
"""
from __future__ import annotations

from veille.filters import Filters
from veille.store.corpus import AUDIENCE_POOL, CHUNK_COLUMNS, _varints, bm25_idf

# Fixed a priori, not tuned on evaluation questions: a term in more than 5 % of the passages has an idf
# below log(19) ≈ 2.9, under a third of a rare term's (≈ 9 at 100,000 passages), and its posting list is
# what makes the query slow; 2,000 passages is where FTS5's OR query still costs a few ms (bench_scale).
PRUNE_FRACTION = 0.05
PRUNE_MIN_DF = 2000
# Candidates re-scored when terms are pruned; chosen on 100 PIAF *train* questions over the 75,919-passage bench
# store: 300 and 1,000 agree equally with the full query's top 10 (0.999 overlap, 99 % identical lists; 0.998
# and 97 % within an audience) at half the cost. With nothing pruned the pool is AUDIENCE_POOL, as the full query.
PRUNE_POOL = 300


class LexicalQueries:
    """``lexical_pruned``: the pruned OR query; uses ``CorpusQueries``' BM25 constants and statistics."""

    def lexical_pruned(self, terms: list[str], filters: Filters, top_k: int) -> list[dict] | None:
        """Rows as ``lexical_search`` gives them, or None where FTS5's own query is the same and cheaper
        (no restriction, and nothing pruned or too few rare matches). Under a restriction with nothing pruned
        this is the full query's audience re-scoring (same pool, same scores), with the terms' audience counts
        cached and the candidates' text read only for the ``top_k`` kept."""
        restricted = filters.audience is not None
        passages, total_length = (self._audience_lengths(filters.audience) if restricted
                                  else self._fts_totals())
        generation = self._generation() if restricted else None
        if not restricted:  # FTS5's per-term counts, as a table of this connection (once: IF NOT EXISTS)
            self.db.execute("CREATE VIRTUAL TABLE IF NOT EXISTS temp.chunks_vocab USING fts5vocab(main, chunks_fts, 'row')")
        df = {t: self._term_df(t, filters.audience, generation) for t in set(terms)}
        limit = max(PRUNE_MIN_DF, PRUNE_FRACTION * passages)
        every = sorted(df)
        rare = [t for t in every if df[t] <= limit]
        if len(rare) == len(every) and not restricted:
            return None  # FTS5's own top-k over every term: nothing to bound, nothing to re-score
        if not rare:  # every term is common: the rarest one still bounds the candidates
            rare = [min(every, key=lambda t: (df[t], t))]
        pruned = len(rare) < len(every)
        ids = self._lexical_pool(rare, filters, PRUNE_POOL if pruned else AUDIENCE_POOL)
        if len(ids) < top_k and pruned:
            if not restricted:
                return None
            ids = self._lexical_pool(every, filters, AUDIENCE_POOL)
        if not ids:
            return []
        idf = {term: bm25_idf(passages, n) for term, n in df.items()}
        scores = self._bm25_scores(ids, idf, total_length / passages if passages else 1.0)
        best = sorted(scores, key=lambda i: (scores[i], i))[:top_k]
        marks = ",".join("?" * len(best))
        rows = {r["fts_rowid"]: dict(r) for r in self.db.execute(
            f"SELECT {CHUNK_COLUMNS}, c.rowid AS fts_rowid FROM chunks c WHERE c.rowid IN ({marks})", best)}
        for rowid in best:
            rows[rowid]["rank"] = scores[rowid]
        return [rows[i] for i in best]

    def _lexical_pool(self, terms: list[str], filters: Filters, size: int) -> list[int]:
        """The ``size`` best passages by FTS5's rank over ``terms`` within ``filters``; ids only: the text
        of a thousand candidates costs more than the search (sorter rows)."""
        where, params = filters.sql("d")
        return [r[0] for r in self.db.execute(
            f"SELECT c.rowid FROM chunks_fts JOIN chunks c ON c.rowid = chunks_fts.rowid "
            f"JOIN documents d ON d.doc_id = c.doc_id WHERE chunks_fts MATCH ? AND d.state = 'done' AND {where} "
            f"ORDER BY rank LIMIT ?", [" OR ".join(f'"{t}"' for t in terms), *params, size])]

    def _fts_totals(self) -> tuple[int, int]:
        """(rows, tokens) as FTS5's bm25 counts them: its averages record."""
        blob = self.db.execute("SELECT block FROM chunks_fts_data WHERE id = 1").fetchone()
        values = _varints(blob[0]) if blob else []
        return (values[0], values[1]) if len(values) >= 2 else (0, 0)

    def _term_df(self, term: str, audience: list[str] | None, generation: tuple | None) -> int:
        """Passages holding ``term``: FTS5's vocabulary for the whole corpus (``chunks_vocab``, see
        ``lexical_pruned``), else counted within the audience (cached until passages change)."""
        if audience is None:
            row = self.db.execute("SELECT doc FROM temp.chunks_vocab WHERE term=?", (term,)).fetchone()
            return row[0] if row else 0
        return self._audience_df(term, audience, generation)
