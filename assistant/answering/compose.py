"""The extractive composer (no language model needed): from the retrieved passages, the sentences that best
cover the question's terms — with a bonus for those holding the kind of answer asked for — without repeats,
in document order. Its ``Draft`` is what the refusal policy judges and what the answer quotes."""
from __future__ import annotations

import re
from dataclasses import dataclass

from assistant.answering.question import expected_type_found, preceding
from assistant.search.retrieve import Retrieval
from veille.passage import ScoredPassage
from veille.store.corpus import TermStats
from veille.text import split_sentences, tokens


@dataclass
class ScoredSentence:
    passage: int  # index into the passage list
    start: int
    end: int
    text: str
    score: float
    terms: frozenset
    # The kind of answer asked for (a date, a number, a name) beside what is asked about: 1 there, 0 absent,
    # 0.5 when the question asks for no kind (``expected_type_found``, the refusal's own test). Computed once
    # here; the score's bonus and the learned models' features both read it.
    answer_type: float = 0.5


# Questions of time, quantity and person look for sentences holding a date, a number, a name.
ANSWER_TYPE_BONUS = 0.15


def _is_heading_like(sentence: str) -> bool:
    """A title line states no fact: short and without end punctuation."""
    return len(sentence.split()) < 14 and not re.search(r"[.!?…:;»)\]]\s*$", sentence)


def _is_question(sentence: str) -> bool:
    """A question asks, it does not answer: FAQ entry titles and headings (« Que peut financer un crédit
    immobilier ? ») are never quoted as the answer."""
    return sentence.rstrip(" »\"'”)").endswith("?")


# A sentence that leans on the one before it means nothing alone: it opens with an ellipsis (« …accompagne le
# projet »: the start was cut), with a pronoun whose antecedent is in the previous sentence (« Ce dernier »,
# « Elle »; not the impersonal « Il y a », « Il faut »), or with a link to it (« Toutefois », « En outre »). Rule:
# it is quoted together with the sentences before it in its paragraph back to one that stands alone, and not
# at all when nothing stands alone before it there (it opens its passage or its paragraph).
_LEANS = re.compile(
    r"(?:…|\.\.\.|\[…\]|\(…\))|(?i:(?:il|ils|elle|elles|celui-ci|celle-ci|ceux-ci|celles-ci|cela|ceci|ce dernier|"
    r"cette dernière|ces derniers|ces dernières|en outre|par ailleurs|toutefois|cependant|néanmoins|pourtant|"
    r"de plus|de même|d['’]autre part|en revanche|or|mais|donc)\b(?!['’-]))(?!(?i:\s+(?:y\s+a|existe|faut|"
    r"convient|s['’]agit|est\s+(?:\w+\s+)?(?:de|d['’]|que|qu['’]))\b))")
_LEANS_LIMIT = 2  # sentences added before one that leans, at most (« Ce dernier… » after « Elle… »)
# Greetings, sign-offs and covering formulas (« Bonjour à tous, », « Vous trouverez en pièce jointe la note… »)
# are the wrapping of a message, not answer material.
_FILLER = re.compile(
    r"(?i:(?:chers?|chères?|madame|monsieur|mesdames|messieurs)(?:\s+[\w'’-]+){0,3}\s*,|"
    r"(?:bonjour|bonsoir|salut|cordialement|bien à vous|merci (?:de|d['’]|pour|à)|n['’]hésitez pas|"
    r"vous trouverez|veuillez trouver|je vous (?:prie|remercie|adresse|transmets|informe)|"
    r"nous vous (?:prions|remercions|adressons|transmettons|informons)|ci-joint|ci-dessous|"
    r"en pièce jointe|pièce jointe)\b)")


def leans_on_previous(sentence: str) -> bool:
    return bool(_LEANS.match(sentence.lstrip(" «“\"(")))


def is_filler(sentence: str) -> bool:
    return bool(_FILLER.match(sentence.lstrip(" «“\"(-–•")))


def _heading_line(text: str, start: int, end: int) -> bool:
    """The sentence is a whole line standing alone (a blank line after it), short and without a full stop: a
    heading, even ending in « … » (« Malgré les acquis réalisés… »)."""
    line_start = text.rfind("\n", 0, start) + 1
    line_end = text.find("\n", end)
    line_end = len(text) if line_end < 0 else line_end
    return (not text[line_start:start].strip() and not text[end:line_end].strip()
            and (line_end == len(text) or text.startswith("\n\n", line_end) or not text[line_end + 1:].strip())
            and len(text[start:end].split()) < 14 and not re.search(r"[.!?;:»)\]]\s*$", text[start:end]))


def with_antecedent(text: str, spans: list[tuple[int, int]], i: int) -> int | None:
    """Where sentence ``i`` starts once given with the sentences it leans on (None: nothing to lean on)."""
    start = spans[i][0]
    for j in range(i - 1, max(-1, i - 1 - _LEANS_LIMIT), -1):
        prev_start, prev_end = spans[j]
        if "\n\n" in text[prev_end:start] or _heading_line(text, prev_start, prev_end) \
                or is_filler(text[prev_start:prev_end]):
            return None
        start = prev_start
        if not leans_on_previous(text[prev_start:prev_end]):
            return start
    return None


def sentence_candidates(question: str, passages: list[ScoredPassage], idf) -> list[ScoredSentence]:
    q_terms = set(tokens(question))
    if not q_terms:
        return []
    weights = {t: idf(t) for t in q_terms}
    total = sum(weights.values()) or 1.0
    out = []
    for i, nws in enumerate(passages):
        text = nws.node.get_content()
        rank_prior = 1.0 / (1.0 + 0.25 * i)
        spans = split_sentences(text)
        for k, (start, end) in enumerate(spans):
            sentence = text[start:end]
            if (len(sentence.split()) < 4 or _is_heading_like(sentence) or _is_question(sentence)
                    or is_filler(sentence) or _heading_line(text, start, end)):
                continue
            if leans_on_previous(sentence):
                start = with_antecedent(text, spans, k)
                if start is None:
                    continue
                sentence = text[start:end]
            s_terms = frozenset(tokens(sentence))
            coverage = sum(weights[t] for t in q_terms & s_terms) / total
            answer_type = expected_type_found(question, [sentence], [preceding(text, start)])
            score = 0.7 * coverage + 0.3 * rank_prior + (ANSWER_TYPE_BONUS if answer_type == 1.0 else 0.0)
            out.append(ScoredSentence(i, start, end, sentence, score, s_terms, answer_type))
    return out


def select_sentences(candidates: list[ScoredSentence], max_sentences: int = 4,
                     min_ratio: float = 0.55) -> list[ScoredSentence]:
    """Best sentences, no near-duplicates, each at least ``min_ratio`` of the best score."""
    ranked = sorted(candidates, key=lambda s: s.score, reverse=True)
    chosen: list[ScoredSentence] = []
    for cand in ranked:
        if chosen and cand.score < ranked[0].score * min_ratio:
            break
        if any(jaccard(cand.terms, c.terms) > 0.6 or _overlap(cand, c) for c in chosen):
            continue
        chosen.append(cand)
        if len(chosen) >= max_sentences:
            break
    return sorted(chosen, key=lambda s: (s.passage, s.start))


def _overlap(a: ScoredSentence, b: ScoredSentence) -> bool:
    """Two candidates sharing a sentence (one given with the sentence it leans on, and that sentence)."""
    return a.passage == b.passage and a.start < b.end and b.start < a.end


def jaccard(a: frozenset, b: frozenset) -> float:
    return len(a & b) / max(1, len(a | b))


def query_coverage(question: str, sentences: list[ScoredSentence], idf) -> float:
    """Share (idf-weighted) of the question's terms found in the chosen sentences."""
    q_terms = set(tokens(question))
    if not q_terms:
        return 0.0
    found = set().union(*[s.terms for s in sentences]) if sentences else set()
    weights = {t: idf(t) for t in q_terms}
    return sum(w for t, w in weights.items() if t in found) / (sum(weights.values()) or 1.0)


@dataclass
class Draft:
    """The composer's proposal for one question: its candidate sentences and the ones it would quote."""
    question: str
    passages: list[ScoredPassage]
    candidates: list[ScoredSentence]
    chosen: list[ScoredSentence]
    coverage: float  # idf-weighted share of the question's terms in the chosen sentences
    stats: TermStats  # the term weights used (the asker's audience)
    ranking: object = None  # a learned composer's sentence scores, read by its policy (assistant/answerability)

    @property
    def best_score(self) -> float:
        return max((c.score for c in self.candidates), default=0.0)


@dataclass
class ExtractiveComposer:
    max_sentences: int = 4
    min_ratio: float = 0.55

    def draft(self, question: str, retrieval: Retrieval, stats: TermStats) -> Draft:
        passages = retrieval.passages
        candidates = sentence_candidates(question, passages, stats)
        chosen = select_sentences(candidates, self.max_sentences, self.min_ratio)
        return Draft(question, passages, candidates, chosen, query_coverage(question, chosen, stats), stats)
