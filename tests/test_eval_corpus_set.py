"""The corpus set is data reviewed like code: these checks catch a question whose expected answer is
not in its gold documents, a broken follow-up chain, or a set that lost its unanswerable questions."""
from __future__ import annotations

from collections import Counter

from eval.corpus_set import KINDS, load_corpus_set
from eval.metrics import element_found, fold
from veille.config import CORPUS_DIR


def test_corpus_set_shape():
    items = load_corpus_set()
    assert len(items) >= 60
    kinds = Counter(i.kind for i in items)
    assert set(kinds) == set(KINDS)
    assert kinds["sans-reponse"] >= 15
    assert len({i.id for i in items}) == len(items)


def test_expected_elements_are_in_the_gold_documents():
    texts = {p.name: p.read_text(encoding="utf-8") for p in CORPUS_DIR.glob("*.txt")}
    problems = []
    for item in load_corpus_set():
        if item.unanswerable:
            assert not item.gold_docs and not item.expected, item.id
            continue
        assert item.gold_docs and item.expected, item.id
        missing_docs = [d for d in item.gold_docs if d not in texts]
        assert not missing_docs, (item.id, missing_docs)
        joined = "\n".join(texts[d] for d in item.gold_docs)
        problems += [(item.id, e) for e in item.expected if not element_found(e, joined)]
        if item.gold_passage:
            assert any(fold(item.gold_passage) in fold(texts[d]) for d in item.gold_docs), item.id
    assert not problems


def test_follow_up_chains_are_ordered():
    chains: dict[str, list[int]] = {}
    for item in load_corpus_set():
        if item.chain:
            chains.setdefault(item.chain, []).append(item.turn)
        else:
            assert item.kind != "relance", item.id
    assert len(chains) >= 3
    for turns in chains.values():
        assert turns == list(range(1, len(turns) + 1)) and len(turns) >= 2
