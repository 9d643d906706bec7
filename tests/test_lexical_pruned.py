"""The bounded-cost lexical query (``lexical_query = "pruned"``, veille/store/lexical.py) and the hybrid
search's branches run at once: same scores and same fused lists as the full query and the sequential search.

At this size no term is common enough to be pruned by the shipped thresholds (they matter from thousands of
passages on), so the tests lower them: the behaviour is the same at any size."""
from __future__ import annotations

import pytest

from assistant.retrieve import HybridRetriever
from veille.errors import UnknownChoice
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
def stores(tmp_path_factory, models_dir, embedder):
    from ingestion.pipeline import Ingestor
    from veille.config import Settings

    base = tmp_path_factory.mktemp("lexical")
    corpus = base / "corpus"
    corpus.mkdir()
    for i, text in enumerate(COMMON):
        (corpus / f"commun{i}.txt").write_text(text, encoding="utf-8")
    for name, text in RARE.items():
        (corpus / f"{name}.txt").write_text(text, encoding="utf-8")
    pruned = Settings(home=base / "home", models_path=models_dir, entities="none")
    Ingestor(pruned, embedder=embedder, progress=False).ingest_paths([corpus])
    return get_store(pruned), get_store(pruned.with_(lexical_query="full", parallel_branches="off"))


@pytest.fixture
def low_thresholds(monkeypatch):
    """« entreprise » (in every passage) is common; the rare words (one passage each) are not."""
    monkeypatch.setattr(lexical, "PRUNE_MIN_DF", 1)
    monkeypatch.setattr(lexical, "PRUNE_FRACTION", 0.5)


def _ranks(rows):
    return {r["chunk_id"]: r["rank"] for r in rows}


def test_a_passage_sharing_only_a_rare_term_is_found_first(stores, low_thresholds):
    new, old = stores
    terms = sorted(set(tokens("entreprise safran")))
    pruned = new.lexical_search(terms, top_k=1)
    assert pruned and "Safran" in pruned[0]["text"]
    full = old.lexical_search(terms, top_k=1)
    assert [r["chunk_id"] for r in pruned] == [r["chunk_id"] for r in full]
    assert pruned[0]["rank"] == pytest.approx(full[0]["rank"], rel=1e-9)


def test_pruned_scores_are_the_full_query_scores(stores, low_thresholds):
    """The common term still scores: every candidate has FTS5's bm25 over all the terms."""
    new, old = stores
    terms = sorted(set(tokens("entreprise cidre hydrogène Safran")))
    pruned, full = _ranks(new.lexical_search(terms, top_k=3)), _ranks(old.lexical_search(terms, top_k=3))
    assert pruned.keys() == full.keys() and len(pruned) == 3
    for chunk_id, rank in full.items():
        assert pruned[chunk_id] == pytest.approx(rank, rel=1e-9)
    # Only the candidate set is bounded: passages with nothing but the common term are not candidates.
    assert len(new.lexical_search(terms, top_k=3)) == 3
    assert new.lexical_pruned(terms, Filters(), 3) is not None  # the pruned path did run


def test_too_few_rare_matches_fall_back_to_the_full_query(stores, low_thresholds):
    new, old = stores
    terms = sorted(set(tokens("entreprise cidre")))
    assert new.lexical_pruned(terms, Filters(), 10) is None  # one passage has « cidre »: fewer than 10
    assert new.lexical_search(terms, top_k=10) == old.lexical_search(terms, top_k=10)
    assert len(new.lexical_search(terms, top_k=10)) == 10


def test_audience_scores_and_pruning_use_the_audience_statistics(stores, low_thresholds):
    """Within an audience the common terms are those common *there*: a store-wide count would tell about
    passages outside it. Same ranks as the full query's audience re-scoring."""
    new, old = stores
    terms = sorted(set(tokens("entreprise safran cidre hydrogène")))
    audience = Filters(audience=["public"])
    pruned, full = _ranks(new.lexical_search(terms, audience, 3)), _ranks(old.lexical_search(terms, audience, 3))
    assert pruned.keys() == full.keys() and pruned
    for chunk_id, rank in full.items():
        assert pruned[chunk_id] == pytest.approx(rank, rel=1e-9)


def test_parallel_hybrid_returns_the_sequential_fused_list(stores, embedder):
    new, _ = stores
    for question in ("Qui fabrique des nacelles ?", "entreprise cidre Japon", "ferry"):
        bundle = Query(question, embedding=embedder.embed_queries([question])[0].tolist())
        lists = []
        for parallel in (True, False):
            found = HybridRetriever(new, embedder, top_k=5, candidates=20, parallel=parallel).search(bundle)
            lists.append([(n.node.node_id, n.score) for n in found.passages])
            assert found.dense and found.lexical is not None
        assert lists[0] == lists[1] and lists[0]


def test_unknown_lexical_query_is_a_french_error(stores):
    new, _ = stores
    store = get_store(new.settings.with_(lexical_query="approx"))
    with pytest.raises(UnknownChoice, match="Requête lexicale inconnue"):
        store.lexical_search(["entreprise"])


def test_unknown_parallel_branches_setting_is_a_french_error(stores, embedder):
    new, _ = stores
    store = get_store(new.settings.with_(parallel_branches="oui"))
    with pytest.raises(UnknownChoice, match="VEILLE_PARALLEL_BRANCHES.*« oui ».*off, on"):
        HybridRetriever(store, embedder, top_k=5, candidates=20)
