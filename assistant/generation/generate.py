"""Generative answers: the language model writes, Veille verifies.

The passages go to the model as untrusted data inside ``<passage>`` tags (tags inside their text are
neutralised, so a document cannot close the data block and speak as the user). The reply is checked
sentence by sentence (``assistant.generation.verify``); unsupported citations are removed, citations are renumbered
to the passages actually cited, and whenever the endpoint fails (down, slow, error, garbage, cut
stream) the extractive answer computed beforehand is returned with a French notice.
"""
from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

from assistant.answering.answer import REFUSAL, Answer
from assistant.answering.citations import CitationNumbering
from assistant.generation.llm import LLMClient, LLMError, short_model_name
from assistant.generation.prompts import render
from assistant.generation.verify import Verification, Verifier
from veille.config import Settings
from veille.numbers import plural
from veille.passage import ScoredPassage
from veille.text import fold


def neutralise(text: str) -> str:
    """Passage text as inert data: no tag of ours can be opened or closed from inside a document."""
    return text.replace("<", "‹").replace(">", "›")


def format_passages(passages: list[ScoredPassage]) -> str:
    blocks = []
    for i, nws in enumerate(passages, 1):
        meta = nws.node.metadata or {}
        attrs = [f'id="{i}"']
        if meta.get("title"):
            attrs.append(f'titre="{neutralise(str(meta["title"])).replace(chr(34), chr(39))}"')
        if meta.get("date"):
            d = str(meta["date"])
            attrs.append(f'date="{d[:4]}-{d[4:6]}-{d[6:8]}"' if len(d) == 8 else f'date="{d}"')
        if meta.get("doc_type"):
            attrs.append(f'type="{meta["doc_type"]}"')
        blocks.append(f"<passage {' '.join(attrs)}>\n{neutralise(nws.node.get_content().strip())}\n</passage>")
    return "\n".join(blocks)


def is_refusal(text: str) -> bool:
    head = fold(text.strip().strip("«»\"' "))[:60]
    return head.startswith(fold(REFUSAL)[:40]) or head.startswith("le corpus ne contient pas")


@dataclass
class Generator:
    settings: Settings
    embedder: object | None = None
    client: LLMClient | None = None

    def __post_init__(self) -> None:
        self.verifier = Verifier(self.embedder)

    @property
    def llm(self) -> LLMClient:
        if self.client is None:
            self.client = LLMClient(self.settings)
        return self.client

    @property
    def mode(self) -> str:
        return f"génératif ({short_model_name(self.settings.llm_model or '')})"

    def messages(self, question: str, passages: list[ScoredPassage], filters_text: str) -> tuple[str, str]:
        system = render("system", refusal=render("refusal"))
        user = render("answer", passages=format_passages(passages), question=question.strip(),
                      filters=filters_text or "aucun")
        return system, user

    def fit(self, question: str, passages: list[ScoredPassage], filters_text: str) -> list[ScoredPassage]:
        """The best-ranked passages whose prompt fits the server's context with the answer's room (the
        lowest-ranked dropped first): a prompt over the context would leave the model no room to answer."""
        room = self.llm.prompt_room()
        kept = list(passages)
        while len(kept) > 1 and self.llm.count_tokens("\n".join(self.messages(question, kept, filters_text))) > room:
            kept.pop()
        return kept

    def answer(self, question: str, passages: list[ScoredPassage], extractive: Answer,
               numbering: CitationNumbering, filters_text: str = "") -> Answer:
        """Non-streaming generative answer (extractive fallback on any failure)."""
        try:
            passages = self.fit(question, passages, filters_text)
            text = self.llm.complete(*self.messages(question, passages, filters_text))
        except LLMError as exc:
            return self.fallback(extractive, str(exc))
        return self.finish(question, text, passages, extractive, numbering)

    def stream(self, question: str, passages: list[ScoredPassage], extractive: Answer,
               numbering: CitationNumbering, filters_text: str = "") -> "AnswerStream":
        kept = list(passages)  # fitted when the stream starts (the server is asked then): a prefix of them

        def produce() -> Iterator[str]:
            kept[:] = self.fit(question, passages, filters_text)
            return self.llm.stream(*self.messages(question, kept, filters_text))

        return AnswerStream(produce, lambda text: self.finish(question, text, kept, extractive, numbering),
                            lambda reason: self.fallback(extractive, reason))

    @staticmethod
    def fallback(extractive: Answer, reason: str) -> Answer:
        extractive.notice = (f"Mode génératif indisponible : {reason}. Voici la réponse extractive "
                             f"(phrases tirées telles quelles des sources).")
        return extractive

    def finish(self, question: str, text: str, passages: list[ScoredPassage], extractive: Answer,
               numbering: CitationNumbering) -> Answer:
        """Verify a generated reply and turn it into an Answer with renumbered, supported citations."""
        if is_refusal(text):
            return Answer(question=question, answer=REFUSAL, refused=True, mode=self.mode,
                          confidence=extractive.confidence)
        check = self.verifier.verify(text, [p.node.get_content() for p in passages])
        flagged = [{"phrase": s.text, "citations": s.cited, "raisons": {str(k): v for k, v in s.dropped.items()}
                    or {"-": "aucune citation"}} for s in check.flagged]
        if not check.supported:
            cited_real = any(1 <= n <= len(passages) for s in check.sentences for n in s.cited)
            if not cited_real:  # no usable citation at all: the model did not follow the format
                answer = self.fallback(extractive, "la réponse générée ne citait aucun passage existant")
                answer.flagged = flagged
                return answer
            return Answer(question=question, answer=REFUSAL, refused=True, mode=self.mode, flagged=flagged,
                          confidence=extractive.confidence,
                          notice="La réponse générée n'était étayée par aucun des passages cités : "
                                 "Veille préfère ne pas répondre.")
        answer = self.compose(question, check, numbering)
        answer.confidence = extractive.confidence
        answer.flagged = flagged
        removed = len(check.sentences) - len(check.supported)
        dropped = sum(len(s.dropped) for s in check.supported)
        notes = []
        if removed:
            notes.append(f"{plural(removed, 'phrase')} de la réponse générée {'ont' if removed > 1 else 'a'} été "
                         f"retirée{'s' if removed > 1 else ''} : aucune source ne l{'es' if removed > 1 else 'a'} étaye")
        if dropped:
            notes.append(f"{plural(dropped, 'citation')} non étayée{'s' if dropped > 1 else ''} "
                         f"retirée{'s' if dropped > 1 else ''}")
        if notes:
            answer.notice = "Vérification des citations : " + " ; ".join(notes) + "."
        return answer

    def compose(self, question: str, check: Verification, numbering: CitationNumbering) -> Answer:
        """The verified sentences, their citations renumbered to the passages actually cited (passage
        ``[n]`` of the prompt is passage ``n - 1`` of the list)."""
        parts = []
        for sentence in check.supported:
            marks = numbering.marks((n - 1, sentence.support.get(n, "")) for n in sentence.kept)
            parts.append(f"{sentence.text} {marks}")
        return Answer(question=question, answer=" ".join(parts), refused=False, citations=numbering.citations,
                      mode=self.mode)


@dataclass
class AnswerStream:
    """Tokens as the model writes them, then the verified answer.

    Iterate to get text deltas (show them as a draft); when iteration ends, ``answer`` holds the final,
    verified Answer, which replaces the draft (it may differ: unsupported sentences removed, citations
    renumbered, or the extractive answer when the stream failed). Never raises on endpoint failures."""
    produce: Callable[[], Iterator[str]]
    finish: Callable[[str], Answer]
    fail: Callable[[str], Answer]
    answer: Answer | None = None
    draft: str = ""
    failed: bool = False
    on_done: list[Callable[[Answer], Answer]] = field(default_factory=list)

    def __iter__(self) -> Iterator[str]:
        parts: list[str] = []
        try:
            for delta in self.produce():
                parts.append(delta)
                yield delta
        except LLMError as exc:
            self.failed = True
            self.draft = "".join(parts)
            self._done(self.fail(str(exc)))
            return
        self.draft = "".join(parts)
        self._done(self.finish(self.draft))

    def _done(self, answer: Answer) -> None:
        for hook in self.on_done:
            answer = hook(answer)
        self.answer = answer

    def result(self) -> Answer:
        """Consume the stream (if not done yet) and return the verified answer."""
        if self.answer is None:
            for _ in self:
                pass
        return self.answer


def ready_stream(answer: Answer) -> AnswerStream:
    """An AnswerStream over an answer that is already final (extractive mode, refusals)."""
    return AnswerStream(lambda: iter([answer.answer]), lambda _text: answer, lambda _reason: answer)


