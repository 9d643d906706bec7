"""The passage a search returns, as the assistant reads it.

Written here rather than taken from llama-index (``TextNode``, ``NodeWithScore``, ``QueryBundle``) because
importing ``llama_index.core.schema`` runs the whole ``llama_index.core`` package (chat engines, indices,
SQLAlchemy): about 1 s of every `veille ask` cold start on this machine, for three plain records. The field
and method names are llama-index's, so code reading a passage reads the same either way; ingestion, which
writes through llama-index's Chroma adapter, still builds llama-index nodes.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass
class Passage:
    """One stored chunk: its id, text, character span in its document, and metadata (``doc_id``, ...)."""

    id_: str
    text: str
    metadata: dict[str, Any] = field(default_factory=dict)
    start_char_idx: int | None = None
    end_char_idx: int | None = None

    @property
    def node_id(self) -> str:
        return self.id_

    def get_content(self) -> str:
        return self.text


@dataclass
class ScoredPassage:
    """A passage with the score of the search that found it (higher is better)."""

    node: Passage
    score: float | None = None


@dataclass
class Query:
    """A question as the retrievers take it, with its vector when the caller already has one."""

    query_str: str
    embedding: list[float] | None = None
