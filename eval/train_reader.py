"""Train the reader (``veille/reader.py``) on PIAF's training questions only.

    python -m eval.train_reader [--limit 200] [--epochs 1] [--resume] [--device auto|cpu|cuda] [--write]

Examples, built once and cached (``<home>/cache/reader/``), from ``../shared/bench/piaf/train.jsonl`` and the
PIAF passages, articles split 90/10 (the held tenth chooses nothing but the calibration and is never trained on):
- ``answer``: the question and the window of its gold passage that holds the answer span;
- ``window``: another window of the gold passage (the subject, not the answer);
- ``neighbour``: another passage of the same article (the subject, not the answer);
- ``swapped``: the question with its year or a proper name swapped for one the gold passage lacks, paired
  with the gold passage (the subject, and a question it does not answer: « président » asked, none named);
- ``retrieved``: the passage of another article that Veille's embedder ranks first for the question
  (neither subject nor answer, but close in meaning).
Each question gives its ``answer`` example and two negatives, the kinds taken in turn.

Training is long on a CPU (about an hour for one epoch at 6 layers): a checkpoint every ``--checkpoint-minutes``
(10) beside the cache, ``--resume`` goes on from it, ``--limit`` makes a smoke run. The end of training reads the
held articles, fits a Platt scaling of both heads there, and ``--write`` stores the trained layers and heads as
float16 in ``assistant/answering/reader.npz`` with that calibration and the held figures.
"""
from __future__ import annotations

import argparse
import gzip
import hashlib
import json
import random
import re
import sys
import time
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

from eval.datasets import load_bench, load_training_questions
from veille.config import get_settings
from veille.embeddings import get_embedder, resolve_model_path
from veille.model_build import pad
from veille.reader import LAYERS, MAX_LENGTH, READER_PATH, best_span, make_windows, new_net, save_weights

SEED = 42
HELD_SHARE = 0.10
NEGATIVE_KINDS = ("swapped", "retrieved", "neighbour", "window")
NEGATIVES = 2  # negatives per training question, the kinds taken in turn
DATA_FORMAT = 2


@dataclass
class Example:
    question: str
    text: str
    article: str
    kind: str  # answer, window, neighbour, swapped, retrieved
    answer_start: int = -1  # character offset of the answer in ``text`` (answer examples only)
    answer: str = ""
    window: int = 0  # which window of ``text`` to read

    @property
    def answers(self) -> int:
        return int(self.kind == "answer")

    @property
    def relevant(self) -> int:
        return int(self.kind != "retrieved")


YEAR = re.compile(r"\b(1[0-9]{3}|20[0-9]{2})\b")
PROPER = re.compile(r"(?<![.?!]\s)(?<!^)\b([A-ZÀ-Ý][a-zà-ÿ'’-]{2,}(?:\s+[A-ZÀ-Ý][a-zà-ÿ'’-]{2,})*)")


def swapped_question(question: str, passage: str, names: list[str], rng: random.Random) -> str | None:
    """``question`` asking for something ``passage`` lacks: a year moved, or a proper name of the question
    that the passage holds replaced by another question's name that the passage does not hold."""
    years = [m for m in YEAR.finditer(question) if m.group(1) in passage]
    if years and rng.random() < 0.5:
        m = rng.choice(years)
        present = set(YEAR.findall(passage))
        for _ in range(20):
            year = str(int(m.group(1)) + rng.choice([-1, 1]) * rng.randint(2, 40))
            if year not in present:
                return question[:m.start()] + year + question[m.end():]
    proper = [m for m in PROPER.finditer(question) if m.group(1) in passage]
    if not proper:
        return None
    m = rng.choice(proper)
    for _ in range(20):
        other = rng.choice(names)
        if other not in passage and other.lower() not in question.lower():
            return question[:m.start()] + other + question[m.end():]
    return None


def build_examples(limit: int | None, progress: bool = True) -> tuple[list[Example], list[Example]]:
    """(training examples, held examples), cached by content."""
    settings = get_settings()
    piaf = load_bench("piaf", full=True)
    questions = load_training_questions()
    if limit:
        questions = questions[:limit]
    key = hashlib.sha256(f"{DATA_FORMAT}\n{SEED}\n{limit}\n{len(piaf.passages)}\n{len(questions)}".encode()
                         ).hexdigest()[:12]
    cache = settings.cache_dir / "reader" / f"data-{key}.jsonl.gz"
    if cache.exists():
        rows = [json.loads(line) for line in gzip.open(cache, "rt", encoding="utf-8")]
        return ([Example(**r["example"]) for r in rows if not r["held"]],
                [Example(**r["example"]) for r in rows if r["held"]])
    by_id = {p.id: p for p in piaf.passages}
    article_of = {p.id: p.id.rsplit("-p", 1)[0] for p in piaf.passages}
    passages_of: dict[str, list[str]] = {}
    for pid, art in article_of.items():
        passages_of.setdefault(art, []).append(pid)
    articles = sorted(passages_of)
    held = set(np.random.RandomState(SEED).permutation(articles)[: int(len(articles) * HELD_SHARE)])

    # Veille's own embedder ranks the passages for each question: the first one of another article is the
    # « retrieved » negative.
    embedder = get_embedder(settings, "e5-small")
    ids = [p.id for p in piaf.passages]
    t0 = time.time()
    say(f"Vecteurs de {len(ids)} passages et {len(questions)} questions…", progress)
    vectors = embedder.embed_passages([by_id[i].text for i in ids])
    qvectors = embedder.embed_queries([q.question for q in questions])
    say(f"  faits en {time.time() - t0:.0f} s", progress)
    ranking = np.argsort(-(qvectors @ vectors.T), axis=1)[:, :20]

    rng = random.Random(SEED)
    names = sorted({m.group(1) for q in questions for m in PROPER.finditer(q.question)})
    rows, turn = [], 0
    from transformers import AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(str(resolve_model_path("e5-small", settings)[0])).backend_tokenizer
    for qi, q in enumerate(questions):
        gold = q.gold_ids[0] if q.gold_ids else None
        if gold not in by_id or q.answer_start < 0:
            continue
        text, art = by_id[gold].text, article_of[gold]
        if text[q.answer_start:q.answer_start + len(q.answer)] != q.answer:
            continue
        is_held = art in held
        windows = make_windows(tokenizer, q.question, text)
        holding = [k for k, w in enumerate(windows) if w.offsets[0][0] <= q.answer_start
                   and q.answer_start + len(q.answer) <= w.offsets[-1][1]]
        if not holding:
            continue
        rows.append((is_held, Example(q.question, text, art, "answer", q.answer_start, q.answer, holding[0])))
        negatives = {}
        others = [k for k in range(len(windows)) if k not in holding]
        if others:
            negatives["window"] = Example(q.question, text, art, "window", window=rng.choice(others))
        neighbours = [p for p in passages_of[art] if p != gold]
        if neighbours:
            negatives["neighbour"] = Example(q.question, by_id[rng.choice(neighbours)].text, art, "neighbour")
        swapped = swapped_question(q.question, text, names, rng)
        if swapped:
            negatives["swapped"] = Example(swapped, text, art, "swapped", window=holding[0])
        retrieved = next((ids[k] for k in ranking[qi] if article_of[ids[k]] != art), None)
        if retrieved:
            negatives["retrieved"] = Example(q.question, by_id[retrieved].text, art, "retrieved")
        if is_held:  # every kind, for the figures and the calibration
            rows.extend((True, e) for e in negatives.values())
            continue
        taken = 0
        for _ in range(len(NEGATIVE_KINDS)):
            kind = NEGATIVE_KINDS[turn % len(NEGATIVE_KINDS)]
            turn += 1
            if kind in negatives and taken < NEGATIVES:
                rows.append((False, negatives[kind]))
                taken += 1
    cache.parent.mkdir(parents=True, exist_ok=True)
    with gzip.open(cache, "wt", encoding="utf-8") as fh:
        for is_held, e in rows:
            fh.write(json.dumps({"held": is_held, "example": asdict(e)}, ensure_ascii=False) + "\n")
    return [e for h, e in rows if not h], [e for h, e in rows if h]


def say(message: str, enabled: bool = True) -> None:
    if enabled:
        print(message, file=sys.stderr, flush=True)


def encode_batch(tokenizer, batch: list[Example]):
    """Ids, mask and targets of a batch: the answer's token start/end in its window (0, the first token,
    when the window does not answer), and the two head labels."""
    import torch

    windows, starts, ends = [], [], []
    for e in batch:
        all_windows = make_windows(tokenizer, e.question, e.text)
        w = all_windows[min(e.window, len(all_windows) - 1)]
        windows.append(w)
        s = t = 0
        if e.kind == "answer":
            a, b = e.answer_start, e.answer_start + len(e.answer)
            inside = [k for k, (x, y) in enumerate(w.offsets) if y > a and x < b]
            if inside:
                s, t = w.first + inside[0], w.first + inside[-1]
        starts.append(s)
        ends.append(t)
    ids, mask = pad([w.ids for w in windows], int(tokenizer.token_to_id("<pad>")))
    return (torch.from_numpy(ids), torch.from_numpy(mask), torch.tensor(starts), torch.tensor(ends),
            torch.tensor([[e.answers, e.relevant] for e in batch], dtype=torch.float32))


def loss_of(out, mask, starts, ends, labels):
    import torch.nn.functional as F

    span_mask = (mask == 0)
    start_logits = out[:, :, 0].masked_fill(span_mask, -1e4)
    end_logits = out[:, :, 1].masked_fill(span_mask, -1e4)
    heads = out[:, 0, 2:]
    # The span is learned on answering windows only: with two negatives per answer, a « none » target on the
    # first token drew every span to it (tried first: spans right 3 %).
    answering = labels[:, 0] > 0.5
    span = ((F.cross_entropy(start_logits[answering], starts[answering])
             + F.cross_entropy(end_logits[answering], ends[answering])) / 2 if answering.any()
            else out.sum() * 0.0)
    return span + F.binary_cross_entropy_with_logits(heads, labels) * 2


def checkpoint_path(limit: int | None) -> Path:
    return get_settings().cache_dir / "reader" / f"checkpoint-{limit or 'all'}.pt"


def train(args) -> int:
    import torch
    from transformers import AutoTokenizer

    torch.manual_seed(SEED)
    device = ("cuda" if torch.cuda.is_available() else "cpu") if args.device == "auto" else args.device
    if device == "cpu":
        torch.set_num_threads(args.threads)
    settings = get_settings()
    model_dir = resolve_model_path("e5-small", settings)[0]
    tokenizer = AutoTokenizer.from_pretrained(str(model_dir)).backend_tokenizer
    train_set, held_set = build_examples(args.limit, progress=True)
    counts = {k: sum(e.kind == k for e in train_set) for k in ("answer", *NEGATIVE_KINDS)}
    say(f"Exemples : {len(train_set)} d'entraînement {counts}, {len(held_set)} tenus à part.")
    net = new_net(model_dir, args.layers).to(device)
    params = [p for p in net.parameters() if p.requires_grad]
    heads = [p for name, p in net.named_parameters() if p.requires_grad and not name.startswith("encoder.")]
    layers = [p for name, p in net.named_parameters() if p.requires_grad and name.startswith("encoder.")]
    # Fresh heads learn faster than pretrained layers should move.
    optimizer = torch.optim.AdamW([{"params": layers, "lr": args.lr}, {"params": heads, "lr": args.lr * 20}],
                                  weight_decay=0.01)
    steps_per_epoch = -(-len(train_set) // args.batch)
    total = steps_per_epoch * args.epochs
    if args.max_steps:  # a shorter run over a random part of the examples (the order is a permutation)
        total = min(total, args.max_steps)
    warmup = max(1, total // 20)
    scheduler = torch.optim.lr_scheduler.LambdaLR(
        optimizer, lambda s: min((s + 1) / warmup, max(0.0, (total - s) / max(1, total - warmup))))
    step, ckpt = 0, checkpoint_path(args.limit)
    if args.resume and ckpt.exists():
        state = torch.load(ckpt, map_location=device, weights_only=False)
        net.load_state_dict(state["net"])
        optimizer.load_state_dict(state["optimizer"])
        scheduler.load_state_dict(state["scheduler"])
        step = int(state["step"])
        say(f"Reprise au pas {step}/{total} ({ckpt}).")
    if args.finish:  # evaluate and write what the last checkpoint holds
        step = total
    orders = [np.random.RandomState(SEED + epoch).permutation(len(train_set)) for epoch in range(args.epochs)]
    net.train()
    started, last_ckpt, seen_loss = time.time(), time.time(), []
    first_step = step
    while step < total:
        epoch, k = divmod(step, steps_per_epoch)
        batch = [train_set[i] for i in orders[epoch][k * args.batch:(k + 1) * args.batch]]
        ids, mask, starts, ends, labels = (t.to(device) for t in encode_batch(tokenizer, batch))
        loss = loss_of(net(ids, mask), mask, starts, ends, labels)
        optimizer.zero_grad()
        loss.backward()
        torch.nn.utils.clip_grad_norm_(params, 1.0)
        optimizer.step()
        scheduler.step()
        step += 1
        seen_loss.append(loss.item())
        if step % 10 == 0 or step == total:
            rate = (time.time() - started) / (step - first_step)
            say(f"pas {step}/{total} · perte {np.mean(seen_loss[-50:]):.3f} · {rate:.1f} s/pas · "
                f"reste {(total - step) * rate / 60:.0f} min")
        if time.time() - last_ckpt > args.checkpoint_minutes * 60 or step == total:
            save_checkpoint(ckpt, net, optimizer, scheduler, step)
            last_ckpt = time.time()
    net.eval()
    figures = evaluate(net, tokenizer, held_set, device, args.batch)
    meta = {"layers": args.layers, "lr": args.lr, "batch": args.batch, "max_length": MAX_LENGTH, "steps": total, "epochs": args.epochs,
            "train_examples": len(train_set), "held_examples": len(held_set), "limit": args.limit,
            "device": device, "seconds": round(time.time() - started), **figures}
    print(json.dumps(meta, ensure_ascii=False, indent=2))
    if args.write:
        save_weights(net.cpu(), Path(args.output), meta)
        say(f"Poids écrits : {args.output}")
    return 0


def save_checkpoint(path: Path, net, optimizer, scheduler, step: int) -> None:
    import torch

    tmp = path.with_suffix(".tmp")
    torch.save({"net": net.state_dict(), "optimizer": optimizer.state_dict(), "scheduler": scheduler.state_dict(),
                "step": step}, tmp)
    tmp.replace(path)
    say(f"Point de reprise écrit au pas {step} ({path}).")


def evaluate(net, tokenizer, held: list[Example], device: str, batch: int) -> dict:
    """Head logits over the held articles, a Platt scaling of each head fitted there, and per-kind figures."""
    import torch
    from sklearn.linear_model import LogisticRegression
    from sklearn.metrics import roc_auc_score

    logits, spans_ok = [], []
    with torch.inference_mode():
        for k in range(0, len(held), batch):
            part = held[k:k + batch]
            ids, mask, starts, ends, labels = (t.to(device) for t in encode_batch(tokenizer, part))
            out = net(ids, mask).float().cpu().numpy()
            for row, e in enumerate(part):
                logits.append(out[row, 0, 2:])
                if e.kind == "answer":
                    first = int(np.argmax(ids[row].cpu().numpy() == tokenizer.token_to_id("</s>"))) + 2
                    count = int(mask[row].sum()) - first - 1
                    i, j, _ = best_span(out[row, :, 0], out[row, :, 1], first, count)
                    spans_ok.append(int(starts[row]) == first + i and int(ends[row]) == first + j)
    logits = np.array(logits)
    answers = np.array([e.answers for e in held])
    relevant = np.array([e.relevant for e in held])
    calibration = {}
    for col, (name, y) in enumerate((("answers", answers), ("relevant", relevant))):
        fit = LogisticRegression(C=100.0).fit(logits[:, col:col + 1], y)
        calibration[name] = [float(fit.coef_[0, 0]), float(fit.intercept_[0])]
    p = 1 / (1 + np.exp(-(calibration["answers"][0] * logits[:, 0] + calibration["answers"][1])))
    p_rel = 1 / (1 + np.exp(-(calibration["relevant"][0] * logits[:, 1] + calibration["relevant"][1])))
    kinds = {}
    for kind in ("answer", *NEGATIVE_KINDS):
        sel = np.array([e.kind == kind for e in held])
        if sel.any():
            kinds[kind] = {"n": int(sel.sum()), "p_answers_mean": round(float(p[sel].mean()), 3),
                           "said_answered@0.5": round(float((p[sel] >= 0.5).mean()), 3)}
    return {"calibration": calibration, "related_threshold": balanced_threshold(p_rel, relevant),
            "passage_threshold": balanced_threshold(p, answers), "held_auc_answers": round(float(roc_auc_score(answers, logits[:, 0])), 4),
            "held_auc_relevant": round(float(roc_auc_score(relevant, logits[:, 1])), 4),
            "held_span_exact": round(float(np.mean(spans_ok)), 4) if spans_ok else None, "held_kinds": kinds}


def balanced_threshold(p: np.ndarray, y: np.ndarray) -> float:
    """The probability threshold maximising the mean of the two classes' accuracies."""
    grid = np.round(np.arange(0.05, 0.96, 0.01), 2)
    scores = [((p[y == 1] >= t).mean() + (p[y == 0] < t).mean()) / 2 for t in grid]
    return float(grid[int(np.argmax(scores))])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m eval.train_reader", description=__doc__.split("\n\n")[0])
    parser.add_argument("--limit", type=int, default=None, help="questions lues (essai rapide : 200)")
    parser.add_argument("--epochs", type=int, default=2)
    parser.add_argument("--batch", type=int, default=16)
    parser.add_argument("--max-steps", type=int, default=None, help="au plus N pas (une heure : ~1 100 pas ici)")
    parser.add_argument("--lr", type=float, default=8e-5)
    parser.add_argument("--layers", type=int, default=LAYERS)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--device", choices=("auto", "cpu", "cuda"), default="auto")
    parser.add_argument("--checkpoint-minutes", type=float, default=10.0)
    parser.add_argument("--resume", action="store_true", help="reprendre au dernier point de reprise")
    parser.add_argument("--finish", action="store_true",
                        help="avec --resume : s'arrêter au point de reprise, l'évaluer et l'écrire")
    parser.add_argument("--write", action="store_true", help="écrire les poids entraînés")
    parser.add_argument("--output", default=str(READER_PATH))
    return train(parser.parse_args(argv))


if __name__ == "__main__":
    sys.exit(main())
