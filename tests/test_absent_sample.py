"""The « absent » cases left to read by hand are those the default answer mode would really have answered:
decided as the benchmark decides (``refused``: for consensus, each judge at its own threshold), not on another
mode's confidence."""
from __future__ import annotations

from eval.answerability import absent_answered_sample

THRESHOLDS = {"rules": 0.3, "learned": 0.3, "consensus": 0.3}


def row(id_: str, scorer: str, *, set_: str = "spf", present: bool = False, forced: bool = False,
        confidence: float = 0.9, rules: float = 1.0, learned: float = 1.0) -> dict:
    return {"set": set_, "scorer": scorer, "id": id_, "question": f"question {id_}", "present": present,
            "forced": forced, "confidence": confidence, "answer": "réponse", "cited": ["F1#p0"], "reference": "",
            "evidence": {"rules_confidence": rules, "learned_confidence": learned}}


ROWS = [
    row("answered", "consensus"),
    row("answered-cnil", "consensus", set_="cnil"),
    # high confidence, yet the learned judge of the consensus is below its own threshold: refused
    row("learned-judge-refuses", "consensus", confidence=0.95, learned=0.0),
    row("rules-judge-refuses", "consensus", rules=0.0),
    row("forced", "consensus", forced=True),
    row("present", "consensus", present=True),
    row("piaf", "consensus", set_="piaf"),
    row("other-mode", "learned", confidence=0.99),
]


def test_the_sample_is_what_the_default_mode_answered_without_its_gold():
    assert {r["id"] for r in absent_answered_sample(ROWS, THRESHOLDS)} == {"answered", "answered-cnil"}


def test_another_mode_can_be_asked_for():
    assert [r["id"] for r in absent_answered_sample(ROWS, THRESHOLDS, scorer="learned")] == ["other-mode"]


def test_the_sample_is_fixed_by_its_seed_and_bounded():
    rows = [row(f"q{i}", "consensus") for i in range(50)]
    first = absent_answered_sample(rows, THRESHOLDS, n=10, seed=12)
    assert len(first) == 10
    assert first == absent_answered_sample(rows, THRESHOLDS, n=10, seed=12)
    assert {"set", "id", "question", "answer", "cited"} <= set(first[0])
