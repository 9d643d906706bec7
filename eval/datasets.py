"""Benchmarks as data: passages, questions and their gold, read from the vendored subsets or ../shared.

Gold semantics are kept per set: PIAF is passage-level; SPF and CNIL are scored at document level
(a hit = any passage of a gold document), as in ../shared/README.md.
"""
from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from pathlib import Path

EVAL_DIR = Path(__file__).resolve().parent
DATA_DIR = EVAL_DIR / "data"
SHARED_BENCH = EVAL_DIR.parent.parent / "shared" / "bench"
BENCHES = ("corpus", "piaf", "spf", "cnil")
VENDORED = ("piaf", "spf")


@dataclass
class Passage:
    id: str
    title: str
    text: str
    doc_id: str  # the gold unit for document-level sets (= id for PIAF)


@dataclass
class Question:
    id: str
    question: str
    answer: str
    gold_ids: list[str]  # passage ids
    gold_doc_ids: list[str] = field(default_factory=list)


@dataclass
class Bench:
    name: str
    passages: list[Passage]
    questions: list[Question]
    level: str  # "passage" or "document": the unit a hit is counted on
    origin: str  # where it was read from

    def __post_init__(self) -> None:
        self._by_doc: dict[str, set[str]] = {}
        for p in self.passages:
            self._by_doc.setdefault(p.doc_id, set()).add(p.id)

    def gold_passages(self, q: Question) -> set[str]:
        """Relevant passages: the gold ones, or for document-level gold every passage of a gold document
        (so hit@k = any passage of the document, and nDCG counts them all, as the reference does)."""
        if self.level == "document":
            return set().union(*[self._by_doc.get(d, set()) for d in q.gold_doc_ids])
        return set(q.gold_ids)

    def content_hash(self) -> str:
        h = hashlib.sha256()
        for p in self.passages:
            h.update(f"{p.id}\x1f{p.title}\x1f{p.text}\x1e".encode("utf-8"))
        return h.hexdigest()[:12]


def read_jsonl(path: Path) -> list[dict]:
    with path.open(encoding="utf-8") as fh:
        return [json.loads(line) for line in fh if line.strip()]


def write_jsonl(path: Path, rows: list[dict]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding="utf-8") as fh:
        for row in rows:
            fh.write(json.dumps(row, ensure_ascii=False) + "\n")


def bench_dir(name: str, fast: bool = False, full: bool = False) -> Path | None:
    """Where a benchmark is read from: full sets from ../shared when asked (or for CNIL, never vendored),
    otherwise the vendored subset (``fast`` picks the smaller CI subset)."""
    if name == "cnil" or full:
        path = SHARED_BENCH / name
        if fast and name == "cnil":
            return None  # CNIL has no fast subset: it is not vendored
        return path if (path / "corpus.jsonl").exists() else None
    path = DATA_DIR / (f"{name}-fast" if fast else name)
    return path if (path / "corpus.jsonl").exists() else None


def load_bench(name: str, fast: bool = False, full: bool = False) -> Bench:
    path = bench_dir(name, fast, full)
    if path is None:
        where = "../shared/bench/" + name
        raise FileNotFoundError(f"Banc « {name} » introuvable ({where} absent).")
    passages_rows = read_jsonl(path / "corpus.jsonl")
    qa_rows = read_jsonl(path / "qa.jsonl")
    passages = [Passage(r["id"], r.get("title", ""), r["text"], r.get("doc_id") or r["id"]) for r in passages_rows]
    questions = [Question(r["id"], r["question"], r.get("answer", ""), list(r["gold_ids"]),
                          list(r.get("gold_doc_ids") or [])) for r in qa_rows]
    level = "document" if name in ("spf", "cnil") else "passage"
    if level == "document":
        doc_of = {p.id: p.doc_id for p in passages}
        for q in questions:  # every set but PIAF has doc ids; derive them if a row lacks them
            q.gold_doc_ids = q.gold_doc_ids or sorted({doc_of[g] for g in q.gold_ids if g in doc_of})
    return Bench(name, passages, questions, level, str(path))


@dataclass
class TrainingQuestion(Question):
    answer_start: int = -1  # offset of ``answer`` in the gold passage's text
    title: str = ""


def load_training_questions() -> list[TrainingQuestion]:
    """PIAF's training split (../shared/bench/piaf/train.jsonl): the only questions anything is fitted on."""
    path = SHARED_BENCH / "piaf" / "train.jsonl"
    if not path.exists():
        raise FileNotFoundError("Questions d'entraînement introuvables (../shared/bench/piaf/train.jsonl absent).")
    return [TrainingQuestion(r["id"], r["question"], r.get("answer", ""), list(r["gold_ids"]),
                             answer_start=int(r.get("answer_start", -1)), title=r.get("title", ""))
            for r in read_jsonl(path)]
