"""Plain BM25 peer (bm25s, French stop words, no stemming, title + text): the harness's own sanity check.

It reproduces the keyword-search reference of ../shared/README.md, so a metric or gold-mapping bug in
the harness shows up as a mismatch before any Veille figure is trusted.
"""
from __future__ import annotations

import time

from eval.datasets import Bench

# ../shared/README.md, table "Reference figures measured on these machines", BM25 column (hit@10, nDCG@10),
# primary scoring (SPF and CNIL: any passage of the gold document).
REFERENCE = {"piaf": (0.868, 0.772), "spf": (0.944, 0.637), "cnil": (0.774, 0.587)}
# Same README, "Benchmark format" line (hit@1, hit@10, MRR@10), a hit = any id of ``gold_ids``.
REFERENCE_GOLD_IDS = {"piaf": (0.670, 0.864, 0.737), "spf": (0.694, 0.926, 0.775), "cnil": (0.403, 0.767, 0.523)}
TOLERANCE = 0.02


class BM25Peer:
    def __init__(self, bench: Bench):
        import bm25s

        self.ids = [p.id for p in bench.passages]
        texts = [f"{p.title}\n{p.text}" for p in bench.passages]
        self._bm25s = bm25s
        self.index = bm25s.BM25()
        self.index.index(bm25s.tokenize(texts, stopwords="fr", show_progress=False), show_progress=False)

    def search(self, questions: list[str], k: int = 10) -> tuple[list[list[str]], list[float]]:
        """Ranked passage ids per question, and per-question latency in ms."""
        out, latencies = [], []
        k = min(k, len(self.ids))
        for question in questions:
            t0 = time.perf_counter()
            tokens = self._bm25s.tokenize([question], stopwords="fr", return_ids=False, show_progress=False)
            if not tokens[0]:
                out.append([])
            else:
                docs, _ = self.index.retrieve(tokens, k=k, show_progress=False, n_threads=1)
                out.append([self.ids[i] for i in docs[0]])
            latencies.append((time.perf_counter() - t0) * 1000)
        return out, latencies
