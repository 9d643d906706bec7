"""Follow-up questions made standalone (rules without a model, condense prompt with one), the period of
a follow-up replacing the previous one, "Donne-moi les sources", and `veille chat` on standard input."""
from __future__ import annotations

import json

import pytest
from conftest import REPO, veille
from hostile_files import NORMAL_NOTE
from openai_server import FakeOpenAIServer

from assistant.answering.answer import Answer
from assistant.conversation.session import Conversation, is_sources_request
from assistant.conversation.followup import depends_on_previous
from assistant.service import Assistant
from eval import followups
from veille.filters import Filters


def rewrite_chain(questions: list[str]) -> list[str]:
    conv = Conversation()
    out = []
    for q in questions:
        standalone = conv.condense_without_llm(q)
        conv.record(q, standalone, Answer(q, "…", False))
        out.append(standalone)
    return out


@pytest.mark.parametrize("chain, expected", [
    (["Quels sont les pôles de compétitivité normands depuis 2019 ?", "Et en 2018 ?"],
     "Quels sont les pôles de compétitivité normands en 2018 ?"),
    (["Qu'est-ce que le comité stratégique d'intelligence économique territoriale ?", "Qui le préside ?"],
     "Qui préside le comité stratégique d'intelligence économique territoriale ?"),
    # A new question about what the pronoun stands for: the previous period is not carried (only an elliptical
    # « Et en 2018 ? » reuses it).
    (["Quels sont les pôles de compétitivité normands depuis 2019 ?", "Qui les finance ?"],
     "Qui finance les pôles de compétitivité normands ?"),
    (["Quand le comité stratégique a-t-il été installé ?", "Qui l'a co-présidé ?"],
     "Qui a co-présidé le comité stratégique ?"),
    (["Qu'est-ce que le comité stratégique ?", "Quand a-t-il été installé ?"],
     "Quand le comité stratégique a-t-il été installé ?"),
    # A person asked about by name stays the subject down the chain, and the inverted verb keeps French order.
    (["Qui est Jean-Baptiste Carpentier ?", "Quel âge a-t-il ?"], "Quel âge Jean-Baptiste Carpentier a-t-il ?"),
    (["Qui est Jean-Baptiste Carpentier ?", "Quel âge a-t-il ?", "Et qui l'a nommé ?"],
     "Qui a nommé Jean-Baptiste Carpentier ?"),
    (["Qu'est-ce que le Bulletin de veille collaborative ?", "À combien de structures est-il envoyé ?"],
     "À combien de structures le Bulletin de veille collaborative est-il envoyé ?"),
    (["Qui est M. Carpentier ?", "Quel âge a-t-il ?"], "Quel âge M. Carpentier a-t-il ?"),
    (["Qu'est-ce que l'IHEDN ?", "Quand a-t-il été créé ?"], "Quand l'IHEDN a-t-il été créé ?"),
    (["Qu'est-ce que le comité stratégique ?", "Combien de fois s'est-il réuni ?"],
     "Combien de fois le comité stratégique s'est-il réuni ?"),
])
def test_follow_ups_become_standalone_without_a_model(chain, expected):
    assert rewrite_chain(chain)[-1] == expected


def test_standalone_questions_are_left_alone():
    q = "Quelles régions se sont portées candidates pour expérimenter le dispositif ?"
    assert rewrite_chain(["Quels sont les pôles de compétitivité normands ?", q])[-1] == q


@pytest.mark.parametrize("previous, question", [
    # Seen rewritten into broken French: an inversion after the question's own subject.
    ("Qu'est-ce que le Bulletin de veille collaborative ?",
     "À combien de structures le bulletin de veille collaborative est-il transmis ?"),
    ("Quels sont les pôles de compétitivité normands ?",
     "Pourquoi le bulletin de veille collaborative n'autorise-t-il plus les contributions ?"),
    ("Qui a co-présidé le comité stratégique ?", "Y a-t-il des aides régionales pour la cybersécurité des PME ?"),
    ("Qu'est-ce que l'intelligence territoriale ?", "Qu'a fait la Région cette année pour les PME ?"),
    ("Qui finance les pôles de compétitivité normands ?", "Où en est la parité hommes-femmes en Tunisie ?"),
])
def test_a_question_with_its_own_subject_is_not_a_follow_up(previous, question):
    assert depends_on_previous(question) is None
    assert rewrite_chain([previous, question])[-1] == question


@pytest.mark.parametrize("previous, question, expected", [
    ("Qui co-préside le comité stratégique ?", "Où se réunit-il ?", "Où le comité stratégique se réunit-il ?"),
    ("Quelles Régions expérimentent le dispositif d'intelligence économique ?", "Depuis quand participent-elles ?",
     "Depuis quand les Régions participent-elles ?"),
    ("Quel est le rôle de la Région dans l'intelligence économique ?", "Et l'État ?",
     "Quel est le rôle de l'État dans l'intelligence économique ?"),
    ("Quelle est la feuille de route du comité stratégique ?", "Quel est son calendrier ?",
     "Quel est le calendrier de la feuille de route du comité stratégique ?"),
    ("Qu'est-ce que l'intelligence territoriale ?", "D'où vient ce concept ?",
     "D'où vient le concept de l'intelligence territoriale ?"),
    ("Qui est Alfred Marshall ?", "Qu'a-t-il écrit sur les districts industriels ?",
     "Qu'a écrit Alfred Marshall sur les districts industriels ?"),
    ("Quel est le rôle des chambres consulaires dans la dynamique régionale ?", "Et celui des intercommunalités ?",
     "Quel est le rôle des intercommunalités dans la dynamique régionale ?"),
    # No sure transformation: the question as typed, its context in front (never a broken sentence).
    ("Qui porte la candidature collective à la présidence du HCERES ?", "Pour quelles raisons ?",
     "À propos de la candidature collective à la présidence du HCERES : pour quelles raisons ?"),
])
def test_dependent_questions_are_rewritten_in_french(previous, question, expected):
    assert depends_on_previous(question) is not None
    assert rewrite_chain([previous, question])[-1] == expected


def test_follow_up_detection_on_the_written_pairs():
    """Precision and recall of the « depends » decision, and the standalone questions of the pronoun, inversion
    and chain cases (``python -m eval.followups``): rules chosen on the dev half, the test half held out."""
    pairs = followups.load()
    for split in ("dev", "test"):
        scores, errors = followups.score([p for p in pairs if p["split"] == split])
        assert scores.n >= 30 and scores.precision >= 0.9 and scores.recall >= 0.9, (split, errors)
        assert scores.rewritten >= 30 and scores.exact >= 0.85, (split, errors)


def test_new_cases_are_split_by_their_hash_not_by_hand():
    cases = [c for c in followups.load() if "expected" in c]
    assert len(cases) >= 60 and all(c["split"] == followups.hash_split(c) for c in cases)
    assert 0.4 <= sum(c["split"] == "dev" for c in cases) / len(cases) <= 0.6


# The chains users reported, typed as in `veille chat`: (question, what it must become).
LAITERIE = [("Qui est le directeur général de la Laiterie du Bocage ?",
             "Qui est le directeur général de la Laiterie du Bocage ?"),
            # « elle » is feminine: the dairy, not « le directeur général »
            ("Et combien de salariés emploie-t-elle ?", "Combien de salariés la Laiterie du Bocage emploie-t-elle ?"),
            ("Et qui la soutient ?", "Qui soutient la Laiterie du Bocage ?"),
            ("Quand a-t-il été nommé ?", "Quand le directeur général de la Laiterie du Bocage a-t-il été nommé ?")]
HYDRONOR = [("Quel est le montant de l'investissement d'Hydronor Énergies ?",
             "Quel est le montant de l'investissement d'Hydronor Énergies ?"),
            ("Combien d'emplois va-t-elle créer ?", "Combien d'emplois Hydronor Énergies va-t-elle créer ?"),
            ("Qui l'accompagne ?", "Qui accompagne Hydronor Énergies ?")]
COMPLEX_INVERSIONS = [
    ("Qui a co-présidé le comité stratégique d'intelligence économique territoriale ?",
     "Qui a co-présidé le comité stratégique d'intelligence économique territoriale ?"),
    ("Et en 2019 ?", "Qui a co-présidé le comité stratégique d'intelligence économique territoriale en 2019 ?"),
    # complex inversions name their own subject: searched as typed, without the period of the elliptical turn
    ("Quelles régions se sont-elles portées candidates pour expérimenter le dispositif d'intelligence économique ?",
     "Quelles régions se sont-elles portées candidates pour expérimenter le dispositif d'intelligence économique ?"),
    ("Quel document aide-t-il les entreprises normandes à se protéger ?",
     "Quel document aide-t-il les entreprises normandes à se protéger ?"),
    # and a pronoun after them finds the noun phrase that agrees with it (« elles »: the companies)
    ("Comment peuvent-elles se protéger ?", "Comment les entreprises normandes peuvent-elles se protéger ?")]


@pytest.mark.parametrize("chain", [LAITERIE, HYDRONOR, COMPLEX_INVERSIONS], ids=["laiterie", "hydronor", "inversions"])
def test_a_pronoun_stands_for_what_agrees_with_it_down_the_chain(chain):
    assert rewrite_chain([q for q, _ in chain]) == [expected for _, expected in chain]


def test_a_period_sticks_only_to_the_elliptical_turn():
    chain = rewrite_chain(["Qu'est-ce que le Bulletin de veille collaborative ?", "Et en 2019 ?", "Qui le rédige ?",
                           "Et en 2020 ?"])
    assert chain[1:] == ["Qu'est-ce que le Bulletin de veille collaborative en 2019 ?",
                         "Qui rédige le Bulletin de veille collaborative ?",
                         "Qui rédige le Bulletin de veille collaborative en 2020 ?"]


@pytest.mark.parametrize("text, expected", [("Donne-moi les sources", True), ("Et les sources ?", True),
                                            ("Quelles sont tes sources ?", True), ("Donne-moi les chiffres", False),
                                            ("D'où vient cette information ?", True),
                                            ("D'où vient le concept d'intelligence territoriale ?", False)])
def test_sources_requests(text, expected):
    assert is_sources_request(text) is expected


def test_a_follow_up_period_replaces_the_user_date_filter():
    conv = Conversation(filters=Filters(date_from=20190101))
    assert conv.filters_for("Et en 2018 ?").date_from == 20180101
    assert conv.filters_for("Et en 2018 ?").date_to == 20181231
    assert conv.filters_for("Qui le préside ?").date_from == 20190101


def test_two_independent_questions_are_not_rewritten_and_a_follow_up_is(demo_store):
    assistant, conv = Assistant(demo_store), Conversation()
    first = conv.ask(assistant, "Quels sont les pôles de compétitivité normands ?")
    second = conv.ask(assistant, "Qui a co-présidé le comité stratégique d'intelligence économique territoriale ?")
    assert first.standalone_question is None and second.standalone_question is None
    assert "Buccio" in second.answer  # searched as typed, not mixed with the pôles
    third = conv.ask(assistant, "Et en 2019 ?")
    assert third.standalone_question == ("Qui a co-présidé le comité stratégique d'intelligence économique "
                                         "territoriale en 2019 ?")


def test_chain_on_the_demo_corpus(demo_store):
    assistant, conv = Assistant(demo_store), Conversation()
    first = conv.ask(assistant, "Qui a co-présidé le comité stratégique d'intelligence économique territoriale ?")
    assert "Buccio" in first.answer and first.standalone_question is None
    second = conv.ask(assistant, "Et en 2019 ?")
    assert second.standalone_question.endswith("en 2019 ?") and "comité stratégique" in second.standalone_question
    # « en 2019 » is evidence about the committee, not a filter on publication dates (assistant/search/period.py).
    assert not second.filters.get("date_from") and "Période de la question (2019)" in second.filter_note
    assert not second.refused and second.citations
    sources = conv.ask(assistant, "Donne-moi les sources")
    assert [c.chunk_id for c in sources.citations] == [c.chunk_id for c in (second.citations or first.citations)]
    assert len(conv.turns) == 3


def test_condense_prompt_used_when_a_model_is_configured(demo_store):
    with FakeOpenAIServer() as server:
        settings = demo_store.with_(llm_base_url=server.url, llm_model="veille-test", llm_timeout=2.0,
                                    llm_retries=0)
        assistant, conv = Assistant(settings), Conversation()
        conv.ask(assistant, "Quels sont les pôles de compétitivité normands ?")
        answer = conv.ask(assistant, "Qui les finance ?")
        condense = [r for r in server.requests if "<historique>" in r["messages"][-1]["content"]]
        assert len(condense) == 1 and "Utilisateur : Quels sont les pôles" in condense[0]["messages"][-1]["content"]
        # The rewrite is one line: a few dozen tokens and a stop at the line end, not the answer's budget.
        assert condense[0]["max_tokens"] <= 100 and condense[0]["stop"] == ["\n"]
        assert answer.standalone_question == "Qui les finance — Quels sont les pôles de compétitivité normands ?"
        server.scenario = "error500"  # the model fails: the rules take over, no traceback
        answer = conv.ask(assistant, "Et en 2018 ?")
    assert answer.standalone_question.endswith("en 2018 ?") and "pôles de compétitivité" in answer.standalone_question
    assert answer.mode == "extractif" and "erreur HTTP 500" in (answer.notice or "") or answer.refused


def test_veille_chat_reads_stdin(env):
    assert veille("ingest", str(REPO / "corpus"), env=env).returncode == 0
    lines = ("Qui a co-présidé le comité stratégique d'intelligence économique territoriale ?\n"
             "/sources\n/commande-inconnue\n/nouveau\nQuelle est la recette de la teurgoule ?\n/quitter\n"
             "Cette question n'est jamais lue ?\n")
    run = veille("chat", "--json", env=env, input=lines)
    assert run.returncode == 0, run.stderr
    turns = [json.loads(l) for l in run.stdout.splitlines()]
    assert len(turns) == 3
    assert "Buccio" in turns[0]["answer"]
    assert turns[1]["citations"] == turns[0]["citations"] and turns[1]["answer"].startswith("Sources")
    assert turns[2]["refused"] and turns[2]["standalone_question"] is None  # /nouveau: no carry-over
    assert "Commande inconnue" in run.stderr


# The dairy of the reader's fixtures (tests/test_reader.py) and the start-up of the hostile files' normal note.
DAIRY = ("La Laiterie du Bocage, installée à Vire depuis 1962, transforme chaque année 120 millions de litres de lait. "
         "Son directeur général est Marc Lefèvre, nommé en janvier 2024 après le rachat par la coopérative Isigny. "
         "L'entreprise emploie 310 salariés et exporte ses fromages vers l'Allemagne et le Japon.\n")
DRYER = ("La Laiterie du Bocage a inauguré en 2023 une nouvelle tour de séchage pour produire du lait en poudre. "
         "Le projet a bénéficié d'un soutien de la Région Normandie dans le cadre du plan de relance.\n")


def test_veille_chat_follows_a_pronoun_to_what_it_stands_for(env, tmp_path):
    """The chain users reported, typed in `veille chat`: « elle » and « la » are the dairy (not its director),
    and an independent complex inversion afterwards is searched as typed."""
    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "laiterie.txt").write_text(DAIRY, encoding="utf-8")
    (docs / "tour-de-sechage.txt").write_text(DRYER, encoding="utf-8")
    (docs / "note-hydrogene.md").write_text(NORMAL_NOTE, encoding="utf-8")
    assert veille("ingest", str(docs), env=env).returncode == 0
    lines = ("Qui est le directeur général de la Laiterie du Bocage ?\nEt combien de salariés emploie-t-elle ?\n"
             "Et qui la soutient ?\nQuel pôle accompagne-t-il la start-up Hydronor Énergies ?\n")
    run = veille("chat", "--json", env=env, input=lines)
    assert run.returncode == 0, run.stderr
    turns = [json.loads(line) for line in run.stdout.splitlines()]
    assert [t["standalone_question"] for t in turns] == [
        None, "Combien de salariés la Laiterie du Bocage emploie-t-elle ?", "Qui soutient la Laiterie du Bocage ?", None]
    assert "Marc Lefèvre" in turns[0]["answer"]
    assert "310 salariés" in turns[1]["answer"]
    assert not turns[2]["refused"] and "Région Normandie" in turns[2]["answer"]
    assert "Hydrogène Normandie" in turns[3]["answer"]
