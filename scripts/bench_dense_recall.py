"""How often Chroma's HNSW search misses the true nearest passages, by search width, against the exact
(brute-force) ranking computed with numpy over the same vectors — the peer measured in the same run.

    .venv/bin/python scripts/bench_dense_recall.py [--home DIR] [--questions FILE] [--limit N] [--widths 10,50,100,200,400]

``--home`` is a Veille store (default: the configured one, e.g. ``.veille``); the benchmark stores of
``veille eval --answerability`` live under ``.veille/cache/eval/`` (``echelle-*`` is the demo corpus among
5,290 passages). Questions: one per line, or a JSONL file with a ``question`` field (default:
``eval/corpus_set.jsonl``, a test set; widths are chosen on ``../shared/bench/piaf/train.jsonl --limit 500``).
Run it twice to see the variation between processes: the same store and questions do not miss the same
passages.
"""
from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))


def read_questions(path: Path) -> list[str]:
    lines = [line.strip() for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    if path.suffix == ".jsonl":
        return [json.loads(line)["question"] for line in lines]
    return lines


def main() -> int:
    from rich.console import Console
    from rich.table import Table

    from veille.config import get_settings
    from veille.embeddings import get_embedder
    from veille.store import Store

    parser = argparse.ArgumentParser(description="Rappel de la recherche dense (HNSW de Chroma) face à la "
                                                 "recherche exacte, selon la largeur demandée.")
    parser.add_argument("--home", type=Path, default=None, help="dossier du stockage (défaut : celui configuré)")
    parser.add_argument("--questions", type=Path, default=REPO / "eval" / "corpus_set.jsonl")
    parser.add_argument("--limit", type=int, default=0, help="les N premières questions seulement")
    parser.add_argument("--widths", default="10,50,100,200,400")
    args = parser.parse_args()

    base = get_settings()
    # The store under --home, embedded, read with the configured models (never a copy of them under --home).
    settings = base.with_(home=args.home, models_path=base.models_dir, chroma_url=None) if args.home else base
    if not settings.db_path.exists():
        print(f"Aucun stockage Veille dans {settings.home}.", file=sys.stderr)
        return 2
    store = Store(settings)
    questions = read_questions(args.questions)[:args.limit or None]
    stored = store.collection.get(include=["embeddings"])
    ids = np.array(stored["ids"])
    matrix = np.asarray(stored["embeddings"], dtype=np.float32)
    matrix /= np.linalg.norm(matrix, axis=1, keepdims=True)
    vectors = get_embedder(settings).embed_queries(questions)

    t0 = time.perf_counter()
    k = min(10, len(ids))
    exact = [ids[np.argpartition(-(matrix @ v), k - 1)[:k]] for v in vectors]  # the cost of the exact top 10
    exact_ms = (time.perf_counter() - t0) / len(questions) * 1000
    exact = [ids[np.argsort(-(matrix @ v))[:10]] for v in vectors]  # in order

    table = Table(title=f"Recherche dense : {len(ids)} passages, {len(questions)} questions ({settings.home})")
    for column in ("largeur demandée", "plus proche trouvé en tête", "rappel@10", "ms / requête",
                   "× recherche exacte"):
        table.add_column(column, justify="right")
    store.collection.query(query_embeddings=[vectors[0].tolist()], n_results=1)  # the index loaded before timing
    for width in (int(w) for w in args.widths.split(",")):
        t0 = time.perf_counter()  # one query at a time, as the retriever asks
        found = [store.collection.query(query_embeddings=[v.tolist()], n_results=width,
                                        include=["distances"])["ids"][0] for v in vectors]
        ms = (time.perf_counter() - t0) / len(questions) * 1000
        first = np.mean([len(got) > 0 and got[0] == want[0] for want, got in zip(exact, found)])
        recall = np.mean([len(set(want) & set(got[:10])) / len(want) for want, got in zip(exact, found)])
        table.add_row(str(width), f"{first:.3f}", f"{recall:.3f}", f"{ms:.2f}", f"{ms / exact_ms:.2f}")
    table.add_row("exacte (numpy)", "1.000", "1.000", f"{exact_ms:.2f}", "1.00")
    Console().print(table)
    return 0


if __name__ == "__main__":
    sys.exit(main())
