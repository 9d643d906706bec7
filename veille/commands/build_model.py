"""`veille build-model`."""
from __future__ import annotations

import json
from pathlib import Path

from veille.console import err, out


def cmd_build_model(args) -> int:
    from veille.config import get_settings
    from veille.embeddings import get_embedder

    embedder = get_embedder(get_settings())
    out.print(f"Modèle « {embedder.name} » prêt (dimension {embedder.dim}).")
    return 0




def register(sub) -> None:
    p = sub.add_parser("build-model", help="construire le modèle d'embedding hors ligne")
    p.set_defaults(func=cmd_build_model)
