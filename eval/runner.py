"""Runs configurations over benchmarks and the corpus set; returns summaries and per-question rows."""
from __future__ import annotations

import resource
import time
from dataclasses import dataclass, field

from assistant.conversation.session import Conversation
from assistant.service import Assistant
from eval.bm25_peer import REFERENCE, REFERENCE_GOLD_IDS, TOLERANCE, BM25Peer
from eval.configs import PEER, Config
from eval.corpus_set import CorpusQuestion, load_corpus_set
from eval.datasets import Bench
from eval.metrics import check_citations, coverage, latency_summary, mean_scores, refusal_scores, retrieval_scores
from eval.stores import StoreInfo, bench_store, corpus_store, ranked_keys
from veille.config import Settings
from veille.embeddings import get_embedder
from veille.progress import make_progress

TOP_K = 10


@dataclass
class RunResult:
    summary: dict[str, dict[str, dict]] = field(default_factory=dict)  # bench -> config -> metrics
    questions: list[dict] = field(default_factory=list)  # per-question rows
    notes: list[str] = field(default_factory=list)

    def add(self, bench: str, config: str, metrics: dict) -> None:
        self.summary.setdefault(bench, {})[config] = metrics


def peak_memory_mb() -> float:
    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)


class Runner:
    def __init__(self, base: Settings, progress: bool = True, limit: int | None = None):
        self.base, self.progress, self.limit = base, progress, limit
        self.result = RunResult()
        self._bar = make_progress("questions", progress)

    def __enter__(self):
        self._bar.__enter__()
        return self

    def __exit__(self, *exc):
        self._bar.__exit__(*exc)

    def _embedder(self, name: str):
        return get_embedder(self.base, name)

    # --- benchmarks -------------------------------------------------------------------------
    def run_bench(self, bench: Bench, configs: list[Config], peer: bool = True, full: bool = False) -> None:
        questions = bench.questions[:self.limit] if self.limit else bench.questions
        if peer:
            self._run_peer(bench, questions, full)
        stores: dict[str, StoreInfo] = {}
        for config in configs:
            emb_name = config.embedder or "e5-small"
            if emb_name not in stores:
                stores[emb_name] = bench_store(bench, self.base, emb_name, self._embedder(emb_name),
                                               self.progress)
            store = stores[emb_name]
            assistant = Assistant(store.settings, embedder=self._embedder(emb_name),
                                  retriever=config.retriever, fusion=config.fusion)
            task = self._bar.add_task(f"{bench.name} · {config.name}", total=len(questions))
            rows, stages = [], {}
            for q in questions:
                t0 = time.perf_counter()
                result = assistant.retrieve(q.question, top_k=TOP_K)
                total = (time.perf_counter() - t0) * 1000
                ranked = ranked_keys(result.passages, store)
                scores = retrieval_scores(ranked, bench.gold_passages(q))
                for stage, ms in {**result.timings.values, "total": total}.items():
                    stages.setdefault(stage, []).append(ms)
                rows.append(scores)
                self.result.questions.append({"bench": bench.name, "config": config.name, "id": q.id,
                                              "question": q.question, "answer": q.answer,
                                              "gold": sorted(bench.gold_passages(q)), "retrieved": ranked[:TOP_K],
                                              **scores, "latency_ms": round(total, 2)})
                self._bar.advance(task)
            metrics = {**mean_scores(rows), **latency_summary(stages), "questions": len(rows),
                       "passages": len(bench.passages), "ingest_passages_per_s": store.passages_per_s}
            self.result.add(bench.name, config.name, metrics)

    def _run_peer(self, bench: Bench, questions, full: bool) -> None:
        t0 = time.perf_counter()
        peer = BM25Peer(bench)
        index_s = time.perf_counter() - t0
        ranked, latencies = peer.search([q.question for q in questions], k=TOP_K)
        rows = []
        for q, r, ms in zip(questions, ranked, latencies):
            scores = retrieval_scores(r, bench.gold_passages(q))
            rows.append(scores)
            self.result.questions.append({"bench": bench.name, "config": PEER, "id": q.id, "question": q.question,
                                          "answer": q.answer, "gold": sorted(bench.gold_passages(q)),
                                          "retrieved": r, **scores, "latency_ms": round(ms, 3)})
        metrics = {**mean_scores(rows), **latency_summary({"total": latencies}), "questions": len(rows),
                   "passages": len(bench.passages),
                   "ingest_passages_per_s": round(len(bench.passages) / index_s, 1) if index_s else 0.0}
        if full and not self.limit and bench.name in REFERENCE:
            self._sanity(bench, questions, ranked, metrics)
        self.result.add(bench.name, PEER, metrics)

    def _sanity(self, bench: Bench, questions, ranked, metrics: dict) -> None:
        """The harness's own check: the plain peer must give the README's reference figures."""
        measured = (metrics["hit@10"], metrics["ndcg@10"])
        gaps = [round(m - r, 4) for m, r in zip(measured, REFERENCE[bench.name])]
        gold_ids = mean_scores([retrieval_scores(r, set(q.gold_ids)) for q, r in zip(questions, ranked)])
        measured2 = (gold_ids["hit@1"], gold_ids["hit@10"], gold_ids["mrr@10"])
        gaps2 = [round(m - r, 4) for m, r in zip(measured2, REFERENCE_GOLD_IDS[bench.name])]
        metrics["sanity_ok"] = all(abs(g) <= TOLERANCE for g in gaps)
        metrics["sanity_gold_ids_ok"] = all(abs(g) <= TOLERANCE for g in gaps2)
        self.result.notes.append(
            f"Contrôle BM25 simple ({bench.name}) : hit@10 / nDCG@10 = {measured[0]:.3f} / {measured[1]:.3f} "
            f"(référence {REFERENCE[bench.name][0]:.3f} / {REFERENCE[bench.name][1]:.3f}, écarts {gaps}) ; "
            f"hit@1 / hit@10 / MRR@10 sur gold_ids = {' / '.join(f'{m:.3f}' for m in measured2)} (référence "
            f"{' / '.join(f'{r:.3f}' for r in REFERENCE_GOLD_IDS[bench.name])}, écarts {gaps2}) : "
            f"{'conforme' if metrics['sanity_ok'] and metrics['sanity_gold_ids_ok'] else 'ÉCART > 0,02'}")

    # --- corpus set ---------------------------------------------------------------------------
    def run_corpus(self, configs: list[Config], fast: bool = False) -> None:
        items = load_corpus_set()
        if self.limit:
            items = items[:self.limit]
        stores: dict[str, StoreInfo] = {}
        for config in configs:
            emb_name = config.embedder or "e5-small"
            if emb_name not in stores:
                stores[emb_name] = corpus_store(self.base, emb_name, self._embedder(emb_name), self.progress)
            store = stores[emb_name]
            assistant = Assistant(store.settings, embedder=self._embedder(emb_name),
                                  retriever=config.retriever, fusion=config.fusion)
            self.result.add("corpus", config.name, self._corpus_config(assistant, store, config, items))

    def _corpus_config(self, assistant: Assistant, store: StoreInfo, config: Config,
                       items: list[CorpusQuestion]) -> dict:
        task = self._bar.add_task(f"corpus · {config.name}", total=len(items))
        conversations: dict[str, Conversation] = {}
        retrieval_rows, stages = [], {}
        cov, refused, unanswerable, follow_ok, follow_n = [], [], [], 0, 0
        cited, supported = 0, 0
        for item in items:
            if item.chain:
                conv = conversations.setdefault(item.chain, Conversation())
                t0 = time.perf_counter()
                answer = conv.ask(assistant, item.question)
            else:
                t0 = time.perf_counter()
                answer = assistant.ask(item.question)
            total = (time.perf_counter() - t0) * 1000
            for stage, ms in {**answer.timings_ms, "total": total}.items():
                stages.setdefault(stage, []).append(ms)
            row = {"bench": "corpus", "config": config.name, "id": item.id, "kind": item.kind,
                   "question": item.question, "standalone": answer.standalone_question,
                   "answer": answer.answer, "refused": answer.refused, "confidence": round(answer.confidence, 4),
                   "unanswerable": item.unanswerable, "expected": item.expected, "gold_docs": item.gold_docs,
                   "cited_docs": [], "latency_ms": round(total, 2)}
            refused.append(answer.refused)
            unanswerable.append(item.unanswerable)
            if not item.unanswerable:
                result = assistant.retrieve(answer.standalone_question or item.question, top_k=TOP_K)
                ranked = ranked_keys(result.passages, store)
                scores = retrieval_scores(ranked, set(item.gold_docs))
                retrieval_rows.append(scores)
                c = 0.0 if answer.refused else coverage(item.expected, answer.answer)
                cov.append(c)
                check = check_citations(answer.answer, {cit.n: cit.context or cit.quote for cit in answer.citations})
                cited += check.sentences
                supported += check.supported
                row.update(scores, coverage=round(c, 4), retrieved=ranked[:TOP_K],
                           cited_sentences=check.sentences, supported_sentences=check.supported)
                if item.turn > 1:
                    follow_n += 1
                    follow_ok += int(not answer.refused and c >= 0.5)
            by_doc = {doc: keys for doc, keys in store.passages_of_doc.items()}
            row["cited_docs"] = sorted({k for cit in answer.citations for k in by_doc.get(cit.doc_id, [])})
            self.result.questions.append(row)
            self._bar.advance(task)
        metrics = {**mean_scores(retrieval_rows),
                   "coverage": round(sum(cov) / len(cov), 4) if cov else 0.0,
                   "citation_precision": round(supported / cited, 4) if cited else 0.0,
                   **refusal_scores(refused, unanswerable),
                   "follow_up_success": round(follow_ok / follow_n, 4) if follow_n else 0.0,
                   **latency_summary(stages), "questions": len(items),
                   "ingest_passages_per_s": store.passages_per_s}
        return metrics
