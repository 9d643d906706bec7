"""Citation verification for generated answers: every ``[n]`` must point at a passage that supports
its sentence, or it is removed.

A citation is dropped when the passage does not exist (an invented ``[9]``), when the sentence states a
number, a date or a named entity the passage does not contain, or when the sentence and the passage
are too far apart (lexical overlap of French terms, then, in the grey zone, embedding similarity).
A sentence left without any supported citation is flagged and taken out of the answer; an answer
left with no supported sentence becomes a refusal (decided by the caller).
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field

import numpy as np

from veille.dates import MONTH_NAMES
from veille.text import fold, split_sentences, tokens

_MARKS = re.compile(r"\s*\[(\d+(?:\s*[,;]\s*\d+)*)\]")
_LEADING_MARKS = re.compile(r"^(?:\s*\[\d+(?:\s*[,;]\s*\d+)*\])+")
_NUMBER = re.compile(r"\d+(?:[ \u00a0\u202f.,]\d+)*")
MONTHS = tuple(fold(m) for m in MONTH_NAMES)
# Capitalised words that are not names (sentence openers, titles of address, generic nouns).
_NOT_ENTITIES = {fold(w) for w in (
    "Le", "La", "Les", "L", "Un", "Une", "Des", "Du", "De", "Ce", "Cette", "Ces", "Il", "Elle", "Ils", "Elles",
    "En", "Au", "Aux", "Selon", "Par", "Pour", "Dans", "Sur", "Avec", "Depuis", "Entre", "Ainsi", "Enfin",
    "Et", "Mais", "Ou", "Donc", "Or", "Ni", "Car", "On", "Nous", "Vous", "Je", "Son", "Sa", "Ses", "Leur",
    "M", "Mme", "Mmes", "MM", "Dr", "Pr", "A", "À", "Veille", "Oui", "Non")}
_ENTITY = re.compile(r"\b(?:[A-ZÀ-ÖØ-Þ][\w’'@-]*)(?:\s+(?:d[eu]s?\s+|de\s+la\s+|l['’])?[A-ZÀ-ÖØ-Þ][\w’'@-]*)*")


@dataclass
class CheckedSentence:
    text: str  # the sentence, citation marks removed
    cited: list[int]  # passage numbers as generated (1-based)
    kept: list[int] = field(default_factory=list)  # those that support it
    dropped: dict[int, str] = field(default_factory=dict)  # number -> French reason
    support: dict[int, str] = field(default_factory=dict)  # number -> best supporting sentence of the passage

    @property
    def supported(self) -> bool:
        return bool(self.kept)


@dataclass
class Verification:
    sentences: list[CheckedSentence]

    @property
    def supported(self) -> list[CheckedSentence]:
        return [s for s in self.sentences if s.supported]

    @property
    def flagged(self) -> list[CheckedSentence]:
        return [s for s in self.sentences if s.dropped or not s.supported]

    def summary(self) -> dict[str, int]:
        cites = [n for s in self.sentences for n in s.cited]
        return {"phrases": len(self.sentences), "phrases_etayees": len(self.supported),
                "citations": len(cites), "citations_gardees": sum(len(s.kept) for s in self.sentences),
                "citations_inventees": sum(1 for s in self.sentences for r in s.dropped.values()
                                           if r.startswith("passage inexistant"))}


def split_cited_sentences(text: str) -> list[tuple[str, list[int]]]:
    """Sentences of a generated answer with the passage numbers each one cites.

    Marks written after the full stop ("… en 2019. [2]") belong to the sentence before them."""
    out: list[tuple[str, list[int]]] = []
    for line in text.splitlines():
        line = line.strip().lstrip("-*•").strip()
        if not line:
            continue
        for start, end in split_sentences(line):
            piece = line[start:end]
            lead = _LEADING_MARKS.match(piece)
            if lead and out:
                out[-1][1].extend(_numbers(lead.group()))
                piece = piece[lead.end():]
            nums = _numbers(piece)
            clean = _MARKS.sub("", piece).strip()
            clean = re.sub(r"\s+([.,;:!?])", r"\1", clean)
            if clean:
                out.append((clean, nums))
            elif out:
                out[-1][1].extend(nums)
    return out


def _numbers(text: str) -> list[int]:
    return [int(n) for group in _MARKS.findall(text) for n in re.split(r"\s*[,;]\s*", group)]


def _norm_number(raw: str) -> str:
    return re.sub(r"[ \u00a0\u202f.]", "", raw).replace(",", ".")


def facts(sentence: str) -> tuple[set[str], set[str], set[str]]:
    """Numbers, month names and named entities stated by a sentence (folded)."""
    numbers = {_norm_number(m) for m in _NUMBER.findall(sentence)}
    folded = fold(sentence)
    months = {m for m in MONTHS if re.search(rf"\b{m}\b", folded)}
    entities = set()
    for m in _ENTITY.finditer(sentence):
        words = [w for w in re.split(r"\s+", m.group()) if fold(w).strip("’'") not in _NOT_ENTITIES]
        if not words:
            continue
        if m.start() == 0 and len(words) == 1 and not words[0].isupper():
            continue  # a capitalised first word is usually just the sentence start
        for w in words:
            w = w.strip("’'-")
            if len(w) > 1 and fold(w) not in _NOT_ENTITIES and w[:1].isupper():
                entities.add(fold(re.sub(r"^(?:l|d|qu)['’]", "", w, flags=re.I)))
    return numbers, months, entities


@dataclass
class Verifier:
    embedder: object | None = None  # optional: used only in the lexical grey zone
    min_overlap: float = 0.5  # share of the sentence's terms found in the passage: supported
    grey_overlap: float = 0.25  # below: unsupported; between: ask the embedding model
    min_cosine: float = 0.86  # e5 cosine sentence/passage-sentence (~0.75 unrelated, ~0.9 paraphrase)

    def verify(self, text: str, passages: list[str]) -> Verification:
        checked = []
        for sentence, cited in split_cited_sentences(text):
            item = CheckedSentence(sentence, list(dict.fromkeys(cited)))
            for n in item.cited:
                if not 1 <= n <= len(passages):
                    item.dropped[n] = f"passage inexistant [{n}]"
                    continue
                reason, best = self.check(sentence, passages[n - 1])
                if reason:
                    item.dropped[n] = reason
                else:
                    item.kept.append(n)
                    item.support[n] = best
            checked.append(item)
        return Verification(checked)

    def check(self, sentence: str, passage: str) -> tuple[str | None, str]:
        """(None, best passage sentence) when the passage supports the sentence, else (French reason, "")."""
        p_folded = fold(passage)
        p_numbers = {_norm_number(m) for m in _NUMBER.findall(passage)}
        numbers, months, entities = facts(sentence)
        missing = sorted(numbers - p_numbers)
        if missing:
            return f"nombre absent du passage : {', '.join(missing)}", ""
        missing = sorted(m for m in months if not re.search(rf"\b{m}\b", p_folded))
        if missing:
            return f"date absente du passage : {', '.join(missing)}", ""
        missing = sorted(e for e in entities if e not in p_folded)
        if missing:
            return f"nom absent du passage : {', '.join(missing)}", ""
        s_terms = set(tokens(sentence))
        spans = [passage[a:b] for a, b in split_sentences(passage)] or [passage]
        best = max(spans, key=lambda s: len(s_terms & set(tokens(s))))
        if not s_terms:
            return None, best
        overlap = len(s_terms & set(tokens(passage))) / len(s_terms)
        if overlap >= self.min_overlap:
            return None, best
        if overlap >= self.grey_overlap and self.embedder is not None:
            vectors = np.asarray(self.embedder.embed_queries([sentence] + spans))
            cosine = float((vectors[1:] @ vectors[0]).max())
            if cosine >= self.min_cosine:
                return None, spans[int((vectors[1:] @ vectors[0]).argmax())]
            return f"sens trop éloigné du passage (similarité {cosine:.2f})", ""
        return f"trop peu de termes communs avec le passage ({overlap:.0%})", ""
