"""The learned models as data: standardised logistic regressions whose weights live in a JSON file."""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class LinearModel:
    features: tuple[str, ...]
    mean: np.ndarray
    scale: np.ndarray
    weights: np.ndarray
    bias: float

    @classmethod
    def from_dict(cls, data: dict) -> "LinearModel":
        return cls(tuple(data["features"]), np.asarray(data["mean"], dtype=float),
                   np.asarray(data["scale"], dtype=float), np.asarray(data["weights"], dtype=float),
                   float(data["bias"]))

    def as_dict(self) -> dict:
        return {"features": list(self.features), "mean": [round(float(x), 6) for x in self.mean],
                "scale": [round(float(x), 6) for x in self.scale],
                "weights": [round(float(x), 6) for x in self.weights], "bias": round(float(self.bias), 6)}

    def logits(self, rows) -> np.ndarray:
        x = np.asarray(rows, dtype=float).reshape(-1, len(self.features))
        return (x - self.mean) / np.where(self.scale > 0, self.scale, 1.0) @ self.weights + self.bias

    def probability(self, row) -> float:
        z = float(self.logits([row])[0])
        return 1.0 / (1.0 + math.exp(-max(-50.0, min(50.0, z))))


def fitted(features: tuple[str, ...], scaler, logistic) -> LinearModel:
    """A LinearModel from a fitted scikit-learn StandardScaler + LogisticRegression."""
    return LinearModel(features, np.asarray(scaler.mean_), np.asarray(scaler.scale_),
                       np.asarray(logistic.coef_[0]), float(logistic.intercept_[0]))
