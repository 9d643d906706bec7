"""Filters on both retrieval branches, applied before ranking, and periods named in questions: evidence that
favours passages and documents, a date filter only when the wording is about publication."""
from __future__ import annotations

import pytest
from conftest import veille

from assistant.search.period import PeriodBoost, apply_period, read_period
from assistant.search.retrieve import DenseRetriever, LexicalRetriever, Search
from assistant.service import Assistant
from assistant.search.timefilter import parse_time_expression
from veille.filters import Filters
from veille.passage import Query
from veille.store import get_store
from webui.chat import render_answer


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
    question = Query("intelligence économique territoriale en Normandie")
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
        Query("protection des données"))
    assert nodes and {store.document(n.node.metadata["doc_id"])["date"] for n in nodes} == {"2017-07-05"}
    assert LexicalRetriever(store, filters=Filters(languages=["en"])).retrieve(Query("Normandie")) == []


@pytest.mark.parametrize("question, publication", [
    ("Les articles publiés en 2019 sur la cybersécurité", True),
    ("Les décisions publiées par la CNIL en 2019", True),
    ("Les documents parus depuis 2018 sur l'intelligence économique", True),
    ("Que dit le bulletin de mars 2019 ?", True),
    ("Les documents de 2019 sur l'intelligence économique", True),
    ("Les rapports datés de 2018", True),
    ("Quoi de neuf depuis 2019 ?", True),
    ("Quel était le budget du programme en 2020 ?", False),
    ("Combien de participants a réuni la « Rencontre IE pour les Entreprises » de février 2019 ?", False),
    ("Qui a co-présidé le comité stratégique en juillet 2017 ?", False),
    ("Que recommandait le rapport Martre de 1994 ?", False),  # a report named, not the documents of 1994
    ("La plateforme mise en ligne en 2019", False),
])
def test_only_wording_about_publication_makes_a_date_filter(question, publication):
    filters, period = apply_period(question, Filters())
    assert period is not None and period.publication is publication
    assert bool(filters.date_from or filters.date_to) is publication
    assert period.note.startswith("Filtre tiré de la question" if publication else "Période de la question")


def test_dates_the_user_chose_win_over_the_question(demo_store):
    asked = Filters(date_from=20170101, date_to=20171231)
    filters, period = apply_period("Les articles publiés en 2019", asked)
    assert filters == asked and period is None
    answer = Assistant(demo_store).ask("Qui a co-présidé le comité stratégique en 2019 ?", asked)
    assert answer.filter_note is None and answer.filters["date_to"] == 20171231
    assert all(c.date.startswith("2017") for c in answer.citations)


def test_a_year_in_the_question_finds_the_event_in_a_document_published_later(demo_store):
    # Two demo documents are dated 2017 (July); the October 2017 committees are told by the 2019 report only.
    # As a publication filter, « en 2017 » would search those two and miss it.
    answer = Assistant(demo_store).ask(
        "Combien de types d'actions les Comités Opérationnels tenus en 2017 ont-ils permis de définir ?")
    assert not answer.refused and "quatre grands types" in answer.answer
    assert any(c.date == "2019" for c in answer.citations)
    assert not answer.filters.get("date_from") and not answer.filters.get("date_to")
    assert answer.filter_note == ("Période de la question (2017) : passages qui la citent et documents datés de 2017 "
                                  "favorisés, sans filtre de date")


def test_a_period_nothing_is_dated_from_is_found_in_the_text(demo_store):
    # No document of the demo corpus is dated February 2019, but a 2019 report tells of that meeting.
    answer = Assistant(demo_store).ask(
        "Combien de participants a réuni la « Rencontre IE pour les Entreprises » de février 2019 ?")
    assert not answer.refused and "190" in answer.answer
    assert "février 2019" in answer.filter_note and "sans filtre" in answer.filter_note
    assert not answer.filters.get("date_from") and not answer.filters.get("date_to")
    assert answer.citations and all("2019" in c.quote for c in answer.citations)


def test_the_period_favours_passages_citing_it_without_filtering(demo_store, embedder):
    store = get_store(demo_store)
    question = "Quelles actions ont été menées en décembre 2018 ?"
    period = read_period(question)
    plain = Search(store, embedder)(question, Filters(), 8)
    favoured = Search(store, embedder)(question, Filters(), 8, PeriodBoost(period.time, store))
    assert "décembre 2018" in favoured.passages[0].node.get_content()
    def rank(result):
        return next(i for i, p in enumerate(result.passages) if "décembre 2018" in p.node.get_content())
    assert rank(favoured) <= rank(plain)
    # Evidence, not a filter: documents not dated in the period (undated, or dated by their file) still take part.
    assert any(not (store.document(p.node.metadata["doc_id"])["date"] or "").startswith("2018-12")
               for p in favoured.passages)


def test_a_period_no_document_found_speaks_of_is_refused(demo_store):
    # The committee was installed in 2017; no document is dated 2012 or cites that year.
    answer = Assistant(demo_store).ask("Qui a co-présidé le comité stratégique en 2012 ?")
    assert answer.refused and "Buccio" not in answer.answer and "(2012)" in answer.answer
    assert answer.confidence == 0.0 and answer.evidence["period_found"] == 0.0 and not answer.citations
    assert "sans filtre" in answer.filter_note


def test_a_publication_filter_from_the_question_is_applied_and_said(demo_store):
    answer = Assistant(demo_store).ask(
        "Selon les articles publiés en juillet 2017, qui a co-présidé le comité stratégique ?")
    assert answer.filter_note == "Filtre tiré de la question : documents datés de juillet 2017"
    assert answer.filters["date_from"] == 20170701 and answer.filters["date_to"] == 20170731
    assert not answer.refused and "Buccio" in answer.answer
    assert all(c.date and c.date.startswith("2017-07") for c in answer.citations)
    empty = Assistant(demo_store).ask("Selon les articles publiés en 2012, qui a co-présidé le comité stratégique ?")
    assert empty.refused and "documents datés de 2012" in empty.answer and "filtre tiré de la question" in empty.answer


def test_the_cli_and_the_web_ui_say_how_the_date_was_used(demo_store, env):
    env = {**env, "VEILLE_HOME": str(demo_store.home)}
    run = veille("ask", "Combien de participants a réuni la « Rencontre IE pour les Entreprises » de février 2019 ?",
                 env=env)
    assert run.returncode == 0, run.stderr
    assert ("Période de la question (février 2019) : passages qui la citent et documents datés de février 2019 "
            "favorisés, sans filtre de date") in " ".join(run.stdout.split())
    assert "190" in run.stdout
    answer = Assistant(demo_store).ask("Que disent les documents de juillet 2017 sur le comité stratégique ?")
    shown = render_answer(answer, 1, "extractif")
    assert "*Filtre tiré de la question : documents datés de juillet 2017*" in shown
    assert "du 01/07/2017 au 31/07/2017" in shown  # the filter itself, among the active filters
