"""Train the learned answerability scorer on PIAF's training questions only.

    python -m eval.train_answerability [--limit N] [--folds 5] [--write] [--json]

Reads nothing but ``../shared/bench/piaf/train.jsonl`` (6,648 questions, answer span, gold passage) and
the PIAF passages. Every training question is asked through Veille's own ``Assistant`` twice (extractive
path, the query vector shared):
- over the whole PIAF store: the gold is present; the sentence of the gold passage holding the answer is
  the positive sentence, every other retrieved sentence a hard negative;
- over a store without its gold: the training questions are split in two halves by gold passage
  (``eval.gold_removal.split_by_gold``) and each half is asked over the store that lost its gold, the
  same construction as the benchmark's.
A recording policy plugged into the assistant keeps what the learned models read (passages, branch
scores, idf of the question's terms); the collection is cached, so refitting takes seconds. Settings are chosen by cross-validation grouped by Wikipedia article (a question never shares
its article with the questions it is scored against), and the threshold on the out-of-fold
probabilities. ``--write`` stores the weights in ``assistant/answerability/model.json``.
"""
from __future__ import annotations

import argparse
import gzip
import hashlib
import json
import multiprocessing
import sys
import time
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass

import numpy as np

from assistant.answerability import GATES, MODEL_PATH, LearnedEvidence, LearnedModels, Selection
from assistant.answerability.features import (
    QUESTION_FEATURES,
    SENTENCE_FEATURES,
    question_row,
    scores_of,
    sentence_rows,
)
from assistant.answerability.model import fitted
from assistant.answering.compose import Draft, select_sentences, sentence_candidates
from assistant.answerability.policy import Decision
from assistant.search.retrieve import Retrieval, node_from_row
from assistant.service import Assistant
from eval.answerability import SharedQueries
from eval.datasets import Bench, load_bench, load_training_questions
from eval.gold_removal import GoldSplit, removal_store, split_by_gold
from eval.metrics import fold
from eval.stores import CachedEmbedder, bench_store
from veille.config import get_settings
from veille.embeddings import get_embedder
from veille.passage import ScoredPassage
from veille.progress import make_progress
from veille.store import Store
from veille.text import tokens

SEED = 42


class RecordingPolicy:
    """A refusal policy that answers nothing and keeps what it was shown."""

    def __init__(self) -> None:
        self.last: dict | None = None

    def decide(self, draft: Draft, retrieval: Retrieval) -> Decision:
        self.last = {"passages": [[p.node.node_id, round(float(p.score or 0.0), 6)] for p in retrieval.passages],
                     "dense_top": round(float(retrieval.dense_top), 6),
                     "dense": {n.node.node_id: round(float(n.score), 6) for n in retrieval.dense},
                     "lexical": {n.node.node_id: round(float(n.score), 6) for n in retrieval.lexical},
                     "idf": {t: round(draft.stats(t), 6) for t in set(tokens(draft.question))}}
        return Decision(False, 0.0, LearnedEvidence(), forced=True)


def _swap(split, bench: Bench):
    """The other half's gold removed instead."""
    removed = frozenset().union(*[bench.gold_passages(q) for q in split.present])
    return GoldSplit(split.absent, split.present, removed, removed)


def article_of(passage_id: str) -> str:
    """« piaf-a012-p03 » -> « piaf-a012 »: the Wikipedia article a PIAF passage comes from."""
    return passage_id.rsplit("-", 1)[0]


def article_split(bench: Bench, seed: int = SEED) -> tuple[GoldSplit, GoldSplit]:
    """Two stores that each lack every passage of half the articles: a question asked over the store
    without its article meets a corpus that does not speak of its subject at all (the other negatives,
    gold-passage removal, keep the article's other passages: same subject, answer gone)."""
    articles = sorted({article_of(p.id) for p in bench.passages})
    order = np.random.RandomState(seed).permutation(articles)
    halves = (set(order[: len(order) // 2]), set(order[len(order) // 2:]))
    return tuple(GoldSplit([], [], frozenset(h), frozenset(p.id for p in bench.passages if article_of(p.id) in h))
                 for h in halves)  # type: ignore[return-value]


NO_RECORD = {"passages": [], "dense_top": 0.0, "dense": {}, "lexical": {}, "idf": {}}


def collect(limit: int | None, progress: bool = True) -> tuple[list[dict], dict[str, dict]]:
    """Records of every training question asked with its gold present, with its gold passage removed, and
    with its whole article removed (cached)."""
    base = get_settings()
    embedder = get_embedder(base, "e5-small")
    piaf = load_bench("piaf", full=True)
    train = load_training_questions()
    bench = Bench("piaf", piaf.passages, train, "passage", piaf.origin)
    full = bench_store(bench, base, "e5-small", CachedEmbedder.of(embedder, base),
                       progress)
    split = split_by_gold(bench)
    by_article = article_split(bench)
    stores = {"A": removal_store(full, bench, _swap(split, bench), base),  # half A's gold removed
              "B": removal_store(full, bench, split, base),
              "articles-0": removal_store(full, bench, by_article[0], base),
              "articles-1": removal_store(full, bench, by_article[1], base)}
    half = {q.id: "A" for q in split.present} | {q.id: "B" for q in split.absent}
    questions = train[:limit] if limit else train
    key = hashlib.sha256(f"{full.settings.home.name}|{len(questions)}|{split.fingerprint()}|"
                         f"{by_article[0].fingerprint()}".encode()).hexdigest()[:10]
    cache = base.cache_dir / "answerability" / f"train-{key}.jsonl.gz"
    texts = _chunk_texts(Store(full.settings))
    if cache.exists():
        with gzip.open(cache, "rt", encoding="utf-8") as fh:
            return [json.loads(line) for line in fh], texts
    shared = SharedQueries(embedder)
    recorder = RecordingPolicy()
    assistants = {name: Assistant(info.settings.with_(answerability="rules"), embedder=shared, policy=recorder)
                  for name, info in (("present", full), *stores.items())}
    keys_of_doc = full.passages_of_doc
    records = []
    with make_progress("questions", progress) as bar:
        task = bar.add_task("PIAF entraînement (présent, passage retiré, article retiré)", total=len(questions))
        for q in questions:
            article = article_of(q.gold_ids[0])
            without_article = "articles-0" if article in by_article[0].removed_units else "articles-1"
            for condition, name in (("present", "present"), ("absent", half[q.id]), ("article_absent", without_article)):
                recorder.last = None
                assistants[name].ask(q.question)
                rec = recorder.last or dict(NO_RECORD)
                for p in rec["passages"]:
                    p.append(keys_of_doc.get(texts[p[0]]["doc_id"], []))
                records.append({"id": q.id, "question": q.question, "answer": q.answer, "gold": q.gold_ids,
                                "article": article, "condition": condition, **rec})
            bar.advance(task)
    cache.parent.mkdir(parents=True, exist_ok=True)
    with gzip.open(cache, "wt", encoding="utf-8") as fh:
        for rec in records:
            fh.write(json.dumps(rec, ensure_ascii=False) + "\n")
    return records, texts


def _chunk_texts(store) -> dict[str, dict]:
    return {r["chunk_id"]: dict(r) for r in store.all_chunk_rows()}


# --- rows -----------------------------------------------------------------------------------------

@dataclass
class Example:
    record: dict
    candidates: list
    passages: list
    rows: list[list[float]]
    labels: list[int]  # per candidate: 1 = in the gold passage and holds the answer
    gold_passage: list[bool]  # per candidate: in the gold passage
    terms: object
    retrieved: object


def examples(records: list[dict], texts: dict[str, dict], similarity=None) -> list[Example]:
    """Feature rows of every record; ``similarity(question, sentences) -> cosines`` when the models read
    the semantic match of each sentence."""
    out = []
    for rec in records:
        passages = [ScoredPassage(node=node_from_row(texts[cid]), score=score) for cid, score, _ in rec["passages"]]
        idf_values = rec["idf"]
        ceiling = max(idf_values.values(), default=1.0)

        def idf(term: str, values=idf_values, ceiling=ceiling) -> float:
            return values.get(term, ceiling)

        candidates = sentence_candidates(rec["question"], passages, idf)
        retrieved = scores_of(passages, rec["dense"], rec["lexical"], rec["dense_top"])
        sims = similarity(rec["question"], [c.text for c in candidates]) if similarity and candidates else None
        rows, terms = sentence_rows(rec["question"], passages, candidates, idf, retrieved, sims)
        gold = set(rec["gold"])
        in_gold = [bool(set(rec["passages"][c.passage][2]) & gold) for c in candidates]
        answer = fold(rec["answer"])
        labels = [int(g and bool(answer) and answer in fold(c.text)) for c, g in zip(candidates, in_gold)]
        out.append(Example(rec, candidates, passages, rows, labels, in_gold, terms, retrieved))
    return out


def examples_in_parallel(records: list[dict], texts: dict[str, dict], workers: int = 2) -> list[Example]:
    """``examples`` over ``workers`` processes (pure Python sentence analysis: one core each), in order."""
    if workers <= 1 or len(records) < 1000:
        return examples(records, texts)
    size = -(-len(records) // workers)
    parts = [records[i:i + size] for i in range(0, len(records), size)]
    with ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("fork")) as pool:
        return [e for part in pool.map(examples, parts, [texts] * len(parts)) for e in part]


def _fit_lr(X, y, C: float, balanced: bool = False):
    from sklearn.linear_model import LogisticRegression
    from sklearn.preprocessing import StandardScaler

    scaler = StandardScaler().fit(X)
    model = LogisticRegression(C=C, max_iter=2000, class_weight="balanced" if balanced else None)
    model.fit(scaler.transform(X), y)
    return scaler, model


def _logits(scaler, model, X) -> np.ndarray:
    return model.decision_function(scaler.transform(X)) if len(X) else np.zeros(0)


def sentence_folds(exs: list[Example], folds: int, C: float) -> list[np.ndarray]:
    """Out-of-fold sentence logits for every example (folds grouped by article)."""
    fold_of = fold_of_articles(exs, folds)
    logits: list[np.ndarray | None] = [None] * len(exs)
    for k in range(folds):
        train = [e for e in exs if fold_of[e.record["article"]] != k and e.record["condition"] == "present"
                 and any(e.labels)]
        X = np.array([r for e in train for r in e.rows])
        y = np.array([lb for e in train for lb in e.labels])
        scaler, model = _fit_lr(X, y, C)
        for i, e in enumerate(exs):
            if fold_of[e.record["article"]] == k:
                logits[i] = _logits(scaler, model, np.array(e.rows)) if e.rows else np.zeros(0)
    return logits  # type: ignore[return-value]


def fold_of_articles(exs: list[Example], folds: int) -> dict[str, int]:
    articles = sorted({e.record["article"] for e in exs})
    return {a: i % folds for i, a in enumerate(np.random.RandomState(SEED).permutation(articles))}


def top1_accuracy(exs: list[Example], logits: list[np.ndarray]) -> dict:
    """Among present questions with an answering sentence retrieved: is the top-scored sentence one?"""
    hits, base_hits, current_hits, n = 0, 0, 0, 0
    for e, lg in zip(exs, logits):
        if e.record["condition"] != "present" or not any(e.labels):
            continue
        n += 1
        hits += e.labels[int(np.argmax(lg))]
        base_hits += e.labels[int(np.argmax([c.score for c in e.candidates]))]
        first = select_sentences(e.candidates)[0]  # today's answer opens with this sentence
        current_hits += e.labels[e.candidates.index(first)]
    return {"questions": n, "learned": round(hits / n, 4) if n else None,
            "lexical_score": round(base_hits / n, 4) if n else None,
            "current_first_sentence": round(current_hits / n, 4) if n else None}


def question_rows(exs: list[Example], logits: list[np.ndarray], scorer) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Answerability rows (with the given sentence logits), labels (1 = the answer cites the gold) and
    whether the gold was present."""
    rows, labels, present = [], [], []
    for e, lg in zip(exs, logits):
        if not e.candidates:
            continue  # refused before any model: nothing to quote
        chosen = scorer.choose(e.candidates, lg)
        best = e.candidates.index(chosen[0])
        rows.append(question_row(e.record["question"], e.passages, chosen, e.rows, list(lg), best, e.terms, e.retrieved))
        cites_gold = any(e.gold_passage[e.candidates.index(c)] for c in chosen)
        labels.append(int(e.record["condition"] == "present" and cites_gold))
        present.append(e.record["condition"] == "present")
    return np.array(rows), np.array(labels), np.array(present)


def rates(prob: np.ndarray, correct: np.ndarray, present: np.ndarray, threshold: float, n_present: int,
          n_absent: int) -> dict:
    """The benchmark's figures at a threshold (questions refused before the model count as refused)."""
    answered = prob >= threshold
    return {"answered_and_cited": round(float((answered & correct.astype(bool)).sum() / max(1, n_present)), 4),
            "refused_when_absent": round(float(1 - (answered & ~present).sum() / max(1, n_absent)), 4),
            "high_confidence_correct": round(float(correct[prob >= 0.8].mean()), 4) if (prob >= 0.8).any() else None,
            "high_confidence_answers": int((prob >= 0.8).sum())}


def choose_threshold(prob, correct, present, n_present, n_absent) -> float:
    """The threshold maximising answered-and-cited (present) + refused (absent), on out-of-fold scores."""
    candidates = np.unique(np.round(prob, 3))
    best = max(candidates, key=lambda t: (sum(rates(prob, correct, present, t, n_present, n_absent)[k]
                                              for k in ("answered_and_cited", "refused_when_absent")), -abs(t - 0.5)))
    return float(best)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m eval.train_answerability",
                                     description="Entraîner le modèle de réponse appris sur les questions "
                                                 "d'entraînement de PIAF (../shared/bench/piaf/train.jsonl).")
    parser.add_argument("--limit", type=int, help="au plus N questions d'entraînement (essais)")
    parser.add_argument("--folds", type=int, default=5, help="validation croisée par article (défaut : 5)")
    parser.add_argument("--write", action="store_true", help="écrire le modèle dans assistant/answerability/model.json")
    parser.add_argument("--json", action="store_true", help="imprimer le rapport en JSON")
    parser.add_argument("--no-progress", action="store_true", help="sans barre de progression")
    args = parser.parse_args(argv)
    started = time.perf_counter()
    try:
        records, texts = collect(args.limit, not args.no_progress)
    except FileNotFoundError as exc:
        print(f"{exc} Entraînement impossible.", file=sys.stderr)
        return 2
    exs = examples_in_parallel(records, texts)
    scorer, report = fit_models(exs, args.folds)
    report["seconds"] = round(time.perf_counter() - started, 1)
    if args.write:
        data = scorer.as_dict(report)
        MODEL_PATH.write_text(json.dumps(data, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
        print(f"Modèle écrit dans {MODEL_PATH}", file=sys.stderr)
    if args.json:
        print(json.dumps(report, ensure_ascii=False))
    else:
        _print_report(report, scorer)
    return 0


def _subsets(names: tuple[str, ...]) -> list[tuple[str, ...]]:
    return [tuple(n for i, n in enumerate(names) if mask >> i & 1) for mask in range(2 ** len(names))]


def fit_models(exs: list[Example], folds: int):
    """Both models, their settings chosen by cross-validation grouped by article; (scorer, report)."""
    from sklearn.metrics import roc_auc_score

    n_present = sum(e.record["condition"] == "present" for e in exs)
    n_absent = len(exs) - n_present
    report: dict = {"questions": n_present, "records": len(exs), "folds": folds}
    # 1. Sentence model: C by grouped cross-validation (top-1 accuracy).
    by_c = {}
    for C in (0.1, 1.0, 10.0):
        by_c[C] = (sentence_folds(exs, folds, C), None)
        report.setdefault("sentence_top1_by_C", {})[str(C)] = top1_accuracy(exs, by_c[C][0])["learned"]
    C_s = max(by_c, key=lambda c: report["sentence_top1_by_C"][str(c)])
    oof = by_c[C_s][0]
    report["sentence_C"] = C_s
    report["sentence_top1"] = top1_accuracy(exs, oof)
    # 2. Question model on rows built with out-of-fold sentence logits (what unseen questions look like).
    probe = LearnedModels(None, None, 0.5, Selection())  # type: ignore[arg-type]
    Xq, yq, present = question_rows(exs, oof, probe)
    fold_of = fold_of_articles(exs, folds)
    groups = np.array([fold_of[e.record["article"]] for e in exs if e.candidates])
    by_cq = {}
    for C in (0.1, 1.0, 10.0):
        prob = np.zeros(len(yq))
        for k in range(folds):
            scaler, model = _fit_lr(Xq[groups != k], yq[groups != k], C)
            prob[groups == k] = model.predict_proba(scaler.transform(Xq[groups == k]))[:, 1]
        by_cq[C] = prob
        report.setdefault("question_auc_by_C", {})[str(C)] = round(float(roc_auc_score(yq, prob)), 4)
    C_q = max(by_cq, key=lambda c: report["question_auc_by_C"][str(c)])
    # 3. Gates (refusals before the question model): each subset of GATES, kept when it raises the objective
    # of the threshold (answered-and-cited + refused-when-absent) on the out-of-fold probabilities.
    by_gates = {}
    for gates in _subsets(tuple(GATES)):
        gated = LearnedModels(None, None, 0.5, Selection(), gates)  # type: ignore[arg-type]
        prob = by_cq[C_q] * np.array([0.0 if gated.gated(list(row)) else 1.0 for row in Xq])
        threshold = choose_threshold(prob, yq, present, n_present, n_absent)
        figures = rates(prob, yq, present, threshold, n_present, n_absent)
        by_gates[gates] = (prob, threshold, figures)
        report.setdefault("gates_tried", {})["+".join(gates) or "aucune"] = figures
    gates = max(by_gates, key=lambda g: (by_gates[g][2]["answered_and_cited"] + by_gates[g][2]["refused_when_absent"],
                                         -len(g)))
    prob, threshold, _ = by_gates[gates]
    conditions = np.array([e.record["condition"] for e in exs if e.candidates])
    for kind in ("absent", "article_absent"):
        total = sum(e.record["condition"] == kind for e in exs)  # those without candidates are refused
        answered = int(((prob >= threshold) & (conditions == kind)).sum())
        report.setdefault("refused_by_kind", {})[kind] = round(1 - answered / max(1, total), 4)
    report.update(question_C=C_q, threshold=threshold, gates=list(gates),
                  out_of_fold=rates(prob, yq, present, threshold, n_present, n_absent),
                  auc_present=round(float(roc_auc_score(present, prob)), 4),
                  auc_correct=round(float(roc_auc_score(yq, prob)), 4))
    # 4. Final models on every training question.
    train = [e for e in exs if e.record["condition"] == "present" and any(e.labels)]
    s_scaler, s_model = _fit_lr(np.array([r for e in train for r in e.rows]),
                                np.array([lb for e in train for lb in e.labels]), C_s)
    q_scaler, q_model = _fit_lr(Xq, yq, C_q)
    scorer = LearnedModels(fitted(SENTENCE_FEATURES, s_scaler, s_model), fitted(QUESTION_FEATURES, q_scaler, q_model),
                           threshold, Selection(), gates)
    return scorer, report


def _print_report(report: dict, scorer) -> None:
    oof = report["out_of_fold"]
    print(f"Questions d'entraînement : {report['questions']} (chacune avec et sans sa référence)")
    top1 = report["sentence_top1"]
    print(f"Phrase qui répond en tête (validation croisée par article, {top1['questions']} questions) : "
          f"appris {top1['learned']:.3f} · score lexical {top1['lexical_score']:.3f} · "
          f"1re phrase de la réponse actuelle {top1['current_first_sentence']:.3f}")
    print(f"Réponse : AUC présent/absent {report['auc_present']:.3f}, AUC juste {report['auc_correct']:.3f}, "
          f"seuil {report['threshold']:.3f} → répondu et cité {oof['answered_and_cited']:.3f}, "
          f"refusé si absent {oof['refused_when_absent']:.3f}, justes si confiance ≥ 0,8 : "
          f"{oof['high_confidence_correct']} ({oof['high_confidence_answers']} réponses)")
    kinds = report.get("refused_by_kind", {})
    print(f"Refusé si absent, par construction : passage retiré {kinds.get('absent')}, "
          f"article entier retiré {kinds.get('article_absent')}")
    for name, figures in report.get("gates_tried", {}).items():
        print(f"  règles de refus {name:32s} répondu et cité {figures['answered_and_cited']:.3f}, "
              f"refusé si absent {figures['refused_when_absent']:.3f}")
    print(f"Règles de refus retenues : {', '.join(report.get('gates', [])) or 'aucune'}")
    for name, w in zip(QUESTION_FEATURES, scorer.question.weights):
        print(f"  {name:28s} {w:+.3f}")


if __name__ == "__main__":
    raise SystemExit(main())
