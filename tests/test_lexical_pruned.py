"""The bounded-cost lexical query (``Store.lexical_search``, veille/store/lexical.py) and the hybrid search's
branches run at once: same scores and same fused lists as the full query (``Store.lexical_full``) and the branches
run one after the other.

At this size no term is common enough to be pruned by the shipped thresholds (they matter from thousands of
passages on), so the tests lower them: the behaviour is the same at any size."""
from __future__ import annotations

import pytest

from assistant.search.retrieve import DenseRetriever, HybridRetriever, LexicalRetriever
from veille.filters import Filters
from veille.passage import Query
from veille.store import get_store, lexical
from veille.text import tokens

# Every passage speaks of « entreprise » (the common term); one only of a rare word each.
COMMON = [f"L'entreprise numéro {i} de la région embauche des techniciens et investit dans ses ateliers."
          for i in range(12)]
RARE = {"safran": "Une entreprise normande fabrique des nacelles pour le motoriste Safran.",
        "cidre": "Une entreprise du pays d'Auge exporte son cidre vers le Japon.",
        "hydrogene": "Une entreprise de Cherbourg teste un ferry à hydrogène."}


@pytest.fixture(scope="module")
def store(tmp_path_factory, models_dir, embedder):
    from ingestion.pipeline import Ingestor
    from veille.config import Settings

    base = tmp_path_factory.mktemp("lexical")
    corpus = base / "corpus"
    corpus.mkdir()
    for i, text in enumerate(COMMON):
        (corpus / f"commun{i}.txt").write_text(text, encoding="utf-8")
    for name, text in RARE.items():
        (corpus / f"{name}.txt").write_text(text, encoding="utf-8")
    settings = Settings(home=base / "home", models_path=models_dir, entities="none")
    Ingestor(settings, embedder=embedder, progress=False).ingest_paths([corpus])
    return get_store(settings)


@pytest.fixture
def low_thresholds(monkeypatch):
    """« entreprise » (in every passage) is common; the rare words (one passage each) are not."""
    monkeypatch.setattr(lexical, "PRUNE_MIN_DF", 1)
    monkeypatch.setattr(lexical, "PRUNE_FRACTION", 0.5)


def _ranks(rows):
    return {r["chunk_id"]: r["rank"] for r in rows}


def test_a_passage_sharing_only_a_rare_term_is_found_first(store, low_thresholds):
    terms = sorted(set(tokens("entreprise safran")))
    pruned = store.lexical_search(terms, top_k=1)
    assert pruned and "Safran" in pruned[0]["text"]
    full = store.lexical_full(terms, top_k=1)
    assert [r["chunk_id"] for r in pruned] == [r["chunk_id"] for r in full]
    assert pruned[0]["rank"] == pytest.approx(full[0]["rank"], rel=1e-9)


def test_pruned_scores_are_the_full_query_scores(store, low_thresholds):
    """The common term still scores: every candidate has FTS5's bm25 over all the terms."""
    terms = sorted(set(tokens("entreprise cidre hydrogène Safran")))
    pruned, full = _ranks(store.lexical_search(terms, top_k=3)), _ranks(store.lexical_full(terms, top_k=3))
    assert pruned.keys() == full.keys() and len(pruned) == 3
    for chunk_id, rank in full.items():
        assert pruned[chunk_id] == pytest.approx(rank, rel=1e-9)
    # Only the candidate set is bounded: passages with nothing but the common term are not candidates.
    assert len(store.lexical_search(terms, top_k=3)) == 3
    assert store.lexical_pruned(terms, Filters(), 3) is not None  # the pruned path did run


def test_too_few_rare_matches_fall_back_to_the_full_query(store, low_thresholds):
    terms = sorted(set(tokens("entreprise cidre")))
    assert store.lexical_pruned(terms, Filters(), 10) is None  # one passage has « cidre »: fewer than 10
    assert store.lexical_search(terms, top_k=10) == store.lexical_full(terms, top_k=10)
    assert len(store.lexical_search(terms, top_k=10)) == 10


def test_audience_scores_and_pruning_use_the_audience_statistics(store, low_thresholds):
    """Within an audience the common terms are those common *there*: a store-wide count would tell about
    passages outside it. Same ranks as the full query's audience re-scoring."""
    terms = sorted(set(tokens("entreprise safran cidre hydrogène")))
    audience = Filters(audience=["public"])
    pruned, full = _ranks(store.lexical_search(terms, audience, 3)), _ranks(store.lexical_full(terms, audience, 3))
    assert pruned.keys() == full.keys() and pruned
    for chunk_id, rank in full.items():
        assert pruned[chunk_id] == pytest.approx(rank, rel=1e-9)


class _OneAfterTheOther(HybridRetriever):
    """The branches run in turn, in this thread."""

    def branches(self, query):
        return self.dense.retrieve(query), self.lexical.retrieve(query)


def test_hybrid_branches_run_at_once_give_the_lists_and_the_fused_list_of_branches_run_in_turn(store, embedder):
    for question in ("Qui fabrique des nacelles ?", "entreprise cidre Japon", "ferry"):
        bundle = Query(question, embedding=embedder.embed_queries([question])[0].tolist())
        at_once = HybridRetriever(store, embedder, top_k=5, candidates=20).search(bundle)
        in_turn = _OneAfterTheOther(store, embedder, top_k=5, candidates=20).search(bundle)
        fused = [[(n.node.node_id, n.score) for n in found.passages] for found in (at_once, in_turn)]
        assert fused[0] == fused[1] and fused[0]
        alone = (DenseRetriever(store, embedder, 20).retrieve(bundle), LexicalRetriever(store, 20).retrieve(bundle))
        for got, expected in zip((at_once.dense, at_once.lexical), alone):
            assert [(n.node.node_id, n.score) for n in got] == [(n.node.node_id, n.score) for n in expected]
        assert at_once.dense and at_once.lexical
