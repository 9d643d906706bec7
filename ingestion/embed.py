"""Stage 6 — embed: the text each chunk is embedded with, and batched, length-sorted embedding that embeds
only what the store does not already hold (the chunk-level cache, ``veille/store/embedcache.py``)."""
from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Callable, Sequence

import numpy as np

from ingestion.chunk import Chunk
from veille.embeddings import Embedder


def embedding_text(title: str, chunk: Chunk) -> str:
    """Title and heading give a passage its context ("which committee?"), as the benchmarks' title + text."""
    head = [h for h in (title, chunk.heading) if h and h not in chunk.text[:200]]
    return "\n".join(head + [chunk.text])


def embed_key(model: str, text: str) -> str:
    """What a vector depends on: the model (name and quantisation) and the exact text embedded."""
    return hashlib.sha256(f"{model}\x00{text}".encode("utf-8")).hexdigest()[:32]


def embed_texts(embedder: Embedder, texts: Sequence[str], batch_size: int,
                progress: Callable[[int], None] | None = None) -> np.ndarray:
    """All texts in one call: the embedder sorts them by length across the whole set, not per batch."""
    return embedder.embed_passages(list(texts), batch_size=batch_size, progress=progress)


@dataclass
class CachedEmbedding:
    vectors: np.ndarray
    embedded: int  # texts the model computed
    reused: int  # texts whose vector came from the store or from an identical text of the same batch


def embed_with_cache(get_embedder: Callable[[], Embedder], texts: Sequence[str], keys: Sequence[str],
                     cached: Callable[[list[str]], dict[str, np.ndarray]], batch_size: int,
                     progress: Callable[[int], None] | None = None) -> CachedEmbedding:
    """Vectors of ``texts``: the stored ones by key (``cached``), each distinct remaining text embedded once.
    The model is only loaded (``get_embedder``) when something is left to embed."""
    found = cached(list(keys))
    todo: dict[str, int] = {}  # key -> index of its first text still to embed
    for i, key in enumerate(keys):
        if key not in found and key not in todo:
            todo[key] = i
    if progress is not None and len(texts) > len(todo):
        progress(len(texts) - len(todo))
    if todo:
        fresh = embed_texts(get_embedder(), [texts[i] for i in todo.values()], batch_size, progress=progress)
        found.update(zip(todo, fresh))
    dim = len(next(iter(found.values()))) if found else 0
    vectors = np.empty((len(texts), dim), dtype=np.float32)
    for i, key in enumerate(keys):
        vectors[i] = found[key]
    return CachedEmbedding(vectors, embedded=len(todo), reused=len(texts) - len(todo))
