"""The refusal policy: does the evidence retrieved really answer the question?

No language model judges answerability here, so a small logistic model scores cheap signals of the
evidence (below); a few cases are refused before the model (``refused_before_model``). Its weights and
decision threshold are data (``assistant/answerability/rules.json``), fitted by ``python -m eval.calibrate``,
which also reports the cross-validated precision and recall.
"""
from __future__ import annotations

import json
import math
from dataclasses import asdict, dataclass
from functools import lru_cache
from pathlib import Path

from assistant.answering.compose import Draft
from assistant.answering.question import expected_type_found, has_term, occurrence_found, preceding
from assistant.search.retrieve import Retrieval
from veille.config import Settings
from veille.text import tokens

MODEL_PATH = Path(__file__).with_name("rules.json")


@dataclass(frozen=True)
class AnswerabilityFeatures:
    dense_top: float  # best cosine of the dense branch
    coverage: float  # idf-weighted share of the question's terms in the chosen sentences
    missing_top: float  # idf-weighted share of the question's terms absent from the 3 best passages
    missing_corpus: float  # idf-weighted share of the question's terms found nowhere in the corpus
    type_ok: float  # 1: the expected kind of answer (count, date, person) is there; 0: it is not; 0.5: no kind
    best_sentence: float  # score of the best sentence
    missing_rarest: float  # 1 when the question's rarest term is absent from the 3 best passages
    occurrence_ok: float = 1.0  # 0: the question names one occurrence ("le deuxième comité") no sentence names

    @property
    def refused_before_model(self) -> bool:
        return refused_before_model(asdict(self))

    def as_dict(self) -> dict:
        return {k: round(v, 4) for k, v in asdict(self).items()}


def refused_before_model(evidence: dict) -> bool:
    """No sentence to quote, or the chosen sentences cannot answer whatever the model's confidence: they
    share no term with the question, or the question asks for a kind of answer (a count, a date, a name)
    none of them holds, or for an occurrence none of them names. Quoting them would answer another
    question, so the assistant refuses."""
    return (evidence.get("best_sentence", 0.0) <= 0.0 or evidence.get("coverage", 1.0) <= 0.0
            or evidence.get("type_ok", 0.5) == 0.0 or evidence.get("occurrence_ok", 1.0) == 0.0)


def compute_features(question: str, passages, chosen, idf, dense_top: float, coverage: float,
                     best_sentence: float, in_corpus) -> AnswerabilityFeatures:
    terms = set(tokens(question))
    weights = {t: idf(t) for t in terms}
    total = sum(weights.values()) or 1.0
    top_terms = set(tokens(" ".join(p.node.get_content() for p in passages[:3])))

    def in_top(term: str) -> bool:
        return has_term(term, top_terms)

    missing_top = sum(w for t, w in weights.items() if not in_top(t)) / total
    missing_corpus = sum(w for t, w in weights.items() if not in_corpus(t) and not in_top(t)) / total
    present = {t: w for t, w in weights.items() if in_corpus(t)}
    rarest = max(sorted(present), key=present.get) if present else None  # sorted: ties broken the same way every run
    texts = [s.text for s in chosen]
    return AnswerabilityFeatures(dense_top=dense_top, coverage=coverage, missing_top=missing_top,
                                 missing_corpus=missing_corpus,
                                 type_ok=expected_type_found(question, texts,
                                                             [preceding(passages[s.passage].node.get_content(), s.start)
                                                              for s in chosen]),
                                 best_sentence=best_sentence,
                                 missing_rarest=float(rarest is not None and not in_top(rarest)),
                                 occurrence_ok=occurrence_found(question, texts))
# The features the model weighs. The dense cosine stays in the evidence but out of the model: within the
# corpus's domain it does not separate answerable from unanswerable questions (fitted, its weight came
# out negative, which would favour off-topic questions), so it is not allowed to vote.
MODEL_FEATURES = ("coverage", "missing_top", "missing_corpus", "type_ok", "best_sentence", "missing_rarest")


@dataclass(frozen=True)
class AnswerabilityModel:
    weights: tuple[float, ...]
    bias: float
    mean: tuple[float, ...]
    scale: tuple[float, ...]
    threshold: float
    features: tuple[str, ...] = MODEL_FEATURES

    def probability(self, evidence: AnswerabilityFeatures) -> float:
        values = [getattr(evidence, name) for name in self.features]
        z = self.bias + sum(w * (x - m) / (s or 1.0) for w, x, m, s in
                            zip(self.weights, values, self.mean, self.scale))
        return 1.0 / (1.0 + math.exp(-z))


@lru_cache(maxsize=2)
def load_model(path: Path = MODEL_PATH) -> AnswerabilityModel:
    data = json.loads(path.read_text(encoding="utf-8"))
    return AnswerabilityModel(features=tuple(data["features"]), weights=tuple(data["weights"]), bias=data["bias"],
                              mean=tuple(data["mean"]),
                              scale=tuple(data["scale"]), threshold=data["threshold"])


@dataclass(frozen=True)
class Decision:
    """Answer or refuse, with the confidence and the evidence it rests on."""
    answer: bool
    confidence: float
    evidence: AnswerabilityFeatures  # or the learned policy's (assistant/answerability): anything with as_dict()
    forced: bool = False  # refused before the model: nothing to quote, or sentences of the wrong kind
    # The reader's three outcomes (assistant/answering/reading.py): "answer", "partial" (the subject is there, not the
    # answer: ``related`` passages are quoted as what comes closest) or "none"; "" for the other policies.
    status: str = ""
    related: tuple[int, ...] = ()
    draft: object = None  # the draft to answer with when it is not the composer's own (the reader's gate)


def effective_threshold(settings: Settings, stored: float) -> float:
    """``VEILLE_REFUSAL_THRESHOLD`` when set, else the threshold stored with the model."""
    return settings.refusal_threshold if settings.refusal_threshold is not None else stored


@dataclass(frozen=True)
class RefusalPolicy:
    model: AnswerabilityModel
    threshold: float

    @classmethod
    def from_settings(cls, settings: Settings, path: Path = MODEL_PATH) -> "RefusalPolicy":
        model = load_model(path)
        return cls(model, effective_threshold(settings, model.threshold))

    def evidence(self, draft: Draft, retrieval: Retrieval) -> AnswerabilityFeatures:
        return compute_features(draft.question, draft.passages, draft.chosen, draft.stats, retrieval.dense_top,
                                draft.coverage, draft.best_score, draft.stats.contains)

    def decide(self, draft: Draft, retrieval: Retrieval) -> Decision:
        evidence = self.evidence(draft, retrieval)
        # Nothing to quote (no candidate: best_sentence is 0), or sentences of the wrong kind: no confidence,
        # whatever the model says.
        if evidence.refused_before_model:
            return Decision(False, 0.0, evidence, forced=True)
        confidence = self.model.probability(evidence)
        return Decision(confidence >= self.threshold, confidence, evidence)
