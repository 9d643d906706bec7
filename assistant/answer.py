"""Answers: the data a user gets back, and the extractive composer (no language model needed).

The extractive composer picks, from the retrieved passages, the sentences that best cover the
question's terms, drops repeats, orders them, and cites each one with its passage ``[n]``.
"""
from __future__ import annotations

import math
import re
from dataclasses import asdict, dataclass, field

from llama_index.core.schema import NodeWithScore

from assistant.refusal import expected_type_found, preceding
from veille.text import split_sentences, tokens


@dataclass
class Citation:
    n: int
    doc_id: str
    chunk_id: str
    title: str
    doc_type: str
    date: str | None
    source: str
    quote: str  # the cited passage
    score: float
    url: str | None = None
    site: str | None = None
    sentence: str = ""  # the sentence of the passage that supports the answer
    char_start: int | None = None  # passage offsets in the document text
    char_end: int | None = None
    page: int | None = None  # first page of the passage (paged formats: PDF, multi-page scans)
    page_end: int | None = None
    ocr: bool = False  # the text was read from a scan by OCR

    def pages_label(self) -> str:
        """« p. 12 », « p. 12-13 », and « (OCR) » for text read from a scan; empty when unpaged."""
        pages = "" if not self.page else f"p. {self.page}" + (
            f"-{self.page_end}" if self.page_end and self.page_end != self.page else "")
        return " ".join(x for x in (pages, "(OCR)" if self.ocr else "") if x)

    def link(self) -> str | None:
        """The original online, opened at the passage's page (``#page=12``, read by browsers' PDF viewers)."""
        url = next((u for u in (self.url, self.source) if u and u.startswith(("http://", "https://"))), None)
        if url and self.page and "#" not in url:
            return f"{url}#page={self.page}"
        return url


@dataclass
class Answer:
    question: str
    answer: str
    refused: bool
    citations: list[Citation] = field(default_factory=list)
    timings_ms: dict[str, float] = field(default_factory=dict)
    standalone_question: str | None = None
    filters: dict = field(default_factory=dict)
    mode: str = "extractif"
    notice: str | None = None
    confidence: float = 0.0
    evidence: dict = field(default_factory=dict)  # the answerability features behind ``confidence``
    filter_note: str | None = None  # French: which filter a time expression of the question added
    flagged: list[dict] = field(default_factory=list)  # generated sentences whose citations failed verification

    def as_json(self) -> dict:
        data = asdict(self)
        data["timings_ms"] = {k: round(v, 2) for k, v in self.timings_ms.items()}
        return data


REFUSAL = ("Le corpus ne contient pas d'information permettant de répondre à cette question. "
           "Essayez d'autres termes, élargissez la période ou retirez des filtres.")


@dataclass
class ScoredSentence:
    passage: int  # index into the passage list
    start: int
    end: int
    text: str
    score: float
    terms: frozenset


def _answer_type_bonus(question: str, sentence: str, context: str) -> float:
    """Questions of time, quantity and person look for sentences holding a date, a number, a name, beside
    what is asked about: the same test the refusal applies to the chosen sentences (refusal.py)."""
    return 0.15 if expected_type_found(question, [sentence], [context]) == 1.0 else 0.0


def _is_heading_like(sentence: str) -> bool:
    """A title line states no fact: short and without end punctuation."""
    return len(sentence.split()) < 14 and not re.search(r"[.!?…:;»)\]]\s*$", sentence)


def sentence_candidates(question: str, passages: list[NodeWithScore], idf) -> list[ScoredSentence]:
    q_terms = set(tokens(question))
    if not q_terms:
        return []
    weights = {t: idf(t) for t in q_terms}
    total = sum(weights.values()) or 1.0
    out = []
    for i, nws in enumerate(passages):
        text = nws.node.get_content()
        rank_prior = 1.0 / (1.0 + 0.25 * i)
        for start, end in split_sentences(text):
            sentence = text[start:end]
            if len(sentence.split()) < 4 or _is_heading_like(sentence):
                continue
            s_terms = frozenset(tokens(sentence))
            coverage = sum(weights[t] for t in q_terms & s_terms) / total
            score = 0.7 * coverage + 0.3 * rank_prior + _answer_type_bonus(question, sentence, preceding(text, start))
            out.append(ScoredSentence(i, start, end, sentence, score, s_terms))
    return out


def select_sentences(candidates: list[ScoredSentence], max_sentences: int = 4,
                     min_ratio: float = 0.55) -> list[ScoredSentence]:
    """Best sentences, no near-duplicates, each at least ``min_ratio`` of the best score."""
    ranked = sorted(candidates, key=lambda s: s.score, reverse=True)
    chosen: list[ScoredSentence] = []
    for cand in ranked:
        if chosen and cand.score < ranked[0].score * min_ratio:
            break
        if any(_jaccard(cand.terms, c.terms) > 0.6 for c in chosen):
            continue
        chosen.append(cand)
        if len(chosen) >= max_sentences:
            break
    return sorted(chosen, key=lambda s: (s.passage, s.start))


def _jaccard(a: frozenset, b: frozenset) -> float:
    return len(a & b) / max(1, len(a | b))


def query_coverage(question: str, sentences: list[ScoredSentence], idf) -> float:
    """Share (idf-weighted) of the question's terms found in the chosen sentences."""
    q_terms = set(tokens(question))
    if not q_terms:
        return 0.0
    found = set().union(*[s.terms for s in sentences]) if sentences else set()
    weights = {t: idf(t) for t in q_terms}
    return sum(w for t, w in weights.items() if t in found) / (sum(weights.values()) or 1.0)


def make_idf(store):
    """IDF from the lexical index's own vocabulary (fts5vocab), cached per call site."""
    db = store.db
    db.execute("CREATE VIRTUAL TABLE IF NOT EXISTS temp.chunks_vocab USING fts5vocab(main, chunks_fts, 'row')")
    n_docs = db.execute("SELECT count(*) FROM chunks").fetchone()[0] or 1
    cache: dict[str, float] = {}

    def idf(term: str) -> float:
        if term not in cache:
            row = db.execute("SELECT doc FROM temp.chunks_vocab WHERE term=?", (term,)).fetchone()
            df = row[0] if row else 0
            cache[term] = math.log(1 + (n_docs - df + 0.5) / (df + 0.5))
        return cache[term]

    return idf
