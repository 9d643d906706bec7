"""Choose the reader's thresholds on PIAF's training split, as Veille answers (never on a test set).

    python -m eval.tune_reader [--write] [--json]

The training questions of the articles ``eval.train_reader`` held out (never trained on) are asked through
Veille's own ``Assistant`` in reader mode over the PIAF passages, by gold removal (``eval.gold_removal``): half
keeps its gold passage and must be answered citing it, half loses it and must not be asserted. The threshold on
the reader's calibrated probability is the one that maximises the mean of the two rates (ties: the higher). The
« related » threshold (what comes closest is quoted only when a passage speaks of the subject) is the relevance
head's balanced threshold on the held examples of training, kept from ``train_reader``'s figures.
``--write`` stores both in ``assistant/answering/reader.json``.
"""
from __future__ import annotations

import argparse
import json
import sys

import numpy as np

from assistant.answering.reading import THRESHOLDS_PATH
from eval.answerability import ask_cases, gold_removal_cases
from eval.datasets import Bench, load_bench, load_training_questions
from eval.gold_removal import removal_store, split_by_gold
from eval.stores import CachedEmbedder, bench_store
from eval.train_reader import HELD_SHARE, SEED
from veille.config import get_settings
from veille.embeddings import get_embedder
from veille.progress import make_progress
from veille.reader import READER_PATH, read_meta


def held_questions():
    """The training questions of the articles held out of the reader's training."""
    piaf = load_bench("piaf", full=True)
    articles = sorted({p.id.rsplit("-p", 1)[0] for p in piaf.passages})
    held = set(np.random.RandomState(SEED).permutation(articles)[: int(len(articles) * HELD_SHARE)])
    questions = [q for q in load_training_questions() if q.gold_ids and q.gold_ids[0].rsplit("-p", 1)[0] in held]
    return Bench("piaf-train-held", piaf.passages, questions, "passage", piaf.origin)


def best_threshold(rows: list[dict]) -> tuple[float, dict]:
    present = [r for r in rows if r["present"]]
    absent = [r for r in rows if not r["present"]]
    best, figures = 0.5, {}
    for t in np.round(np.arange(0.05, 0.96, 0.01), 2):
        cited = np.mean([r["confidence"] >= t and r["gold_cited"] for r in present]) if present else 0.0
        refused = np.mean([r["confidence"] < t for r in absent]) if absent else 0.0
        score = (cited + refused) / 2
        if not figures or score >= figures["balanced"]:
            best, figures = float(t), {"balanced": round(float(score), 4), "answered_and_cited": round(float(cited), 4),
                                       "refused_when_absent": round(float(refused), 4)}
    return best, figures


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m eval.tune_reader", description=__doc__.split("\n\n")[0])
    parser.add_argument("--write", action="store_true")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)
    base = get_settings()
    embedder = CachedEmbedder.of(get_embedder(base, "e5-small"), base)
    bench = held_questions()
    split = split_by_gold(bench)
    full = bench_store(bench, base, "e5-small", embedder, True)
    store = removal_store(full, bench, split, base)
    embedder.save()
    cases = gold_removal_cases(bench, split)
    with make_progress("questions") as bar:
        task = bar.add_task(f"PIAF train, articles tenus à part ({len(cases)} questions)", total=len(cases))
        rows = ask_cases(cases, store, embedder, ["reader"], lambda: bar.advance(task))
    threshold, figures = best_threshold(rows)
    meta = read_meta(READER_PATH)
    out = {"threshold": threshold, "related_threshold": float(meta.get("related_threshold", 0.5)),
           "chosen_on": f"PIAF train, articles tenus à part ({len(cases)} questions, retrait de l'or)",
           **figures}
    print(json.dumps(out, ensure_ascii=False, indent=None if args.json else 2))
    if args.write:
        THRESHOLDS_PATH.write_text(json.dumps(out, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
