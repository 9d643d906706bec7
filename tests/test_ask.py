"""`veille ask`: the JSON contract, the right source cited, unanswerable questions refused."""
from __future__ import annotations

import json

import pytest
from conftest import REPO, veille

from assistant.service import Assistant

KEYS = {"question", "answer", "refused", "citations", "timings_ms"}
CITATION_KEYS = {"n", "doc_id", "title", "doc_type", "date", "source", "quote", "score"}


def test_json_lines_from_stdin(env):
    assert veille("ingest", str(REPO / "corpus"), env=env).returncode == 0
    questions = ("Quels sont les pôles de compétitivité normands ?\n"
                 "Quelle est la recette de la teurgoule ?\n")
    run = veille("ask", "--json", env=env, input=questions)
    assert run.returncode == 0, run.stderr
    lines = [json.loads(l) for l in run.stdout.splitlines()]
    assert len(lines) == 2
    answered, refused = lines
    assert KEYS <= set(answered) and not answered["refused"]
    assert answered["citations"] and CITATION_KEYS <= set(answered["citations"][0])
    assert "HIPPOLIA" in answered["answer"] and "[1]" in answered["answer"]
    assert answered["citations"][0]["source"].endswith("001_ec2d28b11d5960b8.txt")
    assert refused["refused"] and not refused["citations"]
    assert "ne contient pas" in refused["answer"]
    assert answered["status"] == "answer" and refused["status"] == "none"  # scripts read the outcome from it


@pytest.mark.parametrize("question, expected_doc, expected_text", [
    ("Qui a co-présidé le comité stratégique d'intelligence économique territoriale ?", None, "Buccio"),
    ("Quels sont les trois volets de l'intelligence économique territoriale ?", "000_", "veille, influence et sécurité"),
    ("Quelles régions se sont portées candidates pour expérimenter le dispositif ?", "002_", "Nouvelle-Aquitaine"),
    ("Combien de participants a réuni la Rencontre IE pour les Entreprises ?", None, "190 participants"),
])
def test_answers_cite_the_right_source(demo_store, question, expected_doc, expected_text):
    answer = Assistant(demo_store).ask(question)
    assert not answer.refused
    assert expected_text in answer.answer
    if expected_doc:
        assert any(expected_doc in c.source for c in answer.citations)
    for c in answer.citations:  # every cited sentence is really in its passage
        assert c.sentence.strip() in c.quote


@pytest.mark.parametrize("question", [
    "Quel est le chiffre d'affaires d'Airbus en 2022 ?",
    "Quelle est la recette de la tarte aux pommes normande ?",
    "Combien coûte un billet de train Paris-Caen ?",
    # On topic, but the corpus holds another kind of answer: 190 participants, not a number of companies;
    # the first committee's date, not the third's.
    "Combien d'entreprises ont participé à la Rencontre IE pour les Entreprises ?",
    "Quand le troisième comité stratégique d'intelligence économique territoriale s'est-il réuni ?",
])
def test_unanswerable_questions_are_refused(demo_store, question):
    answer = Assistant(demo_store).ask(question)
    assert answer.refused and not answer.citations


def test_a_question_about_another_occurrence_is_refused_before_the_model(demo_store):
    answer = Assistant(demo_store).ask(
        "Quand le troisième comité stratégique d'intelligence économique territoriale s'est-il réuni ?")
    assert answer.refused and answer.confidence == 0.0
    assert answer.evidence["occurrence_ok"] == 0.0
