"""The answer judge in the answer path: which of the best candidate sentences holds the answer, and does any?

The extractive composer ranks the retrieved passages' sentences by shared terms; the judge (``veille/judge.py``,
a cross-encoder trained on PIAF's training questions by ``python -m eval.train_judge``) reads the question with
each of the ``JUDGE_CANDIDATES`` best of them and gives the probability that it holds the answer.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from assistant.answerability.consensus import ConsensusPolicy, both_answer
from assistant.answering.compose import Draft, ExtractiveComposer, ScoredSentence, jaccard, query_coverage
from assistant.answerability.policy import Decision, effective_threshold
from assistant.search.retrieve import Retrieval
from veille.config import Settings
from veille.embeddings import resolve_model_path
from veille.judge import Judge, load_judge, read_meta
from veille.store.corpus import TermStats

JUDGE_PATH = Path(__file__).with_name("judge.npz")
JUDGE_CANDIDATES = 6  # sentences read per question: ~4 ms each (README « Réponse ou refus »)
JUDGE_MODES = ("judge", "judge-consensus")  # the answer modes (Settings.answerability) that run the judge


def judge_candidates(candidates: list[ScoredSentence], limit: int = JUDGE_CANDIDATES) -> list[ScoredSentence]:
    """The best-scored candidates, near-duplicates (copies across documents) read once."""
    chosen: list[ScoredSentence] = []
    for cand in sorted(candidates, key=lambda s: s.score, reverse=True):
        if any(jaccard(cand.terms, c.terms) > 0.6 for c in chosen):
            continue
        chosen.append(cand)
        if len(chosen) >= limit:
            break
    return chosen


@dataclass
class JudgeRanking:
    """The sentences the judge read and its probabilities, handed from the composer to the policy."""
    sentences: list[ScoredSentence]
    probabilities: list[float]

    @property
    def best(self) -> float:
        return max(self.probabilities, default=0.0)


def load_judge_for(settings: Settings, weights: Path = JUDGE_PATH) -> Judge:
    model_dir = Path(resolve_model_path("e5-small", settings)[0])
    return load_judge(model_dir, Path(weights), settings.models_dir, settings.threads)


@dataclass
class JudgedComposer:
    """The extractive composer's draft, opened by the sentence the judge finds most likely to answer."""
    judge: Judge
    base: ExtractiveComposer = field(default_factory=ExtractiveComposer)

    @classmethod
    def from_settings(cls, settings: Settings) -> "JudgedComposer":
        return cls(load_judge_for(settings))

    def draft(self, question: str, retrieval: Retrieval, stats: TermStats) -> Draft:
        draft = self.base.draft(question, retrieval, stats)
        judged = judge_candidates(draft.candidates)
        probabilities = [float(p) for p in self.judge.score(question, [c.text for c in judged])]
        draft.ranking = JudgeRanking(judged, probabilities)
        if judged:
            best = judged[max(range(len(judged)), key=probabilities.__getitem__)]
            rest = [c for c in draft.chosen if c is not best and jaccard(c.terms, best.terms) <= 0.6]
            draft.chosen = [best, *rest][: self.base.max_sentences]
            draft.coverage = query_coverage(question, draft.chosen, stats)
        return draft


@dataclass(frozen=True)
class JudgeEvidence:
    values: dict

    def as_dict(self) -> dict:
        return dict(self.values)


def judge_agrees(judge_confidence: float, judge_threshold: float, evidence: dict, rules_threshold: float,
                 learned_threshold: float) -> bool:
    """The judge at its threshold and, in ``judge-consensus``, the rules and the learned models beside it, each
    at its own. The benchmark asks at threshold 0 to see every would-be answer, then decides from the evidence
    with this."""
    if judge_confidence < judge_threshold:
        return False
    if "rules_confidence" not in evidence:  # the judge alone
        return True
    return both_answer(evidence["rules_confidence"], evidence.get("learned_confidence"), rules_threshold,
                       learned_threshold)


@dataclass
class JudgePolicy:
    """Answer when the judge finds a sentence likely enough to answer and, with ``inner`` (the consensus), when
    that policy would answer too; the confidence is the judge's probability, the lower one with the consensus."""
    threshold: float
    inner: ConsensusPolicy | None = None

    @classmethod
    def from_settings(cls, settings: Settings, weights: Path = JUDGE_PATH,
                      with_consensus: bool = False) -> "JudgePolicy":
        stored = float(read_meta(weights)["threshold"])
        return cls(effective_threshold(settings, stored),
                   ConsensusPolicy.from_settings(settings) if with_consensus else None)

    def decide(self, draft: Draft, retrieval: Retrieval) -> Decision:
        ranking = draft.ranking if isinstance(draft.ranking, JudgeRanking) else JudgeRanking([], [])
        judged = ranking.best
        values = {"judge_confidence": round(judged, 4), "judge_sentences": len(ranking.sentences)}
        if not ranking.sentences:  # nothing to quote: refused before any model
            return Decision(False, 0.0, JudgeEvidence(values), forced=True)
        if self.inner is None:
            return Decision(judged >= self.threshold, judged, JudgeEvidence(values))
        other = self.inner.decide(draft, retrieval)
        values = {**other.evidence.as_dict(), **values}
        if other.forced:
            return Decision(False, 0.0, JudgeEvidence(values), forced=True)
        return Decision(other.answer and judged >= self.threshold, min(judged, other.confidence), JudgeEvidence(values))
