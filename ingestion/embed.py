"""Stage 6 — embed: the text each chunk is embedded with, and batched, length-sorted embedding."""
from __future__ import annotations

from typing import Callable, Sequence

import numpy as np

from ingestion.chunk import Chunk
from veille.embeddings import Embedder


def embedding_text(title: str, chunk: Chunk) -> str:
    """Title and heading give a passage its context ("which committee?"), as the benchmarks' title + text."""
    head = [h for h in (title, chunk.heading) if h and h not in chunk.text[:200]]
    return "\n".join(head + [chunk.text])


def embed_texts(embedder: Embedder, texts: Sequence[str], batch_size: int,
                progress: Callable[[int], None] | None = None) -> np.ndarray:
    """All texts in one call: the embedder sorts them by length across the whole set, not per batch."""
    return embedder.embed_passages(list(texts), batch_size=batch_size, progress=progress)
