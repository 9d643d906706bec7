"""One Veille store per (benchmark, embedder), cached by content hash under $VEILLE_HOME/cache/eval.

Passages go through the real ingestion (``Ingestor.run`` with ``SourceItem``s whose source is
``bench://<set>/<passage id>``), so they are chunked, embedded and indexed exactly as user documents.
Ingestion is idempotent: a second run finds every source unchanged and starts in seconds.
"""
from __future__ import annotations

import hashlib
import json
import time
from dataclasses import dataclass
from pathlib import Path

from eval.datasets import Bench
from ingestion.extract import Extracted
from ingestion.pipeline import Ingestor, SourceItem
from veille.config import CORPUS_DIR, Settings


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


def _fingerprint(base: Settings, content: str) -> str:
    # Normalisation, chunking and quantisation change what is stored, so they are part of the cache key.
    code = hashlib.sha256(b"".join(p.read_bytes() for p in _TEXT_CODE)).hexdigest()
    key = f"{content}|{base.chunk_tokens}|{base.chunk_overlap}|{base.embed_quantize}|{code}"
    return hashlib.sha256(key.encode()).hexdigest()[:12]


def _items(bench: Bench) -> list[SourceItem]:
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
    passages_of_doc: dict[str, list[str]] = {}
    for source, doc_id in ingestor.store.source_documents():
        key = source[len(prefix):] if source.startswith(prefix) else Path(source).name
        passages_of_doc.setdefault(doc_id, []).append(key)
    chunks = ingestor.store.count_chunks()
    return StoreInfo(settings, passages_of_doc, chunks, stats["seconds"], bool(report.documents_written))


def bench_store(bench: Bench, base: Settings, embedder_name: str, embedder=None,
                progress: bool = True) -> StoreInfo:
    key = f"{bench.name}-{embedder_name}-{_fingerprint(base, bench.content_hash())}"
    settings = eval_settings(base, key, embedder_name)
    items = _items(bench)
    return _build(settings, lambda ing: ing.run(items), embedder, progress, f"bench://{bench.name}/")


def corpus_store(base: Settings, embedder_name: str, embedder=None, progress: bool = True,
                 corpus_dir: Path = CORPUS_DIR) -> StoreInfo:
    h = hashlib.sha256()
    for path in sorted(corpus_dir.iterdir()):
        if path.is_file():
            h.update(path.name.encode() + b"\0" + path.read_bytes())
    key = f"corpus-{embedder_name}-{_fingerprint(base, h.hexdigest())}"
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


def timed(fn):
    t0 = time.perf_counter()
    value = fn()
    return value, (time.perf_counter() - t0) * 1000
