"""One Veille store per (benchmark, embedder), cached by content hash under $VEILLE_HOME/cache/eval.

Passages go through the real ingestion (``Ingestor.run`` with ``SourceItem``s whose source is
``bench://<set>/<passage id>``), so they are chunked, embedded and indexed exactly as user documents.
Ingestion is idempotent: a second run finds every source unchanged and starts in seconds.
"""
from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from eval.datasets import Bench
from ingestion.extract import Extracted
from ingestion.pipeline import Ingestor, SourceItem
from veille.config import CORPUS_DIR, Settings
from veille.model_build import INT8_MIXED_FORMAT


@dataclass
class StoreInfo:
    settings: Settings
    passages_of_doc: dict[str, list[str]]  # Veille doc_id -> benchmark passage ids (or file names)
    chunks: int
    ingest_seconds: float  # of the run that built the store (cached runs report the first one)
    ingested_now: bool

    @property
    def passages_per_s(self) -> float:
        return round(self.chunks / self.ingest_seconds, 2) if self.ingest_seconds else 0.0


def eval_settings(base: Settings, key: str, embedder: str) -> Settings:
    """A benchmark's store. Its documents are passages: passages of one source document repeat each other by
    design (SPF fiches repeat whole sections: 128 of the 129 near-duplicate pairs of spf-fast), which the product
    never folds (near-duplicates are whole documents), so folding is off here; entities are not measured here."""
    return base.with_(home=base.cache_dir / "eval" / key, embedder=embedder, models_path=base.models_dir,
                      chroma_url=None, near_duplicates="off", entities="none")


# The code that decides what text and which passages are stored: a change to it invalidates the caches.
_TEXT_CODE = [Path(__file__).resolve().parent.parent / "ingestion" / name for name in ("normalize.py", "chunk.py")]


def fingerprint(base: Settings, content: str) -> str:
    # Normalisation, chunking and quantisation change what is stored, so they are part of the cache key.
    code = hashlib.sha256(b"".join(p.read_bytes() for p in _TEXT_CODE)).hexdigest()
    # int8-mixed's own version: a change of which operators are quantised changes the vectors too.
    quantize = base.embed_quantize + (f"-v{INT8_MIXED_FORMAT}" if base.embed_quantize == "int8-mixed" else "")
    key = f"{content}|{base.chunk_tokens}|{base.chunk_overlap}|{quantize}|{code}"
    return hashlib.sha256(key.encode()).hexdigest()[:12]


def bench_items(bench: Bench) -> list[SourceItem]:
    def loader(title: str, text: str):
        return lambda: (Extracted(text=text, meta={"title": title}), {"language": "fr"})

    return [SourceItem(source=f"bench://{bench.name}/{p.id}", load=loader(p.title, p.text),
                       size=len(p.text.encode("utf-8")), mtime=0.0) for p in bench.passages]


def _build(settings: Settings, ingest, embedder, progress: bool, prefix: str) -> StoreInfo:
    stats_file = settings.home / "eval_ingest.json"
    ingestor = Ingestor(settings, embedder=embedder, progress=progress)
    report = ingest(ingestor)
    if report.documents_written:
        stats = {"chunks": report.chunks_written, "seconds": report.seconds}
        stats_file.write_text(json.dumps(stats))
    stats = json.loads(stats_file.read_text()) if stats_file.exists() else {"chunks": 0, "seconds": 0.0}
    return store_info(ingestor.store, prefix, stats["seconds"], bool(report.documents_written))


def store_info(store, prefix: str, seconds: float, ingested_now: bool = False) -> StoreInfo:
    """What the harness needs of a built store: Veille doc_id -> benchmark passage ids (sources under
    ``prefix``) or file names, and the chunk count."""
    passages_of_doc: dict[str, list[str]] = {}
    for source, doc_id in store.source_documents():
        key = source[len(prefix):] if source.startswith(prefix) else Path(source).name
        passages_of_doc.setdefault(doc_id, []).append(key)
    return StoreInfo(store.settings, passages_of_doc, store.count_chunks(), seconds, ingested_now)


class CachedEmbedder:
    """An embedder that computes each passage vector once across the benchmark stores (kept by text in
    ``vectors-<model>.npz``): the demo-among-distractors store re-ingests the benchmarks' passages, which
    the benchmark stores already embedded. Queries pass through."""

    def __init__(self, inner, path: Path):
        self.inner, self.path = inner, path
        self.name, self.dim = inner.name, inner.dim
        self._vectors: dict[str, np.ndarray] = {}
        if path.exists():
            with np.load(path) as data:
                self._vectors = dict(zip(data["keys"].tolist(), data["vectors"]))
        self._dirty = False

    @classmethod
    def of(cls, embedder, settings) -> "CachedEmbedder":
        """The cache of ``embedder`` under ``settings``: one file per model and quantisation (int8 vectors differ
        from fp32 ones and must not be served in their place)."""
        suffix = "" if settings.embed_quantize == "none" else f"-{settings.embed_quantize}"
        return cls(embedder, settings.cache_dir / "eval" / f"vectors-{embedder.name}{suffix}.npz")

    @staticmethod
    def _key(text: str) -> str:
        return hashlib.sha1(text.encode("utf-8")).hexdigest()

    def embed_queries(self, texts):
        return self.inner.embed_queries(texts)

    def embed_passages(self, texts, batch_size=None, progress=None):
        keys = [self._key(t) for t in texts]
        todo = [i for i, k in enumerate(keys) if k not in self._vectors]
        if todo:
            fresh = self.inner.embed_passages([texts[i] for i in todo], batch_size, progress)
            self._vectors.update((keys[i], np.asarray(v, dtype=np.float32)) for i, v in zip(todo, fresh))
            self._dirty = True
        if progress and len(todo) < len(texts):
            progress(len(texts) - len(todo))  # the cached ones count as done
        return np.stack([self._vectors[k] for k in keys]) if keys else np.zeros((0, self.dim), dtype=np.float32)

    def save(self) -> None:
        if self._dirty:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            keys = sorted(self._vectors)
            np.savez(self.path, keys=np.array(keys), vectors=np.stack([self._vectors[k] for k in keys]))
            self._dirty = False


def bench_store(bench: Bench, base: Settings, embedder_name: str, embedder=None,
                progress: bool = True) -> StoreInfo:
    key = f"{bench.name}-{embedder_name}-{fingerprint(base, bench.content_hash())}"
    settings = eval_settings(base, key, embedder_name)
    items = bench_items(bench)
    return _build(settings, lambda ing: ing.run(items), embedder, progress, f"bench://{bench.name}/")


def corpus_store(base: Settings, embedder_name: str, embedder=None, progress: bool = True,
                 corpus_dir: Path = CORPUS_DIR) -> StoreInfo:
    h = hashlib.sha256()
    for path in sorted(corpus_dir.iterdir()):
        if path.is_file():
            h.update(path.name.encode() + b"\0" + path.read_bytes())
    key = f"corpus-{embedder_name}-{fingerprint(base, h.hexdigest())}"
    settings = eval_settings(base, key, embedder_name)
    return _build(settings, lambda ing: ing.ingest_paths([corpus_dir]), embedder, progress, "\0")


def ranked_keys(passages, store: StoreInfo) -> list[str]:
    """Retrieved chunks -> benchmark passage ids (or file names), in rank order, without repeats."""
    out: list[str] = []
    for nws in passages:
        for key in store.passages_of_doc.get(nws.node.metadata.get("doc_id", ""), []):
            if key not in out:
                out.append(key)
    return out
