"""Follow-up detection measured: precision and recall of the « depends on the previous turn » decision.

``python -m eval.followups`` reads eval/data/followups.jsonl (question pairs written for this purpose on
the demo corpus and the ../shared/html_fr topics: the previous question, the new one, whether the new one
depends on the previous). The rules were chosen on the ``dev`` half only; ``test`` is held out. ``--show``
prints every error and the rewrite of each dependent question."""
from __future__ import annotations

import argparse
import json
from dataclasses import dataclass
from pathlib import Path

from assistant.conversation.followup import depends_on_previous, rewrite

DATA = Path(__file__).parent / "data" / "followups.jsonl"


@dataclass
class Scores:
    n: int
    tp: int
    fp: int
    fn: int

    @property
    def precision(self) -> float:
        return self.tp / (self.tp + self.fp) if self.tp + self.fp else 1.0

    @property
    def recall(self) -> float:
        return self.tp / (self.tp + self.fn) if self.tp + self.fn else 1.0


def load(path: Path = DATA) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def score(pairs: list[dict]) -> tuple[Scores, list[dict]]:
    tp = fp = fn = 0
    errors = []
    for pair in pairs:
        predicted = depends_on_previous(pair["question"]) is not None
        tp += predicted and pair["depends"]
        fp += predicted and not pair["depends"]
        fn += not predicted and pair["depends"]
        if predicted != pair["depends"]:
            errors.append(pair)
    return Scores(len(pairs), tp, fp, fn), errors


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m eval.followups",
                                     description="Précision et rappel de la détection des questions de suite.")
    parser.add_argument("--data", type=Path, default=DATA, help="fichier JSONL des paires de questions")
    parser.add_argument("--show", action="store_true", help="montrer les erreurs et les réécritures")
    args = parser.parse_args(argv)
    pairs = load(args.data)
    print("partie  paires  précision  rappel  (« dépend de la question précédente »)")
    for split in ("dev", "test"):
        chosen = [p for p in pairs if p["split"] == split]
        s, errors = score(chosen)
        label = "dev" if split == "dev" else "test (réservée)"
        print(f"{label:<16}{s.n:>3}  {s.precision:9.3f}  {s.recall:6.3f}   (vrais positifs {s.tp}, faux positifs "
              f"{s.fp}, oublis {s.fn})")
        if args.show:
            for e in errors:
                print(f"    erreur [{e['id']}] attendu {'dépend' if e['depends'] else 'autonome'} : {e['question']}")
            for p in chosen:
                if p["depends"] and depends_on_previous(p["question"]):
                    print(f"    [{p['id']}] {p['question']}  →  {rewrite(p['question'], p['previous'])}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
