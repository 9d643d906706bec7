"""The refusal's main evidence: the kind of answer asked for, found beside what is asked about, and the
occurrence asked for (the second committee, the next meeting); either missing refuses whatever the model says."""
from __future__ import annotations

import pytest

from assistant.answerability.policy import AnswerabilityFeatures
from assistant.answering.question import expected_type_found, occurrence_found

COMMITTEE = ("La préfecture de Région a accueilli mardi 4 juillet le 1er Comité stratégique, co-présidé par "
             "Fabienne Buccio, préfète de la région Normandie, en présence du commissaire Jean-Baptiste Carpentier.")
POLES = ("Le financement des six pôles de compétitivité normands (Cosmetic Valley, Mov'eo, VALORIAL) a été "
         "approuvé lors de la Commission permanente du 6 juillet 2020.")
MEETING = "La « Rencontre IE pour les Entreprises » (février 2019, site de Rouen, 190 participants)."
CONTEST = "Le concours « Normand'IE stratégique » est porté par l'Association régionale de l'IHEDN."
ACTIONS = "Les actions ont touché 3 300 personnes (82 interventions en entreprises ; 13 dans des structures)."


@pytest.mark.parametrize("question, sentences, expected", [
    # A rank ("1er") or a date is no amount: the salary is not in the corpus.
    ("Quel est le salaire du commissaire à l'information stratégique ?", [COMMITTEE], 0.0),
    ("Quel est le budget annuel du dispositif ?", [COMMITTEE, POLES], 0.0),
    # "montant" names the kind of answer: the amount itself answers.
    ("Quel est le montant du contrat ALBATROS ?",
     ["Safrel négocie un contrat de 340 millions d'euros pour les nacelles ALBATROS."], 1.0),
    ("Quel montant a été accordé aux pôles de compétitivité ?", [POLES], 0.0),
    # « 1ère », « 2ième » are ranks too (a sentence quoted with the one before it brings them along).
    ("Quel montant a été accordé aux pôles de compétitivité ?",
     [POLES + " Sophie Gaugain, 1ère vice-présidente, et la 2ième adjointe y étaient."], 0.0),
    # The name must come with the asked verb: a list of pôles does not say who presides one.
    ("Qui préside le pôle de compétitivité Mov'eo ?", [POLES], 0.0),
    ("Qui a co-présidé le premier comité stratégique ?", [COMMITTEE], 1.0),
    # ... and with what it is done to: co-presiding a committee is not presiding Mov'eo.
    ("Qui préside le pôle Mov'eo ?", [COMMITTEE], 0.0),
    ("Qui préside le pôle Mov'eo ?", ["Le pôle Nov@log est présidé par Jean Dupont."], 0.0),
    ("Qui préside le pôle Mov'eo ?", ["Le pôle Mov'eo est présidé par Jean Dupont."], 1.0),
    # A name opening the sentence answers; a capitalised determiner does not.
    ("Qui a nommé Jean-Baptiste Carpentier ?", ["Emmanuel Macron a nommé Jean-Baptiste Carpentier commissaire."], 1.0),
    ("Qui dirige l'ANSSI ?", ["Vincent Strubel dirige l'ANSSI depuis 2023."], 1.0),
    # Organisations answer "qui" questions too; a lone capitalised common noun does not.
    ("Qui porte le concours « Normand'IE stratégique » ?", [CONTEST], 1.0),
    ("Qui est le président de la République ?", ["Les Régions sont copilotes avec l'État."], 0.0),
    # Counts: a number beside the counted noun.
    ("Combien de participants a réuni la Rencontre IE ?", [MEETING], 1.0),
    ("Combien de salariés compte le pôle Cosmetic Valley ?", [POLES, MEETING], 0.0),
    # The number must count that noun: here 82 counts interventions, not companies.
    ("Combien d'entreprises ont été victimes de cyberattaques ?",
     [ACTIONS], 0.0),
    ("Combien d'interventions en entreprises ont été menées ?",
     [ACTIONS], 1.0),
    ("Combien d'étudiants ont participé au concours ?", [MEETING, CONTEST], 0.0),
    # Collective numbers, years written "ans", and a list marker that counts nothing.
    ("Combien de modules ont été référencés ?", ["Une centaine de modules d'enseignement a été référencée."], 1.0),
    ("Depuis combien d'années la thématique est-elle pratiquée ?",
     ["Cela fait 20 ans que cette thématique est pratiquée en Normandie."], 1.0),
    ("Combien d'étudiants sont visés ?", ["- 3/ Acculturer les acteurs publics cibles (étudiants, entreprises)."], 0.0),
    ("Combien d'entreprises ont participé ?", ["Seize entreprises ont participé."], 1.0),
    ("Combien d'entreprises ont participé ?", ["2000 entreprises ont participé."], 1.0),
    ("Combien de temps dure la formation ?", ["La formation dure trois jours."], 1.0),
    # « Combien + verbe » counts no particular noun: any quantity answers.
    ("Combien coûte le programme ?", ["Le programme coûte 45 000 euros."], 1.0),
    ("Combien coûte le programme ?", ["Le programme a été lancé en 2019."], 0.0),
    ("Quelle somme a été versée ?", ["Une somme de 3 millions d'euros a été versée."], 1.0),
    # Dates, including « quelle est la date ».
    ("Quelle est la date de la Rencontre IE ?", [MEETING], 1.0),
    ("Quand le comité s'est-il réuni ?", ["Le comité s'est réuni à Rouen."], 0.0),
    # "âge" names the kind of answer, not a word the answer repeats.
    ("Quel âge a Jean-Baptiste Carpentier ?", ["Jean-Baptiste Carpentier, 52 ans, est commissaire."], 1.0),
    # No particular kind asked for.
    ("Que signifie le sigle SRDEEII ?", [POLES], 0.5),
])
def test_expected_answer_type_is_looked_for_beside_the_asked_thing(question, sentences, expected):
    assert expected_type_found(question, sentences) == expected


def test_the_antecedent_before_a_pronoun_counts_as_what_is_asked_about():
    sentence = "Ce dernier avait été nommé en 2016 par Emmanuel Macron, ministre de l'Économie."
    question = "Qui a nommé Jean-Baptiste Carpentier ?"
    assert expected_type_found(question, [sentence]) == 0.0
    assert expected_type_found(question, [sentence], ["… en présence de Jean-Baptiste Carpentier. "]) == 1.0


@pytest.mark.parametrize("question, sentences, expected", [
    # The first committee's date, or a "deuxième semestre", does not say when the second committee met.
    ("Quand le deuxième Comité stratégique s'est-il réuni ?",
     [COMMITTEE, "Les pôles ont été créés au deuxième semestre 2004."], 0.0),
    ("Quand le 2e comité stratégique s'est-il réuni ?", ["Le deuxième comité stratégique s'est tenu en mars 2018."], 1.0),
    ("Quand le deuxieme comite s'est-il reuni ?", [COMMITTEE], 0.0),  # typed without accents
    ("Quand le 2è comité s'est-il réuni ?", ["Le deuxième comité s'est tenu en mars 2018."], 1.0),
    # The next meeting: only a sentence announcing one answers.
    ("Quelle est la date de la prochaine Rencontre IE ?", [MEETING], 0.0),
    ("Quelle est la date de la prochaine Rencontre IE ?", ["La prochaine Rencontre IE aura lieu en mai 2020."], 1.0),
    # No particular occurrence asked: nothing to check ("premier", "second", "à venir" are used loosely,
    # "les prochaines années" is a period).
    ("Qui a co-présidé le premier comité stratégique ?", [COMMITTEE], 1.0),
    ("Quels sont les enjeux des prochaines années ?", [POLES], 1.0),
    ("Quels sont les défis à venir pour les pôles ?", [POLES], 1.0),
    ("Quel rôle jouent les pôles au second plan ?", [POLES], 1.0),
])
def test_the_occurrence_asked_for_must_be_the_one_quoted(question, sentences, expected):
    assert occurrence_found(question, sentences) == expected


def test_a_missing_kind_or_occurrence_refuses_before_the_model():
    base = dict(dense_top=0.9, coverage=1.0, missing_top=0.0, missing_corpus=0.0, missing_rarest=0.0)
    assert not AnswerabilityFeatures(type_ok=1.0, best_sentence=1.0, **base).refused_before_model
    assert not AnswerabilityFeatures(type_ok=0.5, best_sentence=1.0, **base).refused_before_model
    assert AnswerabilityFeatures(type_ok=0.0, best_sentence=1.0, **base).refused_before_model
    assert AnswerabilityFeatures(type_ok=1.0, best_sentence=1.0, occurrence_ok=0.0, **base).refused_before_model
    assert AnswerabilityFeatures(type_ok=1.0, best_sentence=0.0, **base).refused_before_model
    # Sentences sharing no term with the question ("un billet de train Paris-Caen") answer nothing.
    assert AnswerabilityFeatures(type_ok=1.0, best_sentence=1.0, **{**base, "coverage": 0.0}).refused_before_model


def test_calibration_says_so_when_too_few_questions_are_left_to_fit():
    import numpy as np

    from eval.calibrate import fit

    X = np.random.default_rng(0).random((6, 6)) + 0.1  # every question has a sentence to quote
    y = np.array([0, 1, 1, 1, 1, 1])  # one unanswerable question: nothing to learn refusal from
    with pytest.raises(ValueError, match="Trop peu de questions"):
        fit(X, y, np.zeros(6, dtype=bool))
