"""Choose the reader's thresholds on PIAF's training split, as Veille answers (never on a test set).

    python -m eval.tune_reader [--write] [--json]

The training questions of the articles ``eval.train_reader`` held out (never trained on) are asked through
Veille's own ``Assistant`` in reader mode over the PIAF passages, by gold removal (``eval.gold_removal``): half
keeps its gold passage and must be answered citing it, half loses it and must not be asserted. The threshold on
the reader's calibrated probability is the one that maximises the mean of the two rates (ties: the higher). The
« related » threshold (what comes closest is quoted only when a passage speaks of the subject) is the relevance
head's balanced threshold on the held examples of training, kept from ``train_reader``'s figures.
Both modes are asked (the consensus and the reader alone), and the rows kept per reader weights: the gate's two
thresholds (``reading.gate``: the reader's veto under a consensus answer, its bar to answer alone) are chosen on
them the same way. ``--write`` stores them all in ``assistant/answering/reader.json``.
"""
from __future__ import annotations

import argparse
import gzip
import hashlib
import json
import sys

import numpy as np

from assistant.answering.reading import THRESHOLDS_PATH, GateThresholds, gate
from eval.answerability import ask_cases, gold_removal_cases, metrics, refused, scorer_threshold
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


def gate_grid(rows: list[dict]) -> tuple[dict, dict]:
    """The gate's two thresholds (``reading.gate``) that maximise the mean of the two rates on ``rows`` (both
    modes asked for every case): the reader's veto under a consensus answer, and its threshold to answer alone."""
    by_case: dict[str, dict] = {}
    for r in rows:
        by_case.setdefault(r["id"] + ("+" if r["present"] else "-"), {})[r["scorer"]] = r
    consensus_threshold = scorer_threshold("consensus")
    # Per case, once: does the consensus answer, the reader's probability, and which source cites the gold.
    cases = [(not refused(c["consensus"], consensus_threshold),
              0.0 if c["reader"]["forced"] else c["reader"]["confidence"], c["reader"]["present"],
              {"reader": c["reader"]["gold_cited"], "consensus": c["consensus"]["gold_cited"]})
             for c in by_case.values() if {"consensus", "reader"} <= set(c)]
    n_present = sum(present for _, _, present, _ in cases)
    grid = [round(float(x), 2) for x in np.arange(0.0, 1.0, 0.02)] + [1.01]
    best, figures = None, {}
    for veto in grid:
        for alone in (t for t in grid if t >= veto):
            thresholds = GateThresholds(veto, alone)
            cited = refused_absent = 0
            for consensus_answers, probability, present, gold_cited in cases:
                source = gate(consensus_answers, probability, thresholds)
                if present:
                    cited += bool(source) and gold_cited[source]
                else:
                    refused_absent += source is None
            rates = (cited / max(1, n_present), refused_absent / max(1, len(cases) - n_present))
            score = sum(rates) / 2
            if not figures or score > figures["balanced"]:
                best = thresholds
                figures = {"balanced": round(score, 4), "answered_and_cited": round(rates[0], 4),
                           "refused_when_absent": round(rates[1], 4)}
    return {"veto": best.veto, "alone": best.alone}, figures


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m eval.tune_reader", description=__doc__.split("\n\n")[0])
    parser.add_argument("--write", action="store_true")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)
    base = get_settings()
    embedder = CachedEmbedder.of(get_embedder(base, "e5-small"), base)
    bench = held_questions()
    split = split_by_gold(bench)
    cases = gold_removal_cases(bench, split)
    # The rows depend on the reader's weights only (the consensus' models are fixed): kept to choose again.
    digest = hashlib.sha256(READER_PATH.read_bytes()).hexdigest()[:12]
    cached = base.cache_dir / "reader" / f"tune-rows-{digest}.jsonl.gz"
    if cached.exists():
        rows = [json.loads(line) for line in gzip.open(cached, "rt", encoding="utf-8")]
    else:
        store = removal_store(bench_store(bench, base, "e5-small", embedder, True), bench, split, base)
        embedder.save()
        with make_progress("questions") as bar:
            task = bar.add_task(f"PIAF train, articles tenus à part ({len(cases)} questions)", total=len(cases))
            rows = ask_cases(cases, store, embedder, ["consensus", "reader"], lambda: bar.advance(task),
                             gated_reader=False)
        cached.parent.mkdir(parents=True, exist_ok=True)
        with gzip.open(cached, "wt", encoding="utf-8") as f:
            f.writelines(json.dumps(r, ensure_ascii=False) + "\n" for r in rows)
    threshold, figures = best_threshold([r for r in rows if r["scorer"] == "reader"])
    gate_thresholds, gate_figures = gate_grid(rows)
    alone = metrics([r for r in rows if r["scorer"] == "consensus"], scorer_threshold("consensus"))
    meta = read_meta(READER_PATH)
    out = {"threshold": threshold, "related_threshold": float(meta.get("related_threshold", 0.5)),
           "gate": gate_thresholds,
           "chosen_on": f"PIAF train, articles tenus à part ({len(cases)} questions, retrait de l'or)",
           "reader": figures, "gated": gate_figures,
           "consensus": {k: alone[k] for k in ("answered_and_cited", "refused_when_absent")}}
    print(json.dumps(out, ensure_ascii=False, indent=None if args.json else 2))
    if args.write:
        THRESHOLDS_PATH.write_text(json.dumps(out, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
