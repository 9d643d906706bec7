"""The reader in the answer path: which retrieved passage states the answer, where, and does any?

The reader (``veille/reader.py``, trained on PIAF's training questions by ``python -m eval.train_reader``) reads
the question with each of the best ``READ_PASSAGES`` retrieved passages and gives, per passage, the calibrated
probability that it states the answer, the probability that it speaks of the question's subject, and the
answer span. Three outcomes follow (``Decision.status``):
- ``answer``: the best passage states the answer: the answer opens with the sentence holding the span;
- ``partial``: no passage states it, some speak of the subject: « pas de réponse précise », then what comes
  closest, cited;
- ``none``: nothing relevant.
"""
from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path

from assistant.answering.compose import (Draft, ExtractiveComposer, ScoredSentence, jaccard, leans_on_previous,
                                         with_antecedent)
from assistant.answerability.consensus import ConsensusPolicy
from assistant.answerability.policy import Decision
from assistant.search.retrieve import Retrieval
from veille.config import Settings
from veille.embeddings import resolve_model_path
from veille.reader import READER_PATH, Reader, Reading, load_reader
from veille.store.corpus import TermStats
from veille.text import split_sentences, tokens

READ_PASSAGES = 4  # passages read per question (one or two windows each): ~25 ms a window on this CPU
MAX_RELATED = 3  # passages quoted under « Ce qui s'en approche »


@dataclass
class ReaderVerdict:
    """What the reader made of the retrieved passages, handed from the composer to the policy."""
    readings: list[Reading]  # one per read passage, in retrieval order
    best: int | None  # index of the passage most likely to state the answer
    span: tuple[int, int, int] | None = None  # (passage, start, end) of the answer in the passage's text
    related: list[int] = field(default_factory=list)  # passages on the subject, most relevant first
    extractive: Draft | None = None  # the sentences the consensus would quote, from the same retrieval

    @property
    def answers(self) -> float:
        return self.readings[self.best].answers if self.best is not None else 0.0

    @property
    def relevant(self) -> float:
        return max((r.relevant for r in self.readings), default=0.0)


@dataclass(frozen=True)
class ReaderEvidence:
    values: dict

    def as_dict(self) -> dict:
        return dict(self.values)


def load_reader_for(settings: Settings, weights: Path = READER_PATH) -> Reader:
    model_dir = Path(resolve_model_path("e5-small", settings)[0])
    return load_reader(model_dir, Path(weights), settings.models_dir, settings.threads)


def sentence_around(text: str, start: int, end: int) -> tuple[int, int]:
    """The sentence(s) of ``text`` holding characters ``start``..``end``."""
    spans = split_sentences(text) or [(0, len(text))]
    first = next((s for s in spans if s[0] <= start < s[1]), None) or min(spans, key=lambda s: abs(s[0] - start))
    last = next((s for s in spans if s[0] < end <= s[1]), first)
    if leans_on_previous(text[first[0]:first[1]]):  # « Ce dernier… »: given with the sentence it leans on
        lead = with_antecedent(text, spans, spans.index(first))
        first = (lead, first[1]) if lead is not None else first
    if "\n" in text[first[0]:last[1]]:  # a span across a heading or a list: its first line only
        return first
    return first[0], max(first[1], last[1])


_OPENING_RESIDUE = re.compile(r"^[\s.,;:!?)\]»•·*#>|–—-]+")


def clean_opening(sentence: str) -> str:
    """A quoted sentence never opens on punctuation or list residue (« . la « Rencontre… »)."""
    return _OPENING_RESIDUE.sub("", sentence).strip()


@dataclass
class ReaderComposer:
    """Reads the best retrieved passages; the draft opens with the sentence holding the best span."""
    reader: Reader
    read_passages: int = READ_PASSAGES
    threshold: float = 0.5

    @classmethod
    def from_settings(cls, settings: Settings) -> "ReaderComposer":
        return cls(load_reader_for(settings), threshold=gate_thresholds(settings).alone)

    def draft(self, question: str, retrieval: Retrieval, stats: TermStats) -> Draft:
        passages = retrieval.passages
        extractive = ExtractiveComposer().draft(question, retrieval, stats)
        candidates = extractive.candidates
        read = passages[: self.read_passages]
        focus = []
        for i in range(len(read)):
            own = [c for c in candidates if c.passage == i]
            focus.append(max(own, key=lambda c: c.score).start if own else None)
        readings = self.reader.read(question, [p.node.get_content() for p in read], focus) if read else []
        best = max(range(len(readings)), key=lambda k: readings[k].answers) if readings else None
        verdict = ReaderVerdict(readings, best, extractive=extractive)
        chosen: list[ScoredSentence] = []
        if best is not None and readings[best].span:
            a, b = readings[best].span
            verdict.span = (best, a, b)
            chosen.append(self._sentence(read, best, a, b, readings[best].answers))
            # Other passages that state the answer too (a copy, a second source), each by its span's sentence.
            for k in sorted(range(len(readings)), key=lambda k: -readings[k].answers):
                r = readings[k]
                if k == best or r.answers < max(self.threshold, 0.8 * readings[best].answers) or len(chosen) >= 3:
                    continue
                extra = self._sentence(read, k, *r.span, r.answers)
                if all(jaccard(extra.terms, c.terms) <= 0.6 for c in chosen):
                    chosen.append(extra)
        verdict.related = sorted(range(len(readings)), key=lambda k: -readings[k].relevant)[:MAX_RELATED]
        draft = Draft(question, passages, candidates, chosen, 0.0, stats)
        draft.ranking = verdict
        return draft

    @classmethod
    def sentence_of(cls, passages, k: int, reading: Reading) -> ScoredSentence:
        """The sentence of passage ``k`` holding the reader's best span: for a passage that does not
        answer, the part of it closest to the question."""
        return cls._sentence(passages, k, *reading.span, reading.answers)

    @staticmethod
    def _sentence(read, k: int, a: int, b: int, score: float) -> ScoredSentence:
        text = read[k].node.get_content()
        start, end = sentence_around(text, a, b)
        raw = text[start:end]
        cleaned = clean_opening(raw)
        residue = _OPENING_RESIDUE.match(raw)
        start += residue.end() if residue else 0
        return ScoredSentence(k, start, start + len(cleaned), cleaned, score, frozenset(tokens(cleaned)))


@dataclass(frozen=True)
class GateThresholds:
    """The reader gating the consensus (both chosen on PIAF's training split by ``eval.tune_reader``)."""
    veto: float  # a consensus answer stands only when the reader gives it at least this probability
    alone: float  # from this probability up, the reader answers alone (its span's sentence first)


def gate(consensus_answers: bool, reader_answers: float, thresholds: GateThresholds) -> str | None:
    """Which answer is given: ``"reader"``'s, ``"consensus"``' or none (then « partial » or nothing found)."""
    if reader_answers >= thresholds.alone:
        return "reader"
    if consensus_answers and reader_answers >= thresholds.veto:
        return "consensus"
    return None


THRESHOLDS_PATH = Path(__file__).with_name("reader.json")  # chosen by ``python -m eval.tune_reader``


def stored_thresholds(path: Path = THRESHOLDS_PATH) -> dict:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}


def gate_thresholds(settings: Settings) -> GateThresholds:
    """The thresholds chosen on PIAF's training split; ``VEILLE_REFUSAL_THRESHOLD`` makes the reader decide
    alone at that bar (the evaluation asks at 0 to see every answer the reader would give)."""
    if settings.refusal_threshold is not None:
        return GateThresholds(settings.refusal_threshold, settings.refusal_threshold)
    stored = stored_thresholds()
    gated = stored.get("gate") or {}
    alone = float(stored.get("threshold", 0.5))
    return GateThresholds(float(gated.get("veto", alone)), float(gated.get("alone", alone)))


def related_threshold() -> float:
    return float(stored_thresholds().get("related_threshold", 0.5))


@dataclass(frozen=True)
class ReaderPolicy:
    """The reader gates the consensus (``gate``): the reader answers alone when sure; a consensus answer
    stands when the reader does not veto it; otherwise « partial » when some read passage speaks of the
    subject, else nothing found. The confidence shown is the reader's calibrated probability."""
    thresholds: GateThresholds
    related_threshold: float
    consensus: ConsensusPolicy | None  # None: the reader decides alone (``VEILLE_REFUSAL_THRESHOLD``)

    @classmethod
    def from_settings(cls, settings: Settings) -> "ReaderPolicy":
        alone = settings.refusal_threshold is not None
        return cls(gate_thresholds(settings), related_threshold(),
                   None if alone else ConsensusPolicy.from_settings(settings.with_(refusal_threshold=None)))

    def decide(self, draft: Draft, retrieval: Retrieval) -> Decision:
        verdict: ReaderVerdict = draft.ranking
        answers = verdict.answers if verdict.best is not None and draft.chosen else 0.0
        consensus_answers = (self.consensus is not None and verdict.extractive is not None
                             and self.consensus.decide(verdict.extractive, retrieval).answer)
        evidence = ReaderEvidence({"reader_answers": round(verdict.answers, 4),
                                   "reader_relevant": round(verdict.relevant, 4),
                                   "consensus_answers": consensus_answers,
                                   "dense_top": round(float(retrieval.dense_top), 4)})
        source = gate(consensus_answers, answers, self.thresholds)
        if source == "reader":
            return Decision(True, answers, evidence, status="answer")
        if source == "consensus":
            verdict.extractive.ranking = verdict  # the span is marked where the consensus quotes its sentence
            return Decision(True, answers, evidence, status="answer", draft=verdict.extractive)
        related = [k for k in verdict.related if verdict.readings[k].relevant >= self.related_threshold]
        if related:
            return Decision(False, answers, evidence, status="partial", related=tuple(related))
        return Decision(False, answers, evidence, forced=not draft.chosen, status="none")


_COPULA = re.compile(r"^(?:quel(?:le)?s?)\s+(?:est|sont|était|étaient|sera|seront|fut|furent)\s+(.+)$", re.I)
_INVERTED = re.compile(r"-(?:t-)?(?:il|elle|ils|elles|on|je|tu|nous|vous)\b|^est-ce|^qu'est|^peut-on|^faut-il", re.I)
_PRONOUN = re.compile(r"\b([\w']+)-(?:t-)?(il|elle|ils|elles|on)\b", re.I)
_SUBJECT_BEFORE = re.compile(r"\b(?:le|la|les|l'|un|une|des|du|ce|cet|cette|ces|son|sa|ses|leur|leurs|[A-Z][\w'’-]+)\b")


def _uninverted(q: str) -> str:
    """The question in statement order: « Quand les pôles ont-ils été créés » → « Quand les pôles ont été
    créés », « Combien d'emplois va-t-elle créer » → « Combien d'emplois elle va créer »."""
    m = _PRONOUN.search(q)
    if not m or re.match(r"^(?:est-ce|qu'est|peut-on|faut-il)", q, re.I):
        return q
    before, verb, pronoun, after = q[:m.start()], m.group(1), m.group(2), q[m.end():]
    asked = re.match(r"^\S+\s*", before)
    rest = before[asked.end():] if asked else before
    if _SUBJECT_BEFORE.search(rest) or re.match(r"^quel(?:le)?s?\s+\S+\s*$", before, re.I):
        return f"{before}{verb}{after}"  # complex inversion: the subject is already there
    return f"{before}{pronoun} {verb}{after}"


_ASKING = re.compile(r"^(?:qui|que|quoi|quand|où|combien|comment|pourquoi|quel(?:le)?s?|lequel|laquelle)\b", re.I)


def missing_statement(question: str) -> str:
    """One sentence naming what the corpus does not state: « Le corpus ne donne pas le chiffre d'affaires de
    Cosmetic Valley. », « Le corpus ne dit pas qui préside la CCI Normandie. »; a question whose form does not
    turn into an indirect one is quoted."""
    q = _uninverted(re.sub(r"\s+", " ", (question or "").strip()).rstrip(" ?").strip())
    copula = _COPULA.match(q)
    if copula and not _INVERTED.search(q):
        return f"Le corpus ne donne pas {copula.group(1)}."
    person = re.match(r"^qui (?:est|sont|était|étaient) ((?:le|la|les|l')\b.+)$", q, re.I)
    if person and not _INVERTED.search(q):
        return f"Le corpus ne nomme pas {person.group(1)}."
    if _ASKING.match(q) and not _INVERTED.search(q):
        return f"Le corpus ne dit pas {q[0].lower()}{q[1:]}."
    return f"Aucun passage du corpus ne répond précisément à la question « {q} ? »."


def partial_text(question: str, lines: list[str]) -> str:
    """« Pas de réponse précise » in one sentence, then what comes closest, one cited line each."""
    return (f"Pas de réponse précise. {missing_statement(question)}\nCe qui s'en approche :\n"
            + "\n".join(f"• {line}" for line in lines))
