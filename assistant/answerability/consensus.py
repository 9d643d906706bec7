"""Answer only when both judges agree: the rules policy on the quoted sentences, and the learned models on the
sentences they would have chosen from the same retrieval.

Why: measured at scale (``veille eval --answerability``), each judge lets through what the other catches. The
rules (fitted by an earlier version on the demo set) refuse questions that ask for a kind of answer the corpus
lacks; the learned models (PIAF train) refuse when the retrieved passages come from a neighbouring subject,
which is most of what a large corpus throws at a question without an answer. The answer quoted is the rules
composer's, given when each judge's confidence reaches its own threshold; the confidence shown is the lower.
The learned models were trained on hybrid searches: on a lexical-only one (``retriever="bm25"``, an evaluation
configuration) the rules decide alone.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from assistant.answerability import MODEL_PATH, LearnedComposer, LearnedPolicy
from assistant.answering.compose import Draft
from assistant.answerability.policy import MODEL_PATH as RULES_MODEL_PATH
from assistant.answerability.policy import Decision, RefusalPolicy
from assistant.search.retrieve import Retrieval
from veille.config import Settings


@dataclass(frozen=True)
class ConsensusEvidence:
    """The rules' evidence, the learned models' (prefixed ``learned_``) and each judge's confidence."""
    rules: dict
    learned: dict
    rules_confidence: float
    learned_confidence: float | None  # None: the learned judge did not sit (no dense branch)

    def as_dict(self) -> dict:
        return {**self.rules, **{f"learned_{k}": v for k, v in self.learned.items()},
                "rules_confidence": round(self.rules_confidence, 4),
                **({"learned_confidence": round(self.learned_confidence, 4)}
                   if self.learned_confidence is not None else {})}


def both_answer(rules_confidence: float, learned_confidence: float | None, rules_threshold: float,
                learned_threshold: float) -> bool:
    """The consensus: each judge at its own threshold; without the learned judge (None), the rules alone. The
    benchmark asks at threshold 0 to see every would-be answer, then decides from the evidence with this."""
    return rules_confidence >= rules_threshold and (learned_confidence is None
                                                    or learned_confidence >= learned_threshold)


@dataclass
class ConsensusPolicy:
    rules: RefusalPolicy
    learned: LearnedPolicy
    learned_composer: LearnedComposer

    @classmethod
    def from_settings(cls, settings: Settings, learned_path: Path = MODEL_PATH,
                      rules_path: Path = RULES_MODEL_PATH) -> "ConsensusPolicy":
        learned = LearnedPolicy.from_settings(settings, learned_path)
        return cls(RefusalPolicy.from_settings(settings, rules_path), learned, LearnedComposer(learned.models))

    def decide(self, draft: Draft, retrieval: Retrieval) -> Decision:
        by_rules = self.rules.decide(draft, retrieval)
        if not retrieval.dense:  # a lexical-only search: the learned models read both branches' scores
            evidence = ConsensusEvidence(by_rules.evidence.as_dict(), {}, by_rules.confidence, None)
            return Decision(by_rules.answer, by_rules.confidence, evidence, forced=by_rules.forced)
        by_learned = self.learned.decide(self.learned_composer.draft(draft.question, retrieval, draft.stats),
                                         retrieval)
        evidence = ConsensusEvidence(by_rules.evidence.as_dict(), by_learned.evidence.as_dict(),
                                     by_rules.confidence, by_learned.confidence)
        if by_rules.forced or by_learned.forced:  # one judge refused before any model: nothing to weigh
            return Decision(False, 0.0, evidence, forced=True)
        answer = both_answer(by_rules.confidence, by_learned.confidence, self.rules.threshold, self.learned.threshold)
        return Decision(answer, min(by_rules.confidence, by_learned.confidence), evidence)
