"""`veille build-model`."""
from __future__ import annotations

from cli.console import out
from veille.config import get_settings
from veille.embeddings import get_embedder


def cmd_build_model(args) -> int:
    embedder = get_embedder(get_settings())
    out.print(f"Modèle « {embedder.name} » prêt (dimension {embedder.dim}).")
    return 0




def configure(p) -> None:
    p.set_defaults(func=cmd_build_model)
