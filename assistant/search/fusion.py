"""Score fusion of ranked lists, one small class per method (as txtai's hybrid scoring)."""
from __future__ import annotations

from dataclasses import dataclass

from veille.errors import choose


@dataclass
class ReciprocalRankFusion:
    """RRF: score(d) = Σ_lists weight / (k + rank(d)). Robust when branch scores are not comparable."""

    k: int = 60
    weights: tuple[float, ...] = (1.0, 1.0)

    def fuse(self, ranked_lists: list[list[tuple[str, float]]]) -> list[tuple[str, float]]:
        scores: dict[str, float] = {}
        for weight, ranked in zip(self.weights, ranked_lists):
            for rank, (key, _) in enumerate(ranked, start=1):
                scores[key] = scores.get(key, 0.0) + weight / (self.k + rank)
        return sorted(scores.items(), key=lambda kv: kv[1], reverse=True)


@dataclass
class WeightedScoreFusion:
    """Min-max normalise each list's scores to [0, 1], then a weighted sum (missing = 0)."""

    weights: tuple[float, ...] = (0.5, 0.5)

    def fuse(self, ranked_lists: list[list[tuple[str, float]]]) -> list[tuple[str, float]]:
        scores: dict[str, float] = {}
        for weight, ranked in zip(self.weights, ranked_lists):
            if not ranked:
                continue
            values = [s for _, s in ranked]
            low, high = min(values), max(values)
            span = (high - low) or 1.0
            for key, score in ranked:
                scores[key] = scores.get(key, 0.0) + weight * (score - low) / span
        return sorted(scores.items(), key=lambda kv: kv[1], reverse=True)


# Fusion of [dense, lexical] lists by name; the default (wsum) was chosen on PIAF, SPF and CNIL (eval/README.md).
FUSIONS = {
    "wsum": lambda dense_weight: WeightedScoreFusion(weights=(dense_weight, 1.0 - dense_weight)),
    "rrf": lambda dense_weight: ReciprocalRankFusion(),
}


def make_fusion(name: str, dense_weight: float = 0.5):
    """The fusion called ``name`` (``UnknownChoice`` for any other name: no silent fallback)."""
    return choose(FUSIONS, name, "Fusion inconnue")(dense_weight)
