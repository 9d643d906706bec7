"""How well the rules policy's features separate the corpus set's answerable and unanswerable questions.

    .venv/bin/python -m eval.calibrate

The corpus set is a test set: nothing is fitted on it for the product any more (issue 12). The weights of
``assistant/answerability/rules.json`` were fitted here by an earlier version and are frozen, kept as the rules
design the learned models are measured against (``veille eval --answerability``); this command only reports
the leave-one-out figures below, it writes nothing.

Runs every question of ``eval/corpus_set.jsonl`` through the public ``Assistant`` (follow-ups in their
conversation), reads the answerability features of each answer (``Answer.evidence``), fits a logistic
regression (scikit-learn, standardised features, balanced classes) and picks the threshold that
maximises balanced accuracy on leave-one-out predictions (halfway between two questions' scores), so
the reported precision and recall are those of questions the model did not see. Questions refused
before the model (nothing to quote, or sentences of the wrong kind:
``refusal.refused_before_model``) count as refused; the model is fitted on every question with a
sentence to quote.
"""
from __future__ import annotations

import argparse
import json

import numpy as np
from rich.console import Console
from rich.table import Table

from assistant.conversation.session import Conversation
from assistant.answerability.policy import MODEL_FEATURES, AnswerabilityModel, refused_before_model
from assistant.service import Assistant
from eval.corpus_set import load_corpus_set
from eval.stores import corpus_store
from veille.config import get_settings
from veille.embeddings import get_embedder

FEATURES = list(MODEL_FEATURES)
console = Console()


def collect_features(progress: bool = True) -> tuple[np.ndarray, np.ndarray, list[str], np.ndarray]:
    """Features, labels (1 = answerable), ids, and whether the answer is refused before the model is
    consulted (nothing to quote, or sentences of the wrong kind: ``refusal.refused_before_model``)."""
    base = get_settings()
    embedder = get_embedder(base, "e5-small")
    store = corpus_store(base, "e5-small", embedder, progress)
    assistant = Assistant(store.settings, embedder=embedder)
    conversations: dict[str, Conversation] = {}
    rows, labels, ids, forced = [], [], [], []
    for item in load_corpus_set():
        if item.chain:
            answer = conversations.setdefault(item.chain, Conversation()).ask(assistant, item.question)
        else:
            answer = assistant.ask(item.question)
        rows.append([answer.evidence.get(name, 0.0) for name in FEATURES])
        labels.append(0 if item.unanswerable else 1)  # 1 = answerable
        ids.append(item.id)
        forced.append(refused_before_model(answer.evidence))
    return np.array(rows, dtype=float), np.array(labels), ids, np.array(forced, dtype=bool)


def rates(probabilities: np.ndarray, y: np.ndarray, threshold: float, forced: np.ndarray) -> dict:
    refused = forced | (probabilities < threshold)
    unanswerable = y == 0
    tp = int((refused & unanswerable).sum())
    return {"refusal_precision": tp / max(1, int(refused.sum())),
            "refusal_recall": tp / max(1, int(unanswerable.sum())),
            "answered_rate": float((~refused & ~unanswerable).sum() / max(1, int((~unanswerable).sum())))}


def fit(X: np.ndarray, y: np.ndarray, forced: np.ndarray, C: float = 1.0) -> tuple[AnswerabilityModel, dict]:
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import LeaveOneOut, cross_val_predict
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    pipeline = make_pipeline(StandardScaler(), LogisticRegression(C=C, class_weight="balanced", max_iter=1000))
    # The model learns from every question with a sentence to quote, those refused before it included:
    # fitted on the few the rules let through, it would learn from a handful of examples. Questions
    # refused before the model count as refused at every threshold (``rates``).
    quotable = X[:, FEATURES.index("best_sentence")] > 0
    if min(int((y[quotable] == 0).sum()), int((y[quotable] == 1).sum())) < 2:
        raise ValueError("Trop peu de questions avec et sans réponse pour ajuster le modèle "
                         f"({int((y[quotable] == 0).sum())} sans réponse, {int((y[quotable] == 1).sum())} avec) : "
                         "il en faut au moins 2 de chaque.")
    loo = np.zeros(len(y))
    loo[quotable] = cross_val_predict(pipeline, X[quotable], y[quotable], cv=LeaveOneOut(),
                                      method="predict_proba")[:, 1]
    # Thresholds halfway between neighbouring scores: a threshold equal to one question's score would
    # decide that question by a rounding of its in-sample probability.
    scores = np.unique(loo[quotable & ~forced])  # the questions the threshold decides
    candidates = np.round(np.concatenate([[0.0], (scores[:-1] + scores[1:]) / 2, [1.0]]), 4)

    def balanced_accuracy(t: float) -> tuple[float, float]:
        r = rates(loo, y, t, forced)
        return 0.5 * r["refusal_recall"] + 0.5 * r["answered_rate"], -abs(t - 0.5)  # ties: nearest to 0.5

    best = max(candidates, key=balanced_accuracy)
    pipeline.fit(X[quotable], y[quotable])
    scaler, logistic = pipeline.steps[0][1], pipeline.steps[1][1]
    model = AnswerabilityModel(weights=tuple(float(w) for w in logistic.coef_[0]),
                               bias=float(logistic.intercept_[0]), mean=tuple(float(m) for m in scaler.mean_),
                               scale=tuple(float(s) for s in scaler.scale_), threshold=float(best))
    report = {"questions": int(len(y)), "unanswerable": int((y == 0).sum()), "C": C,
              "refused_before_model": int(forced.sum()),
              "leave_one_out": {k: round(v, 3) for k, v in rates(loo, y, best, forced).items()}}
    fitted = np.zeros(len(y))
    fitted[quotable] = pipeline.predict_proba(X[quotable])[:, 1]
    report["in_sample"] = {k: round(v, 3) for k, v in rates(fitted, y, best, forced).items()}
    return model, report


def main() -> int:
    parser = argparse.ArgumentParser(description="Mesurer comment les indices du refus par règles séparent les "
                                                 "questions du jeu du corpus (diagnostic : rien n'est écrit).")
    parser.add_argument("--C", type=float, default=1.0, help="régularisation de la régression logistique")
    args = parser.parse_args()
    X, y, _, forced = collect_features()
    try:
        model, report = fit(X, y, forced, args.C)
    except ValueError as error:
        console.print(f"[red]{error}[/]")
        return 2
    table = Table(title="Calibration du refus (validation croisée un-contre-tous)")
    table.add_column("mesure")
    table.add_column("valeur", justify="right")
    for key, label in (("refusal_precision", "précision des refus"), ("refusal_recall", "rappel des refus"),
                       ("answered_rate", "questions répondables répondues")):
        table.add_row(label, f"{report['leave_one_out'][key]:.3f}")
    table.add_row("seuil retenu", f"{model.threshold:.3f}")
    console.print(table)
    weights = Table(title="Poids (caractéristiques standardisées)")
    weights.add_column("caractéristique")
    weights.add_column("poids", justify="right")
    for name, w in zip(FEATURES, model.weights):
        weights.add_row(name, f"{w:+.3f}")
    console.print(weights)
    print(json.dumps(report, ensure_ascii=False))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
