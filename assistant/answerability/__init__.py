"""Learned answerability: which sentence answers, and does the corpus answer at all?

Two small models trained on PIAF's training questions only (``python -m eval.train_answerability``), stored
as weights in ``model.json`` beside this file:
- a sentence model scores every candidate sentence of the retrieved passages; the best one opens the answer
  (``LearnedComposer``, in place of the lexical ``ExtractiveComposer``);
- a question model turns the evidence around that sentence (branch scores of the retrieval, how much of the
  question it covers, how far it stands above the others) into the probability that the answer cites a
  passage that answers (``LearnedPolicy``, in place of the rules ``RefusalPolicy``), refused below the
  threshold chosen on the training data's out-of-fold probabilities.
"""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

import numpy as np

from assistant.answerability.features import (
    QUESTION_FEATURES,
    SENTENCE_FEATURES,
    QuestionTerms,
    Retrieved,
    question_row,
    retrieved_scores,
    sentence_rows,
)
from assistant.answerability.model import LinearModel
from assistant.answering.compose import Draft, ScoredSentence, jaccard, query_coverage, sentence_candidates
from assistant.answerability.policy import Decision, effective_threshold
from assistant.search.retrieve import Retrieval
from veille.config import Settings
from veille.errors import VeilleError
from veille.store.corpus import TermStats

MODEL_PATH = Path(__file__).with_name("model.json")


@dataclass(frozen=True)
class Selection:
    max_sentences: int = 3
    min_ratio: float = 0.5  # a further sentence needs this share of the first one's probability


@dataclass
class SentenceRanking:
    """What the sentence model saw and said, handed from the composer to the policy with the draft."""
    rows: list[list[float]]
    logits: list[float]
    terms: QuestionTerms
    retrieved: Retrieved


@dataclass(frozen=True)
class LearnedEvidence:
    """The question model's inputs, shown with the answer (``Answer.evidence``)."""
    values: dict = field(default_factory=dict)

    def as_dict(self) -> dict:
        return dict(self.values)


# Evidence that refuses whatever the question model says (``refused_before_model`` of the rules policy): the
# first sentence lacks the kind of answer asked for (a count, a date, a name), or the chosen sentences do not
# name the occurrence asked for (« le deuxième comité »). Which gates apply is chosen on the training data's
# out-of-fold figures and stored with the weights (``gates`` in model.json).
GATES = {"type_missing": "best_type_missing", "occurrence_missing": "occurrence_missing"}


@dataclass(frozen=True)
class LearnedModels:
    sentence: LinearModel
    question: LinearModel
    threshold: float
    selection: Selection = Selection()
    gates: tuple[str, ...] = ()

    def gated(self, row: list[float]) -> bool:
        """Refused before the question model (see ``GATES``)."""
        return any(row[QUESTION_FEATURES.index(GATES[g])] >= 1.0 for g in self.gates)

    def choose(self, candidates: list[ScoredSentence], logits) -> list[ScoredSentence]:
        """The best sentence first, then up to ``max_sentences - 1`` others close to it (no near-repeats),
        in reading order."""
        if not candidates:
            return []
        order = np.argsort(-np.asarray(logits), kind="stable")
        probs = 1.0 / (1.0 + np.exp(-np.asarray(logits)))
        first = candidates[int(order[0])]
        rest: list[ScoredSentence] = []
        for i in order[1:]:
            if len(rest) + 1 >= self.selection.max_sentences or probs[i] < probs[order[0]] * self.selection.min_ratio:
                break
            cand = candidates[int(i)]
            if any(jaccard(cand.terms, c.terms) > 0.6 for c in [first, *rest]):
                continue
            rest.append(cand)
        return [first, *sorted(rest, key=lambda s: (s.passage, s.start))]

    def as_dict(self, training: dict | None = None) -> dict:
        return {"sentence": self.sentence.as_dict(), "question": self.question.as_dict(), "threshold": self.threshold,
                "selection": {"max_sentences": self.selection.max_sentences, "min_ratio": self.selection.min_ratio},
                "gates": list(self.gates), **({"training": training} if training else {})}


class ModelMismatch(VeilleError):
    """The weights were fitted on other features than the code computes."""


def models_from_dict(data: dict) -> LearnedModels:
    sentence = LinearModel.from_dict(data["sentence"])
    question = LinearModel.from_dict(data["question"])
    if sentence.features != SENTENCE_FEATURES or question.features != QUESTION_FEATURES:
        raise ModelMismatch("Le modèle de réponse appris ne correspond plus aux caractéristiques du code : "
                            "relancez « python -m eval.train_answerability --write ».")
    unknown = [g for g in data.get("gates", []) if g not in GATES]
    if unknown:
        raise ModelMismatch(f"Règle de refus inconnue dans le modèle : {', '.join(unknown)} (connues : {', '.join(GATES)}).")
    return LearnedModels(sentence, question, float(data["threshold"]), Selection(**data.get("selection", {})),
                         tuple(data.get("gates", [])))


@lru_cache(maxsize=2)
def load_models(path: Path = MODEL_PATH) -> LearnedModels:
    """The trained models, read once per process."""
    if not path.exists():
        raise VeilleError(f"Modèle de réponse appris absent ({path.name}) : lancez "
                          "« python -m eval.train_answerability --write ».")
    return models_from_dict(json.loads(path.read_text(encoding="utf-8")))


@dataclass
class LearnedComposer:
    """Sentences chosen by the sentence model: the one most likely to hold the answer first."""
    models: LearnedModels

    @classmethod
    def load(cls, path: Path = MODEL_PATH) -> "LearnedComposer":
        return cls(load_models(path))

    def draft(self, question: str, retrieval: Retrieval, stats: TermStats) -> Draft:
        candidates = sentence_candidates(question, retrieval.passages, stats)
        retrieved = retrieved_scores(retrieval)
        rows, terms = sentence_rows(question, retrieval.passages, candidates, stats, retrieved)
        logits = [float(x) for x in self.models.sentence.logits(rows)] if rows else []
        chosen = self.models.choose(candidates, logits)
        return Draft(question, retrieval.passages, candidates, chosen, query_coverage(question, chosen, stats), stats,
                     ranking=SentenceRanking(rows, logits, terms, retrieved))


@dataclass
class LearnedPolicy:
    """Answer when the question model's probability that the answer is right reaches the threshold."""
    models: LearnedModels
    threshold: float

    @classmethod
    def from_settings(cls, settings: Settings, path: Path = MODEL_PATH) -> "LearnedPolicy":
        models = load_models(path)
        return cls(models, effective_threshold(settings, models.threshold))

    def decide(self, draft: Draft, retrieval: Retrieval) -> Decision:
        ranking = draft.ranking
        if not draft.chosen or not isinstance(ranking, SentenceRanking):  # nothing to quote
            return Decision(False, 0.0, LearnedEvidence(), forced=True)
        best = draft.candidates.index(draft.chosen[0])
        row = question_row(draft.question, draft.passages, draft.chosen, ranking.rows, ranking.logits, best,
                           ranking.terms, ranking.retrieved)
        evidence = LearnedEvidence({name: round(float(v), 4) for name, v in zip(QUESTION_FEATURES, row)})
        if self.models.gated(row):  # quoting them would answer another question
            return Decision(False, 0.0, evidence, forced=True)
        confidence = self.models.question.probability(row)
        return Decision(confidence >= self.threshold, confidence, evidence)
