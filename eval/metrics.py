"""Retrieval, answer and cost metrics: plain functions over ranked ids and answers."""
from __future__ import annotations

import math
import re
import statistics
import unicodedata
from dataclasses import dataclass


def dedupe(units: list[str]) -> list[str]:
    """Ranked units with repeats removed (several passages of one gold document count once)."""
    seen, out = set(), []
    for u in units:
        if u not in seen:
            seen.add(u)
            out.append(u)
    return out


def first_hit_rank(ranked: list[str], gold: set[str]) -> int | None:
    for i, unit in enumerate(ranked, start=1):
        if unit in gold:
            return i
    return None


def retrieval_scores(ranked_units: list[str], gold: set[str], ks: tuple[int, ...] = (1, 5, 10)) -> dict[str, float]:
    """hit@k, MRR@10, nDCG@10 (binary gain over deduplicated units) and recall@k for one question."""
    ranked = dedupe(ranked_units)
    rank = first_hit_rank(ranked, gold)
    scores = {f"hit@{k}": float(rank is not None and rank <= k) for k in ks}
    scores["mrr@10"] = 1.0 / rank if rank and rank <= 10 else 0.0
    dcg = sum(1.0 / math.log2(i + 1) for i, u in enumerate(ranked[:10], start=1) if u in gold)
    ideal = sum(1.0 / math.log2(i + 1) for i in range(1, min(len(gold), 10) + 1))
    scores["ndcg@10"] = dcg / ideal if ideal else 0.0
    for k in (5, 10):
        scores[f"recall@{k}"] = len(set(ranked[:k]) & gold) / len(gold) if gold else 0.0
    return scores


def mean_scores(rows: list[dict[str, float]]) -> dict[str, float]:
    if not rows:
        return {}
    keys = rows[0].keys()
    return {k: round(sum(r[k] for r in rows) / len(rows), 4) for k in keys}


def percentile(values: list[float], p: float) -> float:
    if not values:
        return 0.0
    if len(values) == 1:
        return values[0]
    return statistics.quantiles(values, n=100, method="inclusive")[int(p) - 1]


def latency_summary(per_stage: dict[str, list[float]]) -> dict[str, float]:
    out = {}
    for stage, values in per_stage.items():
        out[f"{stage}_p50_ms"] = round(percentile(values, 50), 2)
        out[f"{stage}_p95_ms"] = round(percentile(values, 95), 2)
    return out


# --- answers -------------------------------------------------------------------------------------

def fold(text: str) -> str:
    """Lower-case, accent-free, typographic quotes/apostrophes and spaces unified: for containment tests."""
    text = unicodedata.normalize("NFKD", text)
    text = "".join(c for c in text if not unicodedata.combining(c))
    text = text.replace("’", "'").replace("‘", "'").replace("«", '"').replace("»", '"').replace("\u00a0", " ")
    return re.sub(r"\s+", " ", text.lower()).strip()


def element_found(element: str, text: str) -> bool:
    """An expected element, with alternatives separated by ``|``, is found in the text (folded)."""
    folded = fold(text)
    return any(fold(alt) in folded for alt in element.split("|") if alt.strip())


def coverage(elements: list[str], text: str) -> float:
    if not elements:
        return 1.0
    return sum(element_found(e, text) for e in elements) / len(elements)


_CITED = re.compile(r"(.+?)\s*\[(\d+(?:\s*,\s*\d+)*)\]\s*", re.S)
_NUMBER = re.compile(r"\d+(?:[.,]\d+)*")
# Capitalised words not at the start of the sentence, as a stand-in for named entities (no NER model here).
_ENTITY = re.compile(r"(?<=[\s(«\"'’-])([A-ZÀ-Ý][\w'’@-]+)")


def cited_sentences(answer_text: str) -> list[tuple[str, list[int]]]:
    return [(m.group(1).strip(), [int(n) for n in re.split(r"\s*,\s*", m.group(2))])
            for m in _CITED.finditer(answer_text)]


def sentence_supported(sentence: str, quote: str) -> bool:
    """The cited passage contains what the sentence says: the sentence itself is in the quote, and so are
    each of its numbers and named entities (checked separately, so a re-worded answer is judged fairly)."""
    q = fold(quote)
    if fold(sentence) in q:
        return True
    facts = _NUMBER.findall(sentence) + _ENTITY.findall(sentence)
    if not facts:
        return False
    return all(fold(f) in q for f in facts) and _word_overlap(sentence, quote) >= 0.8


def _word_overlap(sentence: str, quote: str) -> float:
    words = [w for w in re.findall(r"\w+", fold(sentence)) if len(w) > 3]
    if not words:
        return 0.0
    q = set(re.findall(r"\w+", fold(quote)))
    return sum(w in q for w in words) / len(words)


@dataclass
class CitationCheck:
    sentences: int
    supported: int


def check_citations(answer_text: str, quotes: dict[int, str]) -> CitationCheck:
    pairs = cited_sentences(answer_text)
    supported = sum(1 for sentence, ns in pairs
                    if any(sentence_supported(sentence, quotes.get(n, "")) for n in ns))
    return CitationCheck(len(pairs), supported)


def refusal_scores(refused: list[bool], unanswerable: list[bool]) -> dict[str, float]:
    """Positive class = "refuse": precision over refusals, recall over the unanswerable questions."""
    tp = sum(r and u for r, u in zip(refused, unanswerable))
    fp = sum(r and not u for r, u in zip(refused, unanswerable))
    fn = sum((not r) and u for r, u in zip(refused, unanswerable))
    answerable = sum(not u for u in unanswerable)
    return {"refusal_precision": round(tp / (tp + fp), 4) if tp + fp else 0.0,
            "refusal_recall": round(tp / (tp + fn), 4) if tp + fn else 0.0,
            "false_refusal_rate": round(fp / answerable, 4) if answerable else 0.0}
