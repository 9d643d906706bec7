"""The assistant's public entry point, shared by the CLI, the Gradio app and the evaluation harness."""
from __future__ import annotations

import time
from dataclasses import dataclass

from llama_index.core.schema import NodeWithScore, QueryBundle

from assistant.answer import (REFUSAL, Answer, Citation, make_idf, query_coverage, select_sentences,
                              sentence_candidates)
from assistant.filters import Filters
from assistant.refusal import compute_features, load_model
from assistant.retrieve import HybridRetriever, Timings, make_fusion
from assistant.timefilter import apply_time_expression
from veille.config import Settings, get_settings
from veille.store import Store, get_store


@dataclass
class RetrievalResult:
    passages: list[NodeWithScore]
    dense_top: float  # best cosine of the dense branch (refusal evidence)
    timings: Timings


class Assistant:
    def __init__(self, settings: Settings | None = None, store: Store | None = None, embedder=None,
                 retriever: str = "hybrid", fusion: str | None = None):
        self.settings = settings or get_settings()
        self.store = store or get_store(self.settings)
        self._embedder = embedder
        self.retriever_mode = retriever
        self.fusion = fusion or self.settings.fusion

    @property
    def embedder(self):
        if self._embedder is None:
            from veille.embeddings import get_embedder

            self._embedder = get_embedder(self.settings)
        return self._embedder

    def warm_up(self) -> None:
        """Load the model and open the stores before the first question."""
        self.embedder.embed_queries(["préchauffage"])
        self.store.collection.count()

    def retrieve(self, question: str, filters: Filters | None = None, top_k: int | None = None) -> RetrievalResult:
        from assistant import access, audit

        # The audience of the account a Filters carries is re-read and applied here, whatever the caller.
        filters = access.enforce(self.settings, filters)
        retriever = HybridRetriever(self.store, self.embedder, top_k=top_k or self.settings.top_k,
                                    candidates=self.settings.candidates, filters=filters,
                                    fusion=make_fusion(self.fusion, self.settings.fusion_dense_weight), mode=self.retriever_mode)
        passages = retriever.retrieve(QueryBundle(question))
        dense_top = max((n.score for n in retriever.last_dense), default=0.0)
        if filters.user:
            audit.record_question(self.settings, filters.user, question, passages)
        return RetrievalResult(passages, dense_top, retriever.timings)

    @property
    def generator(self):
        """The generative answerer when an OpenAI-compatible endpoint is configured, else None."""
        from assistant.llm import llm_configured

        if not llm_configured(self.settings):
            return None
        if getattr(self, "_generator", None) is None:
            from assistant.generate import Generator

            self._generator = Generator(self.settings, embedder=self.embedder)
        return self._generator

    def ask(self, question: str, filters: Filters | None = None) -> Answer:
        return self.ask_stream(question, filters, stream=False).result()

    def ask_stream(self, question: str, filters: Filters | None = None, stream: bool = True):
        """An ``AnswerStream``: iterate for the text as it is written, then ``.answer`` is the verified
        answer (generative mode; in extractive mode the whole answer comes as one piece)."""
        from assistant.generate import ready_stream

        question = (question or "").strip()
        filters = filters or Filters()
        if not question:
            return ready_stream(Answer(question="", answer="Posez une question (le texte est vide).", refused=True))
        asked_filters = filters
        filters, period = apply_time_expression(question, filters)
        filter_note = period.description if period else None
        result = self.retrieve(question, filters)
        t0 = time.perf_counter()
        answer = self.compose(question, result.passages, result.dense_top, filters)
        result.timings.add("compose", t0)
        widened = False
        if not result.passages and period and period.years:
            found = self._passages_mentioning(question, asked_filters, period.years)
            if found is not None:
                (result, answer), filters, widened = found, asked_filters, True
                filter_note = (f"{period.description} : aucun ; recherche étendue aux passages qui citent "
                               f"{', '.join(period.years)}")
        generator = None if answer.refused else self.generator  # a calibrated refusal needs no model call
        t0 = time.perf_counter()

        def finalize(answer: Answer) -> Answer:
            if generator is not None:
                result.timings.add("generate", t0)
            answer.timings_ms = result.timings.values
            answer.filters = filters.as_dict()
            answer.filter_note = filter_note
            if answer.refused and widened and answer.answer == REFUSAL:
                answer.answer = (f"Aucun document n'est daté de la période de la question, et aucun passage qui cite "
                                 f"{', '.join(period.years)} ne répond à cette question.")
            elif answer.refused and filter_note and answer.answer == REFUSAL:
                answer.answer = (f"Aucun passage ne répond à cette question parmi les {filter_note} (filtre tiré "
                                 f"de la question). Reformulez sans période pour élargir la recherche.")
            return answer

        if generator is None:
            out = ready_stream(answer)
        elif stream:
            out = generator.stream(question, result.passages, answer, self.citation, filters.describe())
        else:
            out = ready_stream(generator.answer(question, result.passages, answer, self.citation,
                                                filters.describe()))
        out.on_done.append(finalize)
        return out

    def _passages_mentioning(self, question: str, filters: Filters, years: tuple[str, ...]):
        """The answer from passages of any date that mention one of ``years`` ("la rencontre de février
        2019" in a 2020 report), or None when none of the retrieved passages does."""
        result = self.retrieve(question, filters)
        t0 = time.perf_counter()
        kept = [p for p in result.passages if any(year in p.node.get_content() for year in years)]
        if not kept:
            return None
        answer = self.compose(question, kept, result.dense_top, filters)
        result.timings.add("compose", t0)
        return RetrievalResult(kept, result.dense_top, result.timings), answer

    def chat(self, conversation, question: str, filters: Filters | None = None) -> Answer:
        """Answer within a conversation: follow-ups are made standalone first, filters carry over
        (see ``Conversation.ask_stream`` for the streamed form)."""
        return conversation.ask(self, question, filters)

    def compose(self, question: str, passages: list[NodeWithScore], dense_top: float,
                filters: Filters | None = None) -> Answer:
        # Term weights from the passages the asker may see only (see access.audience_idf).
        from assistant.access import audience_idf, enforce

        filters = enforce(self.settings, filters) if filters is not None else None
        idf = audience_idf(self.store, filters) if filters and filters.audience is not None else make_idf(self.store)
        candidates = sentence_candidates(question, passages, idf)
        chosen = select_sentences(candidates)
        coverage = query_coverage(question, chosen, idf)
        absent = idf("zqxveilleabsentqxz")  # the weight of a term no visible passage contains
        evidence = compute_features(question, passages, chosen, idf, dense_top, coverage,
                                    max((c.score for c in candidates), default=0.0),
                                    lambda term: 0 if idf(term) >= absent - 1e-9 else 1)
        model = load_model()
        # Nothing to quote (no candidate: best_sentence is 0), or sentences of the wrong kind: no confidence,
        # whatever the model says.
        forced = evidence.refused_before_model
        confidence = 0.0 if forced else model.probability(evidence)
        threshold = self.settings.refusal_threshold if self.settings.refusal_threshold is not None else model.threshold
        if forced or confidence < threshold:
            return Answer(question=question, answer=REFUSAL, refused=True, confidence=confidence,
                          evidence=evidence.as_dict())
        numbers: dict[int, int] = {}
        citations: list[Citation] = []
        parts = []
        for sentence in chosen:
            if sentence.passage not in numbers:
                numbers[sentence.passage] = len(numbers) + 1
                citations.append(self.citation(numbers[sentence.passage], passages[sentence.passage],
                                               sentence.text))
            parts.append(f"{sentence.text.strip()} [{numbers[sentence.passage]}]")
        return Answer(question=question, answer=" ".join(parts), refused=False, citations=citations,
                      confidence=confidence, evidence=evidence.as_dict())

    @staticmethod
    def confidence(dense_top: float, coverage: float) -> float:
        """A simple relevance score of a passage for a query (saved watches): e5 cosine (≈0.75 unrelated,
        ≈0.9 on topic) rescaled to [0, 1], averaged with the share of the query's terms it covers.
        Answers use the calibrated answerability model instead (assistant/refusal.py)."""
        dense = min(1.0, max(0.0, (dense_top - 0.75) / 0.15))
        return 0.5 * dense + 0.5 * coverage

    def citation(self, n: int, passage: NodeWithScore, sentence: str = "") -> Citation:
        node = passage.node
        doc = self.store.document(node.metadata.get("doc_id", "")) or {}
        page, page_end = self.store.chunk_pages(node.node_id)
        return Citation(n=n, doc_id=doc.get("doc_id", ""), chunk_id=node.node_id, title=doc.get("title") or "",
                        doc_type=doc.get("doc_type") or "autre", date=doc.get("date"),
                        source=doc.get("url") or doc.get("source") or "", quote=node.get_content(),
                        score=round(float(passage.score or 0.0), 4), url=doc.get("url"), site=doc.get("site"),
                        sentence=sentence, char_start=node.start_char_idx, char_end=node.end_char_idx,
                        page=page, page_end=page_end, ocr=bool(doc.get("extra", {}).get("ocr")))


_assistants: dict = {}


def get_assistant(settings: Settings | None = None) -> Assistant:
    settings = settings or get_settings()
    if settings not in _assistants:
        _assistants[settings] = Assistant(settings)
    return _assistants[settings]
