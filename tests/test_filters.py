"""Filters on both retrieval branches, applied before ranking, and time expressions in questions."""
from __future__ import annotations

import pytest
from llama_index.core.schema import QueryBundle

from assistant.retrieve import DenseRetriever, LexicalRetriever
from assistant.service import Assistant
from assistant.timefilter import parse_time_expression
from veille.filters import Filters
from veille.store import get_store


@pytest.mark.parametrize("question, start, end", [
    ("Quoi de neuf depuis 2019 ?", 20190101, None),
    ("Et en 2018 ?", 20180101, 20181231),
    ("Que dit le bulletin de mars 2019 ?", 20190301, 20190331),
    ("Qu'est-ce qui a changé avant 2020 ?", None, 20191231),
    ("Les actions menées entre 2017 et 2019", 20170101, 20191231),
    ("Les initiatives après 2018", 20190101, None),
    ("jusqu'en 2019", None, 20191231),
    ("le comité installé en juillet 2017", 20170701, 20170731),
])
def test_time_expressions_become_date_ranges(question, start, end):
    found = parse_time_expression(question)
    assert found is not None and (found.date_from, found.date_to) == (start, end)


def test_questions_without_dates_get_no_filter():
    for q in ("Quels sont les pôles de compétitivité normands ?", "Combien de personnes en 35 heures ?"):
        assert parse_time_expression(q) is None


def _docs(nodes, store):
    return {store.document(n.node.metadata["doc_id"])["doc_type"] for n in nodes}


@pytest.mark.parametrize("filters, allowed", [
    (Filters(doc_types=["rapport"]), {"rapport"}),
    (Filters(doc_types=["article"], date_from=20170701, date_to=20170731), {"article"}),
])
def test_both_branches_honour_filters_before_ranking(demo_store, embedder, filters, allowed):
    store = get_store(demo_store)
    question = QueryBundle("intelligence économique territoriale en Normandie")
    dense = DenseRetriever(store, embedder, top_k=20, filters=filters).retrieve(question)
    lexical = LexicalRetriever(store, top_k=20, filters=filters).retrieve(question)
    assert dense and lexical
    assert _docs(dense, store) == allowed and _docs(lexical, store) == allowed
    # Before ranking: the filtered branch still fills its slots from the allowed documents only.
    n_allowed = sum(store.document(d)["n_chunks"] for d in
                    {n.node.metadata["doc_id"] for n in dense})
    assert len(dense) == min(20, n_allowed)


def test_filiere_and_language_filters(demo_store, embedder):
    store = get_store(demo_store)
    nodes = DenseRetriever(store, embedder, top_k=50, filters=Filters(filieres=["cybersecurite"])).retrieve(
        QueryBundle("protection des données"))
    assert nodes and {store.document(n.node.metadata["doc_id"])["date"] for n in nodes} == {"2017-07-05"}
    assert LexicalRetriever(store, filters=Filters(languages=["en"])).retrieve(QueryBundle("Normandie")) == []


def test_answer_says_which_time_filter_was_applied(demo_store):
    answer = Assistant(demo_store).ask("Qui a co-présidé le comité stratégique en juillet 2017 ?")
    assert answer.filter_note == "documents datés de juillet 2017"
    assert answer.filters["date_from"] == 20170701
    assert not answer.refused and "Buccio" in answer.answer
    assert all(c.date and c.date.startswith("2017-07") for c in answer.citations)
    empty = Assistant(demo_store).ask("Qui a co-présidé le comité stratégique en 2012 ?")
    assert empty.refused and "2012" in empty.answer


def test_a_period_nothing_is_dated_from_is_searched_in_the_text(demo_store):
    # No document of the demo corpus is dated February 2019, but a 2020 report tells of that meeting.
    answer = Assistant(demo_store).ask(
        "Combien de participants a réuni la « Rencontre IE pour les Entreprises » de février 2019 ?")
    assert not answer.refused and "190" in answer.answer
    assert "2019" in answer.filter_note and "étendue" in answer.filter_note
    assert not answer.filters.get("date_from") and not answer.filters.get("date_to")
    assert answer.citations and all("2019" in c.quote for c in answer.citations)

