"""Calibrated refusal: does the evidence retrieved really answer the question?

No language model judges answerability here, so a small logistic model scores cheap signals of the
evidence (below). Its weights and decision threshold are fitted on the evaluation set's answerable
versus unanswerable questions by ``python -m eval.calibrate`` and stored as data in
``assistant/answerability.json``; the same command reports the cross-validated precision and recall.
"""
from __future__ import annotations

import json
import math
import re
from dataclasses import asdict, dataclass
from functools import lru_cache
from pathlib import Path

from veille.text import fold, tokens

MODEL_PATH = Path(__file__).with_name("answerability.json")

# Question kinds and the evidence each expects; answer.py's sentence scoring uses the same patterns.
_COUNT_Q = re.compile(r"\bcombien\s+(?:de\s+|d['’])?(\w+)", re.IGNORECASE)
WHEN_QUESTION = re.compile(r"\b(quand|quelle date|en quelle année|depuis quand|à quelle date|quel jour|quel mois|"
                     r"de quand)\b", re.IGNORECASE)
_AMOUNT_Q = re.compile(r"\b(?:quel|quelle|quels|quelles)\s+(?:est|était|sont|a été|ont été)?\s*(?:le|la|l['’]|les)?\s*"
                       r"(montant|budget|chiffre d['’]affaires|salaire|taux|prix|coût|cout|nombre|pourcentage|part|"
                       r"effectif|âge|age|population|superficie|numéro)\b", re.IGNORECASE)
WHO_QUESTION = re.compile(r"^\s*(?:qui|par qui|avec qui)\b|\bqui (?:a|ont|est|sont|préside|dirige|pilote)\b", re.IGNORECASE)
_MONTHS = "janvier|février|fevrier|mars|avril|mai|juin|juillet|août|aout|septembre|octobre|novembre|décembre"
DATE = re.compile(rf"\b(1[89]\d\d|20\d\d)\b|\b\d{{1,2}}(?:er)?\s+(?:{_MONTHS})\b|\b(?:{_MONTHS})\s+\d{{4}}\b|"
                   r"\b\d{1,2}/\d{1,2}/\d{2,4}\b", re.IGNORECASE)
_NUMBER_WORDS = {"deux", "trois", "quatre", "cinq", "six", "sept", "huit", "neuf", "dix", "onze", "douze", "quinze",
                 "vingt", "trente", "quarante", "cinquante", "cent", "cents", "mille", "dizaine", "dizaines",
                 "centaine", "centaines", "millier", "milliers", "million", "millions", "milliard", "milliards"}
PERSON_NAME = re.compile(r"\b[A-ZÉÈ][a-zéèëêïîôûç]+(?:[- ][A-ZÉÈ][a-zéèëêïîôûç]+)+\b")


@dataclass(frozen=True)
class AnswerabilityFeatures:
    dense_top: float  # best cosine of the dense branch
    coverage: float  # idf-weighted share of the question's terms in the chosen sentences
    missing_top: float  # idf-weighted share of the question's terms absent from the 3 best passages
    missing_corpus: float  # idf-weighted share of the question's terms found nowhere in the corpus
    type_ok: float  # 1: the expected kind of answer (count, date, person) is there; 0: it is not; 0.5: no kind
    best_sentence: float  # score of the best sentence
    missing_rarest: float  # 1 when the question's rarest term is absent from the 3 best passages

    def vector(self) -> list[float]:
        return [self.dense_top, self.coverage, self.missing_top, self.missing_corpus, self.type_ok, self.best_sentence,
                self.missing_rarest]

    def as_dict(self) -> dict:
        return {k: round(v, 4) for k, v in asdict(self).items()}


def _count_in(sentence: str, head: str | None) -> bool:
    """A quantity (not a year, not a day of a date), near the counted noun when the question names it."""
    without_dates = DATE.sub(" ", sentence)
    has_number = bool(re.search(r"\d", without_dates)) or bool(
        {w for w in re.findall(r"\w+", fold(without_dates))} & _NUMBER_WORDS)
    if not has_number or not head:
        return has_number
    return bool(set(tokens(head)) & set(tokens(sentence))) or not tokens(head)


def _quantity_in(sentence: str) -> bool:
    """Digits, a percentage or an amount that is not part of a date."""
    return bool(re.search(r"\d|%|€", DATE.sub(" ", sentence)))


def expected_type_found(question: str, sentences: list[str]) -> float:
    if _AMOUNT_Q.search(question):
        return 1.0 if any(_quantity_in(s) for s in sentences) else 0.0
    count = _COUNT_Q.search(question)
    if count:
        head = count.group(1)
        return 1.0 if any(_count_in(s, head) for s in sentences) else 0.0
    if WHEN_QUESTION.search(question):
        return 1.0 if any(DATE.search(s) for s in sentences) else 0.0
    if WHO_QUESTION.search(question):
        asked = set(PERSON_NAME.findall(question))
        return 1.0 if any(set(PERSON_NAME.findall(s)) - asked for s in sentences) else 0.0
    return 0.5


def compute_features(question: str, passages, chosen, idf, dense_top: float, coverage: float,
                     best_sentence: float, document_frequency) -> AnswerabilityFeatures:
    terms = set(tokens(question))
    weights = {t: idf(t) for t in terms}
    total = sum(weights.values()) or 1.0
    top_terms = set(tokens(" ".join(p.node.get_content() for p in passages[:3])))

    def in_top(term: str) -> bool:
        # Derivations the stemmer keeps apart ("fermer"/"fermeture", "produire"/"production") share a prefix.
        return term in top_terms or (len(term) >= 4 and any(u.startswith(term[:5]) for u in top_terms))

    missing_top = sum(w for t, w in weights.items() if not in_top(t)) / total
    missing_corpus = sum(w for t, w in weights.items() if document_frequency(t) == 0 and not in_top(t)) / total
    present = {t: w for t, w in weights.items() if document_frequency(t) > 0}
    rarest = max(present, key=present.get) if present else None
    return AnswerabilityFeatures(dense_top=dense_top, coverage=coverage, missing_top=missing_top,
                                 missing_corpus=missing_corpus,
                                 type_ok=expected_type_found(question, [s.text for s in chosen]),
                                 best_sentence=best_sentence,
                                 missing_rarest=float(rarest is not None and not in_top(rarest)))


@dataclass(frozen=True)
class AnswerabilityModel:
    weights: tuple[float, ...]
    bias: float
    mean: tuple[float, ...]
    scale: tuple[float, ...]
    threshold: float

    def probability(self, features: AnswerabilityFeatures) -> float:
        z = self.bias + sum(w * (x - m) / (s or 1.0) for w, x, m, s in
                            zip(self.weights, features.vector(), self.mean, self.scale))
        return 1.0 / (1.0 + math.exp(-z))

    def save(self, path: Path = MODEL_PATH, report: dict | None = None) -> None:
        data = asdict(self)
        data["features"] = list(AnswerabilityFeatures.__dataclass_fields__)
        if report:
            data["calibration"] = report
        path.write_text(json.dumps(data, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")


@lru_cache(maxsize=2)
def load_model(path: Path = MODEL_PATH) -> AnswerabilityModel:
    data = json.loads(path.read_text(encoding="utf-8"))
    return AnswerabilityModel(weights=tuple(data["weights"]), bias=data["bias"], mean=tuple(data["mean"]),
                              scale=tuple(data["scale"]), threshold=data["threshold"])
