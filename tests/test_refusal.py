"""The refusal's main evidence: the kind of answer asked for, found beside what is asked about."""
from __future__ import annotations

import pytest

from assistant.refusal import expected_type_found

COMMITTEE = ("La préfecture de Région a accueilli mardi 4 juillet le 1er Comité stratégique, co-présidé par "
             "Fabienne Buccio, préfète de la région Normandie, en présence du commissaire Jean-Baptiste Carpentier.")
POLES = ("Le financement des six pôles de compétitivité normands (Cosmetic Valley, Mov'eo, VALORIAL) a été "
         "approuvé lors de la Commission permanente du 6 juillet 2020.")
MEETING = "La « Rencontre IE pour les Entreprises » (février 2019, site de Rouen, 190 participants)."
CONTEST = "Le concours « Normand'IE stratégique » est porté par l'Association régionale de l'IHEDN."


@pytest.mark.parametrize("question, sentences, expected", [
    # A rank ("1er") or a date is no amount: the salary is not in the corpus.
    ("Quel est le salaire du commissaire à l'information stratégique ?", [COMMITTEE], 0.0),
    ("Quel est le budget annuel du dispositif ?", [COMMITTEE, POLES], 0.0),
    # "montant" names the kind of answer: the amount itself answers.
    ("Quel est le montant du contrat ALBATROS ?",
     ["Safrel négocie un contrat de 340 millions d'euros pour les nacelles ALBATROS."], 1.0),
    ("Quel montant a été accordé aux pôles de compétitivité ?", [POLES], 0.0),
    # The name must come with the asked verb: a list of pôles does not say who presides one.
    ("Qui préside le pôle de compétitivité Mov'eo ?", [POLES], 0.0),
    ("Qui a co-présidé le premier comité stratégique ?", [COMMITTEE], 1.0),
    # Organisations answer "qui" questions too; a lone capitalised common noun does not.
    ("Qui porte le concours « Normand'IE stratégique » ?", [CONTEST], 1.0),
    ("Qui est le président de la République ?", ["Les Régions sont copilotes avec l'État."], 0.0),
    # Counts: a number beside the counted noun.
    ("Combien de participants a réuni la Rencontre IE ?", [MEETING], 1.0),
    ("Combien de salariés compte le pôle Cosmetic Valley ?", [POLES, MEETING], 0.0),
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
