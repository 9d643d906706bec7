"""Rebuild the vendored benchmark subsets under eval/data from ../shared/bench (fixed seed 42).

    python -m eval.make_subsets

Each subset keeps all gold passages of its sampled questions (whole gold documents for SPF) plus
distractors: first the other passages of the same articles (hard negatives), then random ones.
"""
from __future__ import annotations

import random
import shutil

from eval.datasets import DATA_DIR, SHARED_BENCH, read_jsonl, write_jsonl

SEED = 42
PLAN = {  # name: (questions, max passages), then the fast CI subset drawn from it
    "piaf": ((180, 800), (50, 200)),
    "spf": ((150, 800), (40, 240)),
}


def article_of(pid: str) -> str:
    return pid.rsplit("-p", 1)[0] if pid.startswith("piaf-") else pid.split("#", 1)[0]


def subset(passages: list[dict], questions: list[dict], n_q: int, max_p: int, rng: random.Random):
    chosen = rng.sample(questions, min(n_q, len(questions)))
    by_group: dict[str, list[dict]] = {}
    for p in passages:
        by_group.setdefault(p.get("doc_id") or article_of(p["id"]), []).append(p)
    keep: dict[str, dict] = {}
    groups = []
    for q in chosen:  # gold passages (SPF: whole gold documents) first
        for gid in q["gold_ids"]:
            group = next(iter(q.get("gold_doc_ids") or [])) if q.get("gold_doc_ids") else article_of(gid)
            groups.append(group)
            if q.get("gold_doc_ids"):
                for p in by_group.get(group, []):
                    keep[p["id"]] = p
            else:
                keep.update({p["id"]: p for p in passages if p["id"] == gid})
    for group in dict.fromkeys(groups):  # hard negatives: rest of the same article
        for p in by_group.get(group, []):
            if len(keep) >= max_p:
                break
            keep.setdefault(p["id"], p)
    others = [g for g in by_group if g not in set(groups)]
    rng.shuffle(others)
    for group in others:  # random distractors, whole documents for document-level sets
        members = by_group[group]
        if len(keep) + len(members) > max_p:
            continue
        keep.update({p["id"]: p for p in members})
    order = {p["id"]: i for i, p in enumerate(passages)}
    return sorted(keep.values(), key=lambda p: order[p["id"]]), chosen


def main() -> None:
    for name, ((n_q, max_p), (n_fast, max_fast)) in PLAN.items():
        src = SHARED_BENCH / name
        passages, questions = read_jsonl(src / "corpus.jsonl"), read_jsonl(src / "qa.jsonl")
        rng = random.Random(SEED)
        sub_p, sub_q = subset(passages, questions, n_q, max_p, rng)
        write_jsonl(DATA_DIR / name / "corpus.jsonl", sub_p)
        write_jsonl(DATA_DIR / name / "qa.jsonl", sub_q)
        fast_p, fast_q = subset(sub_p, sub_q, n_fast, max_fast, random.Random(SEED))
        write_jsonl(DATA_DIR / f"{name}-fast" / "corpus.jsonl", fast_p)
        write_jsonl(DATA_DIR / f"{name}-fast" / "qa.jsonl", fast_q)
        for folder in (name, f"{name}-fast"):
            shutil.copy(DATA_DIR / f"LICENCE-{name}.md", DATA_DIR / folder / "LICENCE.md")
        print(f"{name}: {len(sub_q)} questions, {len(sub_p)} passages ; rapide : {len(fast_q)} questions, "
              f"{len(fast_p)} passages")


if __name__ == "__main__":
    main()
