"""The e5 model run by transformers alone gives the vectors sentence-transformers gives (stores stay compatible),
and a process that only asks questions never imports sentence-transformers (the cold start it saves)."""
from __future__ import annotations

import subprocess
import sys

import numpy as np

from conftest import REPO
from veille.config import Settings
from veille.embeddings import SentenceTransformerEmbedder, TransformersEmbedder, build_embedder

TEXTS = ["Quels sont les pôles de compétitivité en Normandie ?",
         "La CCI accompagne les PME normandes à l'export : diagnostic, salons, prospection.",
         "Court.",
         " ".join(["Le port du Havre investit dans les quais et la desserte ferroviaire."] * 80)]  # > 512 tokens


def test_transformers_backend_gives_sentence_transformers_vectors(models_dir):
    fast = build_embedder("e5-small", Settings(models_path=models_dir, embed_backend="transformers"))
    old = build_embedder("e5-small", Settings(models_path=models_dir, embed_backend="sentence-transformers"))
    assert isinstance(fast, TransformersEmbedder) and type(old) is SentenceTransformerEmbedder
    assert fast.dim == old.dim == 384
    for a, b in ((fast.embed_queries(TEXTS), old.embed_queries(TEXTS)),
                 (fast.embed_passages(TEXTS), old.embed_passages(TEXTS))):
        assert a.shape == b.shape == (len(TEXTS), 384)
        cosines = np.sum(a * b, axis=1)
        assert cosines.min() >= 0.9999, cosines
        assert np.allclose(np.linalg.norm(a, axis=1), 1.0, atol=1e-5)
    # Different texts stay apart: the pooling is not a constant.
    assert float(fast.embed_queries(TEXTS[:1])[0] @ fast.embed_passages(TEXTS[3:])[0]) < 0.95


def test_a_question_only_process_does_not_import_sentence_transformers(models_dir):
    code = ("import sys; from pathlib import Path; from veille.config import Settings;"
            "from veille.embeddings import get_embedder;"
            f"v = get_embedder(Settings(models_path=Path({str(models_dir)!r}))).embed_queries(['Quelles aides ?']);"
            "print(v.shape, 'sentence_transformers' in sys.modules, 'sklearn' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["(1,", "384)", "False", "False"], out.stdout + out.stderr
