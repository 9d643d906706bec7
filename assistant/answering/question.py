"""French question analysis: what kind of answer a question asks for (a count, a date, an amount, a
person), which occurrence (« le deuxième comité »), and whether a sentence holds it beside what is asked
about. Used by the composer (sentence choice) and the refusal policy (evidence). Knows nothing of models."""
from __future__ import annotations

import re
from functools import lru_cache

from veille.dates import MONTH_PATTERN
from veille.text import fold, tokens

# Question kinds and the evidence each expects (``expected_type_found``, also answer.py's sentence bonus).
# « Combien de X » names what is counted; « combien coûte… » names nothing (group 1 is then None).
_COUNT_Q = re.compile(r"\bcombien\b(?:\s+(?:de\s+|d['’])(\w+))?", re.IGNORECASE)
WHEN_QUESTION = re.compile(r"\b(quand|quelle date|en quelle année|depuis quand|à quelle date|quel jour|quel mois|"
                           r"de quand|quelle (?:est|était|sera) la date)\b", re.IGNORECASE)
_AMOUNT_Q = re.compile(r"\b(?:quel|quelle|quels|quelles)\s+(?:est|était|sont|a été|ont été)?\s*(?:le|la|l['’]|les)?\s*"
                       r"(montant|somme|budget|chiffre d['’]affaires|salaire|taux|prix|coût|cout|nombre|pourcentage|part|"
                       r"effectif|âge|age|population|superficie|numéro)\b", re.IGNORECASE)
WHO_QUESTION = re.compile(r"^\s*(?:qui|par qui|avec qui)\b|\bqui (?:a|ont|est|sont|préside|dirige|pilote)\b", re.IGNORECASE)
_MONTHS = MONTH_PATTERN
DATE = re.compile(rf"\b(1[89]\d\d|20\d\d)\b|\b\d{{1,2}}(?:er)?\s+(?:{_MONTHS})\b|\b(?:{_MONTHS})\s+\d{{4}}\b|"
                   r"\b\d{1,2}/\d{1,2}/\d{2,4}\b", re.IGNORECASE)
# Collective nouns take "de" before what they count ("une centaine de modules", "2 millions d'euros").
_MULTIPLIERS = {"dizaine", "dizaines", "douzaine", "douzaines", "quinzaine", "vingtaine", "trentaine", "quarantaine",
                "cinquantaine", "soixantaine", "centaine", "centaines", "millier", "milliers", "million", "millions",
                "milliard", "milliards"}
_NUMBER_WORDS = {"deux", "trois", "quatre", "cinq", "six", "sept", "huit", "neuf", "dix", "onze", "douze", "treize",
                 "quatorze", "quinze", "seize", "vingt", "trente", "quarante", "cinquante", "soixante", "cent", "cents", "mille"} | _MULTIPLIERS
PERSON_NAME = re.compile(r"\b[A-ZÉÈ][a-zéèëêïîôûç]+(?:[- ][A-ZÉÈ][a-zéèëêïîôûç]+)+\b")
# "1er comité" counts nothing, nor does a list marker ("3/ Acculturer…"; a fraction "1/2" stays).
_ORDINAL = re.compile(r"\b\d+(?:er|re|ère|ere|e|ème|eme|ième|ieme|nd|nde)\b|\b\d+\s*/(?!\s*\d)", re.IGNORECASE)
# Nouns that name the kind of answer rather than its subject ("le montant du contrat" is answered by
# "un contrat de 340 millions d'euros"): no need to find them beside the answer.
_META_NOUNS = {"âge", "age", "part", "nombre", "pourcentage", "montant", "prix", "coût", "cout"}
_WHO_VERB = re.compile(r"\bqui\s+(?:l['’]|les?\s+|la\s+|lui\s+)?(?:a|ont|avait|avaient|aura|va|vont)?\s*"
                       r"(?:été\s+)?([a-zàâçéèêëîïôûùü-]{3,})", re.IGNORECASE)
_AUXILIARIES = {"est", "sont", "était", "etait", "étaient", "sera", "seront", "fut"}
# A person or an organisation: "Fabienne Buccio", "A. Juillet", "l'IHEDN" (not a lone "Région" or "État").
_NAMED = re.compile(rf"{PERSON_NAME.pattern}|\b(?:[A-Z]\.\s?[A-ZÉÈ][a-zéèëêïîôûç]+|[A-Z]{{2,}}[A-Za-z]*)\b")


def _without_dates(sentence: str) -> str:
    return _ORDINAL.sub(" ", DATE.sub(" ", sentence))


def has_term(term: str, terms: set[str]) -> bool:
    """``term`` is among ``terms``, or a derivation the stemmer keeps apart is ("fermer"/"fermeture",
    "produire"/"production", "préside"/"présidence"): they share a five-letter prefix."""
    return term in terms or (len(term) >= 4 and any(u.startswith(term[:5]) for u in terms))


def _mentions(sentence: str, word: str) -> bool:
    """The sentence holds ``word`` or a derivation of it ("préside" / "présidé" / "présidence")."""
    found = set(tokens(sentence))
    return all(has_term(t, found) for t in tokens(word))
# What a counted noun may be written as beside its number ("combien d'années" -> "20 ans"), by stem.
_DURATIONS = {"an", "anne", "mois", "semain", "jour", "heur", "minut", "decen"}
_COUNT_SYNONYMS = {"anne": {"an"}, "temp": _DURATIONS}
# Words that end the noun phrase a number counts: "82 interventions en entreprises" counts interventions.
_PHRASE_BREAK = {"de", "d", "du", "des", "en", "dans", "à", "a", "au", "aux", "pour", "par", "sur", "avec", "chez",
                 "entre", "sous", "et", "ou", "dont", "soit", "qui", "que"}
_WORDS = re.compile(r"\d+(?:[ \u00a0\u202f.,]\d+)*|[^\W\d_]+|[,;:()!?.«»]")


@lru_cache(maxsize=65536)  # word-level and pure: sentences of one corpus repeat the same words
def _is_number(word: str) -> bool:
    return word[0].isdigit() or fold(word) in _NUMBER_WORDS


@lru_cache(maxsize=65536)
def _counted_noun_matches(word: str, head: str) -> bool:
    stem = (tokens(word) or [""])[0]
    wanted = tokens(head)
    return _mentions(word, head) or any(stem in _COUNT_SYNONYMS.get(t, ()) for t in wanted)


def _counts(sentence: str, head: str) -> bool:
    """A number directly followed by the counted noun, with at most two words between them (adjectives,
    a multiplier and its "de"), none of which ends the noun phrase: "3 300 personnes", "120 structures
    partenaires", "une centaine de modules", "Cela fait 20 ans"; not "82 interventions en entreprises"."""
    words = _WORDS.findall(_without_dates(sentence))
    for i, word in enumerate(words):
        if not _is_number(word):
            continue
        j = i + 1
        while j < len(words) and _is_number(words[j]):  # "2 millions", "trois cents"
            j += 1
        if j < len(words) and words[j].lower() in {"de", "d"} and fold(words[j - 1]) in _MULTIPLIERS:
            j += 1
        for k in range(j, min(j + 3, len(words))):
            if _counted_noun_matches(words[k], head):
                return True
            if not words[k][0].isalpha() or words[k].lower() in _PHRASE_BREAK:
                break
    # A year-like number counting the noun right after it: "2000 entreprises ont participé".
    return any(_counted_noun_matches(m.group(1), head)
               for m in re.finditer(r"\b(?:1[89]\d\d|20\d\d)\s+([^\W\d_]+)", sentence))


def _count_in(sentence: str, head: str | None) -> bool:
    """A quantity (not a year, not a day of a date, not a rank), counting the noun the question names."""
    if head and tokens(head):
        return _counts(sentence, head)
    text = _without_dates(sentence)
    return bool(re.search(r"\d", text)) or bool({w for w in re.findall(r"\w+", fold(text))} & _NUMBER_WORDS)


def _amount_in(sentence: str, head: str) -> bool:
    """Digits, a percentage or an amount (not a date, not a rank) beside the asked noun ("budget",
    "salaire"), unless that noun only names the kind of answer ("âge", "part")."""
    if not re.search(r"\d|%|€", _without_dates(sentence)):
        return False
    return head.lower() in _META_NOUNS or _mentions(sentence, head)


def _named_in(sentence: str, asked: str) -> bool:
    """A capitalised name or an acronym the question does not already contain."""
    known = set(tokens(asked, stem=False))
    # The sentence's first word is capitalised anyway: a name there must not start with a stop word
    # ("Le Comité" names nothing, "Emmanuel Macron a nommé…" does).
    return any((m.start() > 0 or tokens(m.group().split()[0], stem=False))
               and not set(tokens(m.group(), stem=False)) <= known for m in _NAMED.finditer(sentence))
# Capitalised words inside a question: the names it is about ("Mov'eo", "Intelligence Économique").
_CAPITALISED = re.compile(r"(?<=[\s«(])[A-ZÀ-ÖØ-Þ][\w'’@-]*")


def preceding(text: str, start: int, width: int = 240) -> str:
    """The text just before a sentence: where "ce dernier" or "il" finds what it stands for."""
    return text[max(0, start - width):start]


def expected_type_found(question: str, sentences: list[str], contexts: list[str] | None = None) -> float:
    """1 when one chosen sentence holds the kind of answer asked for, beside what is asked about
    (the counted noun, the amount's noun, the verb and object of a "qui" question); 0 when none does;
    0.5 when the question asks for no particular kind. ``contexts``: the text just before each sentence
    in its passage, where a pronoun's antecedent stands."""
    amount = _AMOUNT_Q.search(question)
    if amount:
        head = amount.group(1)
        if head.lower() == "numéro":  # "numéro de téléphone": the telephone is what must be there
            after = re.search(r"numéro\s+(?:de\s+|d['’])?(\w+)", question, re.IGNORECASE)
            head = after.group(1) if after else head
        return 1.0 if any(_amount_in(s, head) for s in sentences) else 0.0
    count = _COUNT_Q.search(question)
    if count:
        head = count.group(1)
        return 1.0 if any(_count_in(s, head) for s in sentences) else 0.0
    if WHEN_QUESTION.search(question):
        return 1.0 if any(DATE.search(s) for s in sentences) else 0.0
    if WHO_QUESTION.search(question):
        verb = _WHO_VERB.search(question)
        verb_word = verb.group(1) if verb and verb.group(1).lower() not in _AUXILIARIES else None
        if verb_word and verb_word[0].isupper():
            verb_word = None
        if not verb_word:
            return 1.0 if any(_named_in(s, question) for s in sentences) else 0.0
        # Who did it *to what*: "co-présidé par F. Buccio" does not say who presides the Mov'eo cluster.
        # What is named in the question (Mov'eo) must be there, else one of its terms. The object may sit
        # in the sentence before ("… Jean-Baptiste Carpentier. Ce dernier avait été
        # nommé par Emmanuel Macron"), hence the context.
        names = _CAPITALISED.findall(question)
        about = {t for t in tokens(" ".join(names) if names else question) if t not in set(tokens(verb_word))}
        contexts = contexts or [""] * len(sentences)
        return 1.0 if any(_named_in(s, question) and _mentions(s, verb_word)
                          and (not about or set(tokens(c + " " + s)) & about)
                          for s, c in zip(sentences, contexts)) else 0.0
    return 0.5
_ORDINALS = {2: "deuxieme", 3: "troisieme", 4: "quatrieme", 5: "cinquieme", 6: "sixieme", 7: "septieme",
             8: "huitieme", 9: "neuvieme", 10: "dixieme"}
_ORDINAL_NUMBER = {w: n for n, w in _ORDINALS.items()}
# "Le deuxième comité", "la 3e édition", "la prochaine rencontre": one occurrence among several, matched on
# folded text ("deuxieme", "2è"). Left out as used loosely: "premier" and "dernier" ("l'un des premiers
# chantiers"), "second(e)" ("second plan", "élèves de seconde"), "à venir" ("les défis à venir").
_OCCURRENCE = re.compile(r"\b(?:(prochaine?s?)|(" + "|".join(_ORDINALS.values()) + r")s?|"
                         r"(\d{1,2})(?:e|eme|nd|nde))(?!\w)")
# "Les prochaines années" is a period, not an occurrence of something.
_TIME_UNITS = {"annee", "annees", "an", "ans", "mois", "semaine", "semaines", "jour", "jours", "decennie",
               "decennies", "fois"}


def _occurrence(match: re.Match) -> int | str:
    if match.group(1):
        return "prochain"
    return int(match.group(3)) if match.group(3) else _ORDINAL_NUMBER[match.group(2)]


def _noun_after(folded: str, match: re.Match) -> str:
    """The word an ordinal qualifies: "deuxieme comite strategique" -> "comite"."""
    following = re.findall(r"[^\W\d_]{3,}", folded[match.end():])
    return following[0] if following else ""


def occurrence_found(question: str, sentences: list[str]) -> float:
    """1 unless the question names one occurrence of a recurring thing (the second committee, the next
    meeting) and no chosen sentence names the same occurrence of the same thing: the first committee's
    date does not answer "quand le deuxième comité s'est-il réuni ?", nor does "le deuxième semestre"."""
    folded_question = fold(question)
    asked = _OCCURRENCE.search(folded_question)
    if not asked:
        return 1.0
    noun = _noun_after(folded_question, asked)
    if noun in _TIME_UNITS:
        return 1.0
    wanted = _occurrence(asked)
    for sentence in sentences:
        folded = fold(sentence)
        for m in _OCCURRENCE.finditer(folded):
            if _occurrence(m) == wanted and (not noun or _mentions(_noun_after(folded, m), noun)):
                return 1.0
    return 0.0
