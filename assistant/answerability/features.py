"""Evidence read by the learned answerability scorer: one row per candidate sentence (which sentence
answers?) and one row per question (does the corpus answer at all?).

The same functions build the training rows (eval/train_answerability.py) and the rows scored at answer
time, so what the models were fitted on is what they see. Everything here is cheap: term sets and answer
types already computed by ``compose.sentence_candidates`` and the branch scores of the retrieval. The
similarity columns stay 0: no sentence vectors are computed (their weights in model.json are 0).
"""
from __future__ import annotations

import math
from dataclasses import dataclass

from assistant.answering.compose import ScoredSentence
from assistant.answering.question import has_term, occurrence_found
from assistant.search.retrieve import Retrieval
from veille.text import tokens

# Sentence features, in the order the sentence model's weights follow.
SENTENCE_FEATURES = (
    "coverage",  # idf-weighted share of the question's terms in the sentence
    "coverage_context",  # ... in the sentence and the one before it (a pronoun's antecedent)
    "coverage_passage",  # ... in the whole passage
    "matched_share",  # unweighted share of the question's terms in the sentence
    "rarest_in",  # the question's rarest term is in the sentence
    "bigrams",  # share of the question's consecutive term pairs found side by side in the sentence
    "type_ok",  # the kind of answer asked for (count, date, name) is in the sentence
    "type_missing",  # the question asks for a kind of answer the sentence does not hold
    "novelty",  # share of the sentence's terms the question does not contain (an answer adds something)
    "log_words",  # log of the sentence's length in words
    "position",  # rank of the sentence in its passage, 0 for the first
    "passage_rank",  # log(1 + rank of its passage)
    "passage_fused",  # fused score of its passage
    "passage_dense_gap",  # best dense cosine minus its passage's cosine
    "passage_lexical",  # BM25 of its passage over the best BM25 of the question
    "similarity",  # cosine question / sentence (0 when no sentence vectors)
    "similarity_gap",  # best sentence cosine of the question minus this one
)

# Question features, in the order the answerability model's weights follow.
QUESTION_FEATURES = (
    "dense_top",  # best cosine of the dense branch
    "dense_margin",  # best minus second best dense cosine
    "lexical_top",  # best BM25 over the sum of the question terms' idf
    "best_logit",  # sentence model's score of the chosen first sentence
    "logit_margin",  # ... minus the best sentence of another passage
    "best_coverage",  # coverage of the first sentence
    "best_coverage_passage",  # coverage of its passage
    "best_rarest_in",
    "best_bigrams",
    "best_type_missing",
    "best_similarity",
    "best_passage_rank",
    "best_passage_dense_gap",
    "missing_top",  # idf-weighted share of the question's terms absent from the 3 best passages
    "missing_rarest",  # the rarest term of the question is absent from the 3 best passages
    "occurrence_missing",  # the question names an occurrence ("le deuxième comité") no chosen sentence names
    "question_terms",  # log(1 + number of question terms)
)


@dataclass(frozen=True)
class Retrieved:
    """What the scorer reads of a retrieval: fused scores (in ``passages``) and the branches' own scores."""
    dense_top: float
    dense_second: float
    dense: list[float | None]  # per passage: its dense cosine (None: not among the dense candidates)
    lexical: list[float | None]  # per passage: its BM25 (None: not among the lexical candidates)
    lexical_top: float


def retrieved_scores(retrieval: Retrieval) -> Retrieved:
    """The branch scores of ``retrieval``, aligned on its fused passages."""
    dense_scores = {n.node.node_id: float(n.score) for n in retrieval.dense}
    lexical_scores = {n.node.node_id: float(n.score) for n in retrieval.lexical}
    return scores_of(retrieval.passages, dense_scores, lexical_scores, retrieval.dense_top)


def scores_of(passages, dense_scores: dict[str, float], lexical_scores: dict[str, float],
              dense_top: float) -> Retrieved:
    """``Retrieved`` from recorded branch scores (chunk id -> score), as the training script keeps them."""
    dense_values = sorted(dense_scores.values(), reverse=True)
    second = dense_values[1] if len(dense_values) > 1 else (dense_values[0] if dense_values else 0.0)
    ids = [p.node.node_id for p in passages]
    return Retrieved(dense_top=dense_top or (dense_values[0] if dense_values else 0.0), dense_second=second,
                     dense=[dense_scores.get(i) for i in ids], lexical=[lexical_scores.get(i) for i in ids],
                     lexical_top=max(lexical_scores.values(), default=0.0))


def _bigrams(terms: list[str]) -> set[tuple[str, str]]:
    return set(zip(terms, terms[1:]))


@dataclass
class QuestionTerms:
    terms: list[str]  # in order, repeats removed
    weights: dict[str, float]
    total: float
    rarest: str | None
    bigrams: set[tuple[str, str]]

    @classmethod
    def of(cls, question: str, idf) -> "QuestionTerms":
        ordered = list(dict.fromkeys(tokens(question)))
        weights = {t: idf(t) for t in ordered}
        rarest = max(sorted(weights), key=weights.get) if weights else None
        return cls(ordered, weights, sum(weights.values()) or 1.0, rarest, _bigrams(ordered))

    def coverage(self, found: set[str] | frozenset[str]) -> float:
        return sum(w for t, w in self.weights.items() if t in found) / self.total


def sentence_rows(question: str, passages, candidates: list[ScoredSentence], idf, retrieved: Retrieved,
                  similarities: list[float] | None = None) -> tuple[list[list[float]], QuestionTerms]:
    """One feature row per candidate sentence (``SENTENCE_FEATURES`` order)."""
    q = QuestionTerms.of(question, idf)
    n_terms = max(1, len(q.terms))
    passage_terms: dict[int, set[str]] = {}
    sentence_index: dict[tuple[int, int], int] = {}
    previous_terms: dict[tuple[int, int], frozenset] = {}
    by_passage: dict[int, list[ScoredSentence]] = {}
    for c in candidates:
        by_passage.setdefault(c.passage, []).append(c)
    for i, group in by_passage.items():
        group.sort(key=lambda c: c.start)
        passage_terms[i] = set(tokens(passages[i].node.get_content()))
        for k, c in enumerate(group):
            sentence_index[(i, c.start)] = k
            previous_terms[(i, c.start)] = group[k - 1].terms if k else frozenset()
    dense_floor = min((d for d in retrieved.dense if d is not None), default=retrieved.dense_top) - 0.02
    lexical_top = retrieved.lexical_top or 1.0
    best_similarity = max(similarities, default=0.0) if similarities else 0.0
    rows = []
    for n, c in enumerate(candidates):
        kind = c.answer_type
        sentence_terms = list(dict.fromkeys(tokens(c.text)))
        dense = retrieved.dense[c.passage] if c.passage < len(retrieved.dense) else None
        lexical = retrieved.lexical[c.passage] if c.passage < len(retrieved.lexical) else None
        similarity = similarities[n] if similarities else 0.0
        rows.append([
            q.coverage(c.terms),
            q.coverage(c.terms | previous_terms[(c.passage, c.start)]),
            q.coverage(passage_terms[c.passage]),
            sum(t in c.terms for t in q.terms) / n_terms,
            float(q.rarest is not None and q.rarest in c.terms),
            (len(q.bigrams & _bigrams(sentence_terms)) / len(q.bigrams)) if q.bigrams else 0.0,
            float(kind == 1.0),
            float(kind == 0.0),
            sum(t not in q.weights for t in sentence_terms) / max(1, len(sentence_terms)),
            math.log(1 + len(c.text.split())),
            float(sentence_index[(c.passage, c.start)]),
            math.log(1 + c.passage),
            float(passages[c.passage].score or 0.0),
            retrieved.dense_top - (dense if dense is not None else dense_floor),
            (lexical or 0.0) / lexical_top,
            similarity,
            best_similarity - similarity if similarities else 0.0,
        ])
    return rows, q


def question_row(question: str, passages, chosen: list[ScoredSentence], rows: list[list[float]], logits: list[float],
                 best: int, q: QuestionTerms, retrieved: Retrieved) -> list[float]:
    """The answerability row (``QUESTION_FEATURES`` order) once the first sentence ``best`` is chosen."""
    f = dict(zip(SENTENCE_FEATURES, rows[best])) if rows else {}
    best_passage = chosen[0].passage if chosen else -1
    top_terms = set(tokens(" ".join(p.node.get_content() for p in passages[:3])))
    missing_top = sum(w for t, w in q.weights.items() if not has_term(t, top_terms)) / q.total
    idf_sum = sum(q.weights.values()) or 1.0
    return [
        retrieved.dense_top,
        retrieved.dense_top - retrieved.dense_second,
        retrieved.lexical_top / idf_sum,
        logits[best] if logits else -10.0,
        _logit_margin(logits, rows, best, best_passage),
        f.get("coverage", 0.0),
        f.get("coverage_passage", 0.0),
        f.get("rarest_in", 0.0),
        f.get("bigrams", 0.0),
        f.get("type_missing", 1.0),
        f.get("similarity", 0.0),
        f.get("passage_rank", math.log(9)),
        f.get("passage_dense_gap", 0.2),
        missing_top,
        float(q.rarest is not None and not has_term(q.rarest, top_terms)),
        1.0 - occurrence_found(question, [c.text for c in chosen]),
        math.log(1 + len(q.terms)),
    ]


def _logit_margin(logits: list[float], rows: list[list[float]], best: int, best_passage: int) -> float:
    """How far the first sentence stands above the best sentence of any other passage (2.0 when alone)."""
    rank_col = SENTENCE_FEATURES.index("passage_rank")
    best_rank = rows[best][rank_col] if rows else 0.0
    others = [lg for lg, r in zip(logits, rows) if r[rank_col] != best_rank]
    return min(2.0, logits[best] - max(others)) if others else 2.0
