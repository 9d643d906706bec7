"""Follow-ups measured: the « depends on the previous turn » decision, and the standalone question it becomes.

``python -m eval.followups`` reads eval/data/followups.jsonl: cases written for this purpose on the demo corpus,
the tests' fixtures and the ../shared/html_fr topics. Each has the earlier turn(s) (``previous``: one standalone
question, or a list of questions as typed in `veille chat`, played through a real ``Conversation``), the new
question, whether it depends on them, and for the later cases the expected standalone question (``expected``; the
question itself when it stands alone). Pronoun follow-ups (« elle », « la », « leur », « y »…), complex inversions
that name their own subject (« Quel document aide-t-il les entreprises ? ») and chains of three turns or more.

Splits: the first 84 pairs were split by hand before the rules; every later case by ``hash_split`` (a hash of
its turns), never by hand. Rules are chosen on ``dev`` only; ``test`` is held out. ``--show`` prints every error.
The latency printed is the rewrite's own time per turn (what a follow-up adds before retrieval), the French
morphology model's one-time load apart."""
from __future__ import annotations

import argparse
import hashlib
import json
import statistics
import time
from dataclasses import dataclass
from pathlib import Path

from assistant.answering.answer import Answer
from assistant.conversation.antecedent import load_morphology
from assistant.conversation.session import Conversation

DATA = Path(__file__).parent / "data" / "followups.jsonl"


@dataclass
class Scores:
    n: int
    tp: int
    fp: int
    fn: int
    rewritten: int = 0  # cases with an expected standalone question
    right: int = 0  # ... whose standalone question is exactly the expected one

    @property
    def precision(self) -> float:
        return self.tp / (self.tp + self.fp) if self.tp + self.fp else 1.0

    @property
    def recall(self) -> float:
        return self.tp / (self.tp + self.fn) if self.tp + self.fn else 1.0

    @property
    def exact(self) -> float:
        return self.right / self.rewritten if self.rewritten else 1.0


def hash_split(case: dict) -> str:
    """The split of a case, from its turns alone: half of the cases on each side, nobody choosing."""
    key = json.dumps([case["previous"], case["question"]], ensure_ascii=False)
    return "dev" if int(hashlib.sha256(key.encode()).hexdigest(), 16) % 2 == 0 else "test"


def load(path: Path = DATA) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


@dataclass
class Played:
    depends: bool  # the decision on the last question
    standalone: str  # what the last question became
    seconds: list[float]  # rewrite time of each turn


def play(case: dict) -> Played:
    """The case's turns through a real Conversation, as `veille chat` does without a language model."""
    earlier = case["previous"] if isinstance(case["previous"], list) else [case["previous"]]
    conv, seconds, standalone = Conversation(), [], ""
    for i, question in enumerate([*earlier, case["question"]]):
        last = i == len(earlier)
        depends = conv.is_follow_up(question) if last else False
        start = time.perf_counter()
        standalone = conv.condense_without_llm(question)
        seconds.append(time.perf_counter() - start)
        conv.record(question, standalone, Answer(question, "…", False))
    return Played(depends, standalone, seconds)


def score(cases: list[dict]) -> tuple[Scores, list[dict]]:
    s, errors = Scores(len(cases), 0, 0, 0), []
    for case in cases:
        played = play(case)
        predicted = played.depends
        s.tp += predicted and case["depends"]
        s.fp += predicted and not case["depends"]
        s.fn += not predicted and case["depends"]
        wrong_rewrite = "expected" in case and played.standalone != case["expected"]
        if "expected" in case:
            s.rewritten += 1
            s.right += not wrong_rewrite
        if predicted != case["depends"] or wrong_rewrite:
            errors.append({**case, "got": played.standalone, "predicted": predicted})
    return s, errors


def latency(cases: list[dict]) -> tuple[float, list[float]]:
    """(seconds to load the morphology model once, rewrite seconds of every turn after it)."""
    start = time.perf_counter()
    load_morphology()
    load_s = time.perf_counter() - start
    return load_s, [t for case in cases for t in play(case).seconds]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m eval.followups",
                                     description="Questions de suite : détection (précision, rappel) et réécriture "
                                                 "(question autonome exacte), latence par tour.")
    parser.add_argument("--data", type=Path, default=DATA, help="fichier JSONL des cas")
    parser.add_argument("--split", choices=("dev", "test"), help="une seule partie (par défaut : les deux)")
    parser.add_argument("--show", action="store_true", help="montrer les erreurs")
    args = parser.parse_args(argv)
    cases = load(args.data)
    load_s, turns = latency(cases)
    print("partie           cas  précision  rappel  réécriture exacte  (« dépend de la question précédente »)")
    for split in (args.split,) if args.split else ("dev", "test"):
        chosen = [c for c in cases if c["split"] == split]
        s, errors = score(chosen)
        label = "dev" if split == "dev" else "test (réservée)"
        print(f"{label:<16}{s.n:>4}  {s.precision:9.3f}  {s.recall:6.3f}  {s.right:>6}/{s.rewritten:<3} {s.exact:5.3f}"
              f"   (vrais positifs {s.tp}, faux positifs {s.fp}, oublis {s.fn})")
        if args.show:
            for e in errors:
                print(f"    erreur [{e['id']}] attendu {'dépend' if e['depends'] else 'autonome'}"
                      f"{'' if e['predicted'] == e['depends'] else ' (décision fausse)'} : {e['question']}\n"
                      f"        obtenu  : {e['got']}\n        attendu : {e.get('expected', '—')}")
    ordered = sorted(turns)
    print(f"latence de la réécriture : {1000 * statistics.mean(turns):.2f} ms par tour en moyenne, "
          f"{1000 * ordered[int(0.95 * (len(ordered) - 1))]:.2f} ms au 95e centile, {1000 * ordered[-1]:.2f} ms au "
          f"plus ({len(turns)} tours) ; chargement unique du modèle morphologique : {load_s:.2f} s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
