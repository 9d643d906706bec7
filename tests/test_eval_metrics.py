"""The harness's own arithmetic and checks, on hand-made cases whose answers are known, and the
plain-BM25 sanity check against the reference figures of ../shared/README.md."""
from __future__ import annotations

import math

import pytest

from eval.metrics import check_citations, coverage, element_found, refusal_scores, retrieval_scores
from tests.conftest import needs_shared


def test_retrieval_scores_rank_and_ndcg():
    s = retrieval_scores(["a", "b", "c", "d"], {"c"})
    assert s["hit@1"] == 0.0 and s["hit@5"] == 1.0
    assert s["mrr@10"] == pytest.approx(1 / 3)
    assert s["ndcg@10"] == pytest.approx(1 / math.log2(4))
    # Two relevant passages (a document-level gold): ideal DCG counts both.
    s = retrieval_scores(["x", "g1", "g2"], {"g1", "g2"})
    assert s["ndcg@10"] == pytest.approx((1 / math.log2(3) + 1 / math.log2(4)) / (1 + 1 / math.log2(3)))
    assert s["recall@5"] == 1.0
    # Repeats (two chunks of one passage) count once; a miss scores zero everywhere.
    assert retrieval_scores(["a", "a", "g"], {"g"})["mrr@10"] == pytest.approx(0.5)
    assert retrieval_scores(["a"] * 3, {"g"}) == {k: 0.0 for k in retrieval_scores(["a"] * 3, {"g"})}


def test_expected_elements_ignore_case_accents_and_quotes():
    assert element_found("préfète de la région Normandie", "la PREFETE de la région normandie, Mme Buccio")
    assert element_found("Mov'eo", "les pôles Mov’eo et TES")
    assert element_found("NetSecureDays|NetSecurDay", "lancement au NetSecurDay")
    assert not element_found("2004", "créés en 2005")
    assert coverage(["veille", "influence", "sécurité"], "veille et sécurité") == pytest.approx(2 / 3, abs=1e-3)


def test_citation_precision_catches_an_unsupported_number():
    quote = "Le Bulletin de Veille collaborative est transmis, trimestriellement, à 120 structures partenaires."
    good = "Le Bulletin de Veille collaborative est transmis, trimestriellement, à 120 structures partenaires. [1]"
    assert check_citations(good, {1: quote}).supported == 1
    bad = "Le Bulletin de Veille collaborative est transmis, trimestriellement, à 150 structures partenaires. [1]"
    check = check_citations(bad, {1: quote})
    assert (check.sentences, check.supported) == (1, 0)
    # Cited passage that does not exist, or names someone the quote does not mention.
    assert check_citations(good, {2: quote}).supported == 0
    assert check_citations("Le Bulletin est transmis par Jean Dupont à 120 structures partenaires. [1]",
                           {1: quote}).supported == 0


def test_refusal_precision_and_recall():
    refused = [True, True, False, False, True]
    unanswerable = [True, False, True, False, True]
    s = refusal_scores(refused, unanswerable)
    assert s["refusal_precision"] == pytest.approx(2 / 3, abs=1e-3)
    assert s["refusal_recall"] == pytest.approx(2 / 3, abs=1e-3)
    assert s["false_refusal_rate"] == pytest.approx(1 / 2, abs=1e-3)


@pytest.mark.parametrize("name", ["piaf", "spf", "cnil"])
def test_plain_bm25_reproduces_reference_figures(name):
    """Sanity check of the harness: gold mapping and metrics give the README's BM25 figures (±0.02)."""
    needs_shared(f"bench/{name}")
    from eval.bm25_peer import REFERENCE, TOLERANCE, BM25Peer
    from eval.datasets import load_bench
    from eval.metrics import mean_scores

    bench = load_bench(name, full=True)
    ranked, _ = BM25Peer(bench).search([q.question for q in bench.questions], k=10)
    m = mean_scores([retrieval_scores(r, bench.gold_passages(q)) for q, r in zip(bench.questions, ranked)])
    hit10, ndcg10 = REFERENCE[name]
    assert abs(m["hit@10"] - hit10) <= TOLERANCE, m
    assert abs(m["ndcg@10"] - ndcg10) <= TOLERANCE, m
