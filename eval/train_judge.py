"""Train the answer judge (a small cross-encoder) on PIAF's training questions only.

    python -m eval.train_judge [--limit N] [--epochs 2] [--write] [--json]

The judge reads a (question, sentence) pair and gives the probability that the sentence holds the answer. It
is multilingual-e5-small cut to its first ``FROZEN + 1`` layers: the embeddings and the first ``FROZEN``
layers are e5's, untouched (their outputs are computed once per pair and cached, so training runs on this
CPU); only the last layer, started from e5's, and a linear head on its mean-pooled output are trained. Only
those are shipped (``assistant/answerability/judge.npz``, a few MB); ``veille build-model`` joins them to the
packaged e5 weights and exports the whole judge to ONNX.

Pairs come from the records of ``eval.train_answerability`` (every training question asked through Veille's
own assistant with its gold present, its gold passage removed, its whole article removed):
- positive: a candidate sentence of the gold passage holding the answer span;
- negative: the best-scored candidate sentences (the ones the extractive composer would quote) that do not
  hold it, in every condition. A sentence outside the gold that holds the answer's words is left out
  (it may well answer).
The articles are split 80/20: the model is trained on the first part; the number of epochs and the
threshold are chosen on the held part (its records are never trained on), and the figures printed are the
held part's.
"""
from __future__ import annotations

import argparse
import hashlib
import json
import sys
import time
from dataclasses import dataclass

import numpy as np

from assistant.answerability.judge import JUDGE_PATH, judge_candidates
from eval.metrics import fold
from eval.train_answerability import SEED, Example, collect, examples_in_parallel
from veille.config import get_settings
from veille.embeddings import resolve_model_path
from veille.judge import FROZEN_LAYERS, MAX_LENGTH, new_top, pair_inputs, save_top, top_logits
from veille.progress import make_progress

HELD_SHARE = 0.08
NEGATIVES = {"present": 2, "absent": 1, "article_absent": 1}
# Frozen layers cost ~20 ms a pair on this CPU: the questions trained on are a sample of the training half.
TRAIN_QUESTIONS = 3500
LEARNING_RATE = 5e-5


@dataclass
class Pair:
    record: int  # index of the example it comes from
    question: str
    sentence: str
    label: int
    candidate: int  # index among the example's candidates


def held_articles(exs: list[Example], share: float = HELD_SHARE, seed: int = SEED) -> set[str]:
    articles = sorted({e.record["article"] for e in exs})
    order = np.random.RandomState(seed).permutation(articles)
    return set(order[: int(len(order) * share)])


def make_pairs(exs: list[Example], held: set[str], train_questions: int = TRAIN_QUESTIONS) -> list[Pair]:
    """Training pairs from ``train_questions`` questions outside the held articles (drawn at random), and
    every judged candidate of the held articles' records (for the figures)."""
    pool = sorted({e.record["id"] for e in exs if e.record["article"] not in held})
    kept = set(np.random.RandomState(SEED).permutation(pool)[:train_questions])
    out = []
    for i, e in enumerate(exs):
        if e.record["article"] not in held and e.record["id"] not in kept:
            continue
        answer = fold(e.record["answer"] or "")
        condition = e.record["condition"]
        judged = judge_candidates(e.candidates)
        if e.record["article"] in held:  # scored as the assistant will score them
            for c in judged:
                k = e.candidates.index(c)
                out.append(Pair(i, e.record["question"], c.text, e.labels[k], k))
            continue
        positives = [k for k, label in enumerate(e.labels) if label][:1]
        negatives = [e.candidates.index(c) for c in judged
                     if not (answer and answer in fold(c.text))][:NEGATIVES[condition]]
        for k in positives:
            out.append(Pair(i, e.record["question"], e.candidates[k].text, 1, k))
        for k in negatives:
            out.append(Pair(i, e.record["question"], e.candidates[k].text, 0, k))
    return out


def frozen_states(pairs: list[Pair], model_dir, progress: bool) -> list[np.ndarray]:
    """Output of e5's first FROZEN_LAYERS layers for every pair (float16, its own length), cached on disk."""
    import torch
    from transformers import AutoModel, AutoTokenizer

    settings = get_settings()
    key = hashlib.sha256("\n".join(f"{p.question}\t{p.sentence}" for p in pairs).encode()
                         + f"{FROZEN_LAYERS}|{MAX_LENGTH}".encode()).hexdigest()[:12]
    cache = settings.cache_dir / "judge" / f"frozen-{key}.npz"
    if cache.exists():
        data = np.load(cache)
        return np.split(data["states"], data["offsets"][1:-1])
    tokenizer = AutoTokenizer.from_pretrained(str(model_dir))
    model = AutoModel.from_pretrained(str(model_dir), attn_implementation="eager").eval()
    model.encoder.layer = model.encoder.layer[:FROZEN_LAYERS]
    model.config.num_hidden_layers = FROZEN_LAYERS
    order = sorted(range(len(pairs)), key=lambda i: len(pairs[i].question) + len(pairs[i].sentence))
    states: list[np.ndarray | None] = [None] * len(pairs)
    with make_progress("paires", progress) as bar, torch.inference_mode():
        task = bar.add_task(f"Couches figées de e5 ({FROZEN_LAYERS})", total=len(pairs))
        for start in range(0, len(order), 64):
            batch = order[start:start + 64]
            enc = pair_inputs(tokenizer, [pairs[i].question for i in batch], [pairs[i].sentence for i in batch],
                              return_tensors="pt")
            hidden = model(**enc).last_hidden_state.to(torch.float16).numpy()
            for row, i in enumerate(batch):
                n = int(enc["attention_mask"][row].sum())
                states[i] = hidden[row, :n]
            bar.advance(task, len(batch))
    cache.parent.mkdir(parents=True, exist_ok=True)
    lengths = np.array([len(s) for s in states])  # type: ignore[arg-type]
    np.savez(cache, states=np.concatenate(states), offsets=np.concatenate([[0], np.cumsum(lengths)]))  # type: ignore[arg-type]
    return states  # type: ignore[return-value]


def _batches(idx: np.ndarray, states: list[np.ndarray], size: int):
    import torch

    for start in range(0, len(idx), size):
        chosen = idx[start:start + size]
        longest = max(len(states[i]) for i in chosen)
        hidden = np.zeros((len(chosen), longest, states[chosen[0]].shape[1]), dtype=np.float32)
        mask = np.zeros((len(chosen), longest), dtype=np.int64)
        for row, i in enumerate(chosen):
            hidden[row, :len(states[i])] = states[i]
            mask[row, :len(states[i])] = 1
        yield chosen, torch.from_numpy(hidden), torch.from_numpy(mask)


def train(pairs: list[Pair], states: list[np.ndarray], train_idx: np.ndarray, held_idx: np.ndarray, epochs: int,
          model_dir, progress: bool, lr: float = 5e-5) -> tuple[dict, list[np.ndarray], list[float]]:
    """The top layer and head; returns the best epoch's weights, held-out probabilities per epoch and losses."""
    import torch

    torch.manual_seed(SEED)
    top = new_top(model_dir)
    labels = torch.tensor([p.label for p in pairs], dtype=torch.float32)
    positive_share = float(labels[train_idx].mean())
    loss_fn = torch.nn.BCEWithLogitsLoss(pos_weight=torch.tensor((1 - positive_share) / positive_share))
    optimiser = torch.optim.AdamW([{"params": top["layer"].parameters(), "lr": lr},
                                   {"params": top["head"].parameters(), "lr": lr * 10}], weight_decay=0.01)
    steps = epochs * -(-len(train_idx) // 32)
    schedule = torch.optim.lr_scheduler.OneCycleLR(optimiser, max_lr=[lr, lr * 10], total_steps=steps,
                                                   pct_start=0.1)
    rng = np.random.RandomState(SEED)
    held_probs, losses, snapshots = [], [], []
    with make_progress("paires", progress) as bar:
        for epoch in range(epochs):
            top.train()
            task = bar.add_task(f"Entraînement, époque {epoch + 1}/{epochs}", total=len(train_idx))
            total = 0.0
            for chosen, hidden, mask in _batches(rng.permutation(train_idx), states, 32):
                logits = top_logits(top, hidden, mask)
                loss = loss_fn(logits, labels[chosen])
                optimiser.zero_grad()
                loss.backward()
                optimiser.step()
                schedule.step()
                total += loss.item() * len(chosen)
                bar.advance(task, len(chosen))
            losses.append(total / len(train_idx))
            top.eval()
            probs = np.zeros(len(pairs), dtype=np.float32)
            with torch.inference_mode():
                for chosen, hidden, mask in _batches(held_idx, states, 128):
                    probs[chosen] = torch.sigmoid(top_logits(top, hidden, mask)).numpy()
            held_probs.append(probs)
            snapshots.append({k: v.detach().clone() for k, v in top.state_dict().items()})
    return snapshots, held_probs, losses


def question_figures(exs: list[Example], pairs: list[Pair], probs: np.ndarray, held_idx: np.ndarray) -> dict:
    """Per held-out record: the best-judged candidate and its probability (the answerability score)."""
    best: dict[int, tuple[float, int]] = {}
    for i in held_idx:
        p = pairs[i]
        if p.record not in best or probs[i] > best[p.record][0]:
            best[p.record] = (float(probs[i]), p.candidate)
    return {"best": best, "records": sorted({pairs[i].record for i in held_idx})}


def rates_at(exs: list[Example], held_records: list[int], best: dict, threshold: float) -> dict:
    present = [r for r in held_records if exs[r].record["condition"] == "present"]
    absent = [r for r in held_records if exs[r].record["condition"] != "present"]

    def answered(r: int) -> bool:
        return r in best and best[r][0] >= threshold

    right = sum(answered(r) and bool(exs[r].labels[best[r][1]]) for r in present)
    return {"answered_and_cited": round(right / max(1, len(present)), 4),
            "refused_when_absent": round(1 - sum(answered(r) for r in absent) / max(1, len(absent)), 4),
            "present": len(present), "absent": len(absent)}


def choose_threshold(exs, held_records, best) -> float:
    grid = np.round(np.arange(0.05, 0.96, 0.01), 2)
    return float(max(grid, key=lambda t: (sum(rates_at(exs, held_records, best, t)[k]
                                              for k in ("answered_and_cited", "refused_when_absent")),
                                          -abs(t - 0.5))))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m eval.train_judge",
                                     description="Entraîner le juge de réponse (cross-encodeur) sur les questions "
                                                 "d'entraînement de PIAF (../shared/bench/piaf/train.jsonl).")
    parser.add_argument("--limit", type=int, help="au plus N questions d'entraînement (essais)")
    parser.add_argument("--epochs", type=int, default=3, help="époques d'entraînement (défaut : 3)")
    parser.add_argument("--train-questions", type=int, default=TRAIN_QUESTIONS,
                        help=f"questions d'entraînement tirées hors des articles tenus à part (défaut : {TRAIN_QUESTIONS})")
    parser.add_argument("--lr", type=float, default=LEARNING_RATE,
                        help=f"taux d'apprentissage de la couche entraînée, dix fois plus pour la tête (défaut : {LEARNING_RATE})")
    parser.add_argument("--write", action="store_true", help=f"écrire le juge dans {JUDGE_PATH.name}")
    parser.add_argument("--json", action="store_true", help="imprimer le rapport en JSON")
    parser.add_argument("--no-progress", action="store_true", help="sans barre de progression")
    args = parser.parse_args(argv)
    started = time.perf_counter()
    progress = not args.no_progress
    try:
        records, texts = collect(None, progress)  # the cached collection; --limit takes its first questions
    except FileNotFoundError as exc:
        print(f"{exc} Entraînement impossible.", file=sys.stderr)
        return 2
    if args.limit:
        records = records[:3 * args.limit]  # three conditions per question, in order
    model_dir = resolve_model_path("e5-small", get_settings())[0]
    exs = examples_in_parallel(records, texts)
    held = held_articles(exs)
    pairs = make_pairs(exs, held, args.train_questions)
    is_held = np.array([exs[p.record].record["article"] in held for p in pairs])
    train_idx, held_idx = np.flatnonzero(~is_held), np.flatnonzero(is_held)
    print(f"{len(pairs)} paires ({len(train_idx)} d'entraînement, {len(held_idx)} tenues à part), "
          f"{sum(pairs[i].label for i in train_idx)} positives à l'entraînement", file=sys.stderr)
    states = frozen_states(pairs, model_dir, progress)
    snapshots, held_probs, losses = train(pairs, states, train_idx, held_idx, args.epochs, model_dir, progress, args.lr)
    from sklearn.metrics import roc_auc_score

    report: dict = {"lr": args.lr, "pairs": len(pairs), "train_pairs": int(len(train_idx)), "held_pairs": int(len(held_idx)),
                    "held_articles": len(held), "frozen_layers": FROZEN_LAYERS, "max_length": MAX_LENGTH,
                    "losses": [round(x, 4) for x in losses], "epochs": []}
    held_labels = np.array([pairs[i].label for i in held_idx])
    for epoch, probs in enumerate(held_probs):
        best = question_figures(exs, pairs, probs, held_idx)
        threshold = choose_threshold(exs, best["records"], best["best"])
        report["epochs"].append({"epoch": epoch + 1, "pair_auc": round(float(roc_auc_score(held_labels, probs[held_idx])), 4),
                                 "threshold": threshold,
                                 **rates_at(exs, best["records"], best["best"], threshold)})
    chosen = max(range(len(held_probs)), key=lambda k: (report["epochs"][k]["answered_and_cited"]
                                                         + report["epochs"][k]["refused_when_absent"]))
    report.update(chosen_epoch=chosen + 1, threshold=report["epochs"][chosen]["threshold"],
                  held_out=report["epochs"][chosen], seconds=round(time.perf_counter() - started, 1))
    best = question_figures(exs, pairs, held_probs[chosen], held_idx)["best"]
    by_kind = {}
    for kind in ("absent", "article_absent"):
        rs = [r for r in best if exs[r].record["condition"] == kind]
        by_kind[kind] = round(1 - sum(best[r][0] >= report["threshold"] for r in rs) / max(1, len(rs)), 4)
    report["held_out_refused_by_kind"] = by_kind
    # Sentence choice: among held-out present questions with an answering candidate judged, is the best one?
    ok = [bool(exs[r].labels[best[r][1]]) for r in best if exs[r].record["condition"] == "present"
          and any(exs[r].labels[pairs[i].candidate] for i in held_idx if pairs[i].record == r)]
    report["held_out_top1_sentence"] = round(float(np.mean(ok)), 4) if ok else None
    if args.write:
        save_top(snapshots[chosen], JUDGE_PATH, {"threshold": report["threshold"], "report": report})
        print(f"Juge écrit dans {JUDGE_PATH}", file=sys.stderr)
    print(json.dumps(report, ensure_ascii=False, indent=None if args.json else 1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
