"""The corpus set: fixed questions written from corpus/ by reading it (eval/corpus_set.jsonl).

One JSON object per line: ``id``, ``kind`` (factuel, liste, nombre-date, paraphrase, deux-documents,
relance, sans-reponse), ``question``, ``expected`` (elements an answer must contain; ``a|b`` = either),
``gold_docs`` (file names under corpus/), optional ``gold_passage`` (verbatim excerpt), and for
follow-up chains ``chain`` and ``turn`` (turns of a chain are asked in order in one conversation).
"""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

CORPUS_SET = Path(__file__).resolve().parent / "corpus_set.jsonl"
KINDS = ("factuel", "liste", "nombre-date", "paraphrase", "deux-documents", "relance", "sans-reponse")


@dataclass
class CorpusQuestion:
    id: str
    kind: str
    question: str
    expected: list[str] = field(default_factory=list)
    gold_docs: list[str] = field(default_factory=list)
    gold_passage: str | None = None
    chain: str | None = None
    turn: int = 1

    @property
    def unanswerable(self) -> bool:
        return self.kind == "sans-reponse"


def load_corpus_set(path: Path = CORPUS_SET) -> list[CorpusQuestion]:
    items = []
    with path.open(encoding="utf-8") as fh:
        for n, line in enumerate(fh, start=1):
            if not line.strip():
                continue
            try:
                row = json.loads(line)
                item = CorpusQuestion(**row)
            except (json.JSONDecodeError, TypeError) as exc:
                raise ValueError(f"{path.name}, ligne {n} : entrée invalide ({exc}).") from exc
            if item.kind not in KINDS:
                raise ValueError(f"{path.name}, ligne {n} : type « {item.kind} » inconnu.")
            items.append(item)
    return items
