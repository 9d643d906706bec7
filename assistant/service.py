"""The assistant: one question in, one cited answer (or an honest refusal) out.

An ``Assistant`` is built from its parts, as llama-index's chat engines are: a search (``Search``: the hybrid
retriever over one store and model), a composer (``ExtractiveComposer``: the sentences to quote), a refusal
policy (``RefusalPolicy``: answer or refuse) and, when an OpenAI-compatible endpoint is configured, a
generator. The hand-offs are typed: ``Retrieval`` → ``Draft`` → ``Decision`` → ``Answer``. Conversations
go through ``assistant.conversation.session.Conversation.ask``; the CLI, the web UI and the evaluation share this class.
"""
from __future__ import annotations

import time
from dataclasses import dataclass

from accounts import audit, enforce
from assistant.answering.answer import REFUSAL, REFUSAL_UNFILTERED, Answer
from assistant.answerability import LearnedComposer, LearnedPolicy
from assistant.answerability.consensus import ConsensusPolicy
from assistant.answerability.judge import JudgedComposer, JudgePolicy
from assistant.answering.citation_extras import enrich_citations
from assistant.answering.citations import CitationNumbering
from assistant.answering.compose import Draft, ExtractiveComposer
from assistant.generation.generate import Generator, ready_stream
from assistant.generation.llm import llm_configured
from assistant.search.period import PeriodBoost, apply_period, period_found
from assistant.answerability.policy import Decision, RefusalPolicy
from assistant.answering.reading import ReaderComposer, ReaderPolicy, partial_text
from assistant.search.retrieve import Boost, Retrieval, Search
from veille.config import Settings, get_settings
from veille.embeddings import get_embedder
from veille.errors import choose
from veille.filters import Filters
from veille.store import Store, get_store

# How sentences are chosen and answerability decided (``Settings.answerability``): composer and policy
# go in pairs, the learned policy reading the learned composer's sentence scores.
ANSWERABILITY = {
    "consensus": (lambda settings: ExtractiveComposer(), ConsensusPolicy.from_settings),
    "judge": (JudgedComposer.from_settings, JudgePolicy.from_settings),
    "judge-consensus": (JudgedComposer.from_settings,
                        lambda settings: JudgePolicy.from_settings(settings, with_consensus=True)),
    "learned": (lambda settings: LearnedComposer.load(), LearnedPolicy.from_settings),
    "rules": (lambda settings: ExtractiveComposer(), RefusalPolicy.from_settings),
    "reader": (ReaderComposer.from_settings, ReaderPolicy.from_settings),
}


@dataclass
class Composition:
    """The composer's draft and the policy's decision on it, before they become an ``Answer``."""
    draft: Draft
    decision: Decision


class Assistant:
    def __init__(self, settings: Settings | None = None, store: Store | None = None, embedder=None,
                 retriever: str = "hybrid", fusion: str | None = None, *, search: Search | None = None,
                 composer: ExtractiveComposer | None = None, policy: RefusalPolicy | None = None,
                 generator: Generator | None = None):
        """Parts not given are made from the settings: ``retriever`` (hybrid, dense, bm25) and ``fusion``
        (wsum, rrf) name the search's mode; an unknown name fails here, loudly."""
        self.settings = settings or get_settings()
        self.store = store or get_store(self.settings)
        self._embedder = embedder
        self.retriever_mode = retriever
        self.fusion = fusion or self.settings.fusion
        self._search = search
        make_composer, make_policy = choose(ANSWERABILITY, self.settings.answerability, "Mode de réponse inconnu")
        self.composer = composer or make_composer(self.settings)
        self.policy = policy or make_policy(self.settings)
        self._generator = generator
        self._topic_policy: RefusalPolicy | None = None
        if search is None:
            Search(self.store, None, self.retriever_mode, self.fusion)  # validates the names now

    # --- parts ----------------------------------------------------------------------------------------
    @property
    def embedder(self):
        if self._embedder is None:
            self._embedder = get_embedder(self.settings)
        return self._embedder

    @property
    def search(self) -> Search:
        if self._search is None:  # made on first use: the model loads only when a question needs it
            self._search = Search(self.store, self.embedder, self.retriever_mode, self.fusion,
                                  self.settings.fusion_dense_weight, self.settings.candidates)
        return self._search

    @property
    def generator(self) -> Generator | None:
        """The generative answerer when an OpenAI-compatible endpoint is configured, else None."""
        if self._generator is None and llm_configured(self.settings):
            self._generator = Generator(self.settings, embedder=self.embedder)
        return self._generator

    def warm_up(self) -> None:
        """Load the model and open the stores before the first question."""
        self.embedder.embed_queries(["préchauffage"])
        self.store.collection.count()
        reader = getattr(self.composer, "reader", None)
        if reader is not None:  # the first question should not pay ONNX Runtime's first run
            reader.read("préchauffage", ["Un passage de préchauffage."])

    # --- the pipeline ---------------------------------------------------------------------------------
    def retrieve(self, question: str, filters: Filters | None = None, top_k: int | None = None,
                 boost: Boost | None = None) -> Retrieval:
        # The audience of the account a Filters carries is re-read and applied here, whatever the caller.
        filters = enforce(self.settings, filters)
        result = self.search(question, filters, top_k or self.settings.top_k, boost)
        if filters.user:
            audit.record_question(self.settings, filters.user, question, result.passages)
        return result

    def term_stats(self, filters: Filters | None):
        """Term weights over the passages the asker may see (see ``Store.term_stats``)."""
        filters = enforce(self.settings, filters) if filters is not None else None
        return self.store.term_stats(filters.audience if filters is not None else None)

    def composition(self, question: str, retrieval: Retrieval, filters: Filters | None = None) -> Composition:
        draft = self.composer.draft(question, retrieval, self.term_stats(filters))
        decision = self.policy.decide(draft, retrieval)
        return Composition(decision.draft or draft, decision)

    def covers(self, topic: str, retrieval: Retrieval, filters: Filters | None = None) -> bool:
        """Does the corpus speak of ``topic`` (a briefing's subject)? The rules judge the sentences they would
        quote, whatever the answer mode: a note gathers several subjects, and no one sentence has to answer it
        (the learned models judge exactly that, and refuse such topics)."""
        if self._topic_policy is None:
            self._topic_policy = RefusalPolicy.from_settings(self.settings)
        draft = ExtractiveComposer().draft(topic, retrieval, self.term_stats(filters))
        return self._topic_policy.decide(draft, retrieval).answer

    def compose(self, question: str, retrieval: Retrieval, filters: Filters | None = None) -> Answer:
        """The extractive answer to ``question`` from ``retrieval``, or a refusal with its confidence (with the
        reader: « pas de réponse précise » and what comes closest when the subject is there)."""
        made = self.composition(question, retrieval, filters)
        decision = made.decision
        evidence = decision.evidence.as_dict()
        if decision.status == "partial":
            return self._partial(question, retrieval, made, evidence)
        if not decision.answer:
            return Answer(question=question, answer=REFUSAL, refused=True, confidence=decision.confidence,
                          evidence=evidence, status="none")
        numbering = CitationNumbering(self.store, retrieval.passages)
        text = numbering.cite(made.draft.chosen)
        return Answer(question=question, answer=text, refused=False, citations=numbering.citations,
                      confidence=decision.confidence, evidence=evidence, span=answer_span(made.draft, text))

    def _partial(self, question: str, retrieval: Retrieval, made: Composition, evidence: dict) -> Answer:
        verdict = made.draft.ranking
        numbering = CitationNumbering(self.store, retrieval.passages)
        lines, seen = [], set()
        for k in made.decision.related:
            sentence = ReaderComposer.sentence_of(retrieval.passages, k, verdict.readings[k])
            if sentence.text and sentence.text not in seen:
                seen.add(sentence.text)
                lines.append(numbering.cite([sentence]))
        return Answer(question=question, answer=partial_text(question, lines), refused=True,
                      citations=numbering.citations, confidence=made.decision.confidence, evidence=evidence,
                      status="partial", related=[c.n for c in numbering.citations])

    def ask(self, question: str, filters: Filters | None = None) -> Answer:
        return self.ask_stream(question, filters, stream=False).result()

    def ask_stream(self, question: str, filters: Filters | None = None, stream: bool = True):
        """An ``AnswerStream``: iterate for the text as it is written, then ``.answer`` is the verified
        answer (generative mode; in extractive mode the whole answer comes as one piece)."""
        question = (question or "").strip()
        filters = filters or Filters()
        if not question:
            return ready_stream(Answer(question="", answer="Posez une question (le texte est vide).", refused=True))
        filters, period = apply_period(question, filters)
        boost = PeriodBoost(period.time, self.store) if period and not period.publication else None
        result = self.retrieve(question, filters, boost=boost)
        t0 = time.perf_counter()
        answer = self.compose(question, result, filters)
        if boost is not None and not answer.refused and not period_found(self.store, period.time, result.passages):
            # A refusal by rule, as the policy's own before-the-model refusals: no confidence in an answer.
            answer = Answer(question=question, answer=period.unsupported_refusal, refused=True, confidence=0.0,
                            evidence={**(answer.evidence or {}), "period_found": 0.0})
        result.timings.add("compose", t0)
        generator = None if answer.refused else self.generator  # a calibrated refusal needs no model call
        t0 = time.perf_counter()

        def finalize(answer: Answer) -> Answer:
            if generator is not None:
                result.timings.add("generate", t0)
            answer.timings_ms = result.timings.values
            answer.filters = filters.as_dict()
            answer.filter_note = period.note if period else None
            # Copies (« repris par N sources ») and entity chips of the final citations, within the audience.
            enrich_citations(self.settings, self.store, answer.citations, filters)
            if answer.refused and period and period.publication and answer.answer == REFUSAL:
                answer.answer = period.empty_filter_refusal
            elif answer.refused and answer.answer == REFUSAL and not filters.describe():
                answer.answer = REFUSAL_UNFILTERED  # « retirez des filtres » only when some are set
            return answer

        if generator is None:
            out = ready_stream(answer)
        elif stream:
            out = generator.stream(question, result.passages, answer, CitationNumbering(self.store, result.passages),
                                   filters.describe())
        else:
            out = ready_stream(generator.answer(question, result.passages, answer,
                                                CitationNumbering(self.store, result.passages), filters.describe()))
        out.on_done.append(finalize)
        return out


def answer_span(draft, text: str) -> dict | None:
    """Where the reader's answer words sit in the answer ``text`` (its first sentence is the span's)."""
    verdict = draft.ranking
    span = getattr(verdict, "span", None)
    if not span or not draft.chosen or draft.chosen[0].passage != span[0]:
        return None
    k, a, b = span
    words = draft.passages[k].node.get_content()[a:b].strip()
    at = text.find(words) if words else -1
    if at < 0 or at >= len(draft.chosen[0].text):
        return None
    return {"start": at, "end": at + len(words), "text": words}


_assistants: dict = {}


def get_assistant(settings: Settings | None = None) -> Assistant:
    settings = settings or get_settings()
    if settings not in _assistants:
        _assistants[settings] = Assistant(settings)
    return _assistants[settings]
