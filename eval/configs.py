"""Retrieval configurations compared by the harness."""
from __future__ import annotations

from dataclasses import dataclass

RETRIEVERS = ("bm25", "dense", "hybrid")
FUSIONS = ("rrf", "wsum")
PEER = "bm25s"


@dataclass(frozen=True)
class Config:
    retriever: str  # bm25 | dense | hybrid | bm25s (the plain peer)
    embedder: str | None = None
    fusion: str = "wsum"

    @property
    def name(self) -> str:
        if self.retriever in ("bm25", PEER):
            return self.retriever
        if self.retriever == "dense":
            return f"dense-{self.embedder}"
        return f"hybrid-{self.fusion}-{self.embedder}"


def expand(retrievers: list[str], embedders: list[str], fusions: list[str]) -> list[Config]:
    """Every requested combination; BM25 needs no embedder, so it appears once."""
    bad = [r for r in retrievers if r not in RETRIEVERS]
    if bad:
        raise ValueError(f"Retriever inconnu : {', '.join(bad)} (choix : {', '.join(RETRIEVERS)}).")
    bad = [f for f in fusions if f not in FUSIONS]
    if bad:
        raise ValueError(f"Fusion inconnue : {', '.join(bad)} (choix : {', '.join(FUSIONS)}).")
    if not embedders:
        raise ValueError("Indiquez au moins un modèle d'embedding.")
    out: list[Config] = []
    for r in retrievers:
        if r == "bm25":
            out.append(Config("bm25", embedders[0]))
        elif r == "dense":
            out.extend(Config("dense", e) for e in embedders)
        else:
            out.extend(Config("hybrid", e, f) for e in embedders for f in fusions)
    return list(dict.fromkeys(out))
