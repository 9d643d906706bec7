"""What a pronoun of a follow-up stands for: the noun phrase of the earlier turns that agrees with it.

« Combien d'emplois va-t-elle créer ? » after « Quel est le montant de l'investissement d'Hydronor Énergies ? »
is about Hydronor Énergies, not « le montant » (masculine): candidates are the noun phrases of the previous
standalone question, each with its gender and number; the first that agrees with the pronoun wins, in this
order: the subject of the question, then the names (« la Laiterie du Bocage », « Sophie Gaugain »), then the
other noun phrases in reading order, and last a subject that only relates to something else (« le rôle de la
Région », « les objectifs du comité »). Nothing agreeing there: the turns before it, then the plain subject.

Gender and number come from the determiner (« la », « du »…), else from spaCy's small French pipeline
(``fr_core_news_sm``: only its tok2vec and morphologizer, loaded once per process, in the background after a
conversation's first turn; ~1 ms a turn after that, ``python -m eval.followups``). Measured on the dev half:
the same rewrites as ``fr_core_news_md`` (the entities stage's model) for +67 MB of memory instead of +250 MB.
A capitalised word inside the question is read as a name whatever the tagger says (« Hydronor Énergies »).
"""
from __future__ import annotations

import re
import threading
from dataclasses import dataclass
from functools import lru_cache

MODEL = "fr_core_news_sm"
FALLBACK = "fr_core_news_md"  # the entities stage's pipeline: an installation made before the small one still works
_UNUSED_PIPES = ["parser", "ner", "lemmatizer", "attribute_ruler"]
_lock = threading.Lock()
_nlp = None

# (gender, number) a pronoun asks for; None: either.
PRONOUNS: dict[str, tuple[str | None, str | None]] = {
    "il": ("m", "s"), "elle": ("f", "s"), "ils": ("m", "p"), "elles": ("f", "p"), "le": ("m", "s"),
    "la": ("f", "s"), "l": (None, "s"), "les": (None, "p"), "leur": (None, "p"), "leurs": (None, "p"),
    "lui": (None, "s"), "son": (None, "s"), "sa": (None, "s"), "ses": (None, "s"), "y": (None, None),
    "en": (None, None)}
# Heads that only relate to what follows them: the pronoun more likely stands for that.
RELATIONAL = {"rôle", "montant", "nombre", "part", "budget", "mission", "missions", "objectif", "objectifs",
              "financement", "chiffre", "taux", "coût", "prix", "date", "liste", "fonction", "fonctions",
              "situation", "effet", "effets", "finalité", "finalités", "place", "avenir", "bilan", "enjeux"}
_DETERMINERS = {"le": ("m", "s"), "la": ("f", "s"), "l'": (None, "s"), "les": (None, "p"), "un": ("m", "s"),
                "une": ("f", "s"), "des": (None, "p"), "du": ("m", "s"), "au": ("m", "s"), "aux": (None, "p"),
                "quel": ("m", "s"), "quelle": ("f", "s"), "quels": ("m", "p"), "quelles": ("f", "p"),
                "ce": ("m", "s"), "cet": ("m", "s"), "cette": ("f", "s"), "ces": (None, "p")}
_DEFINITE = {"du": "le", "au": "le", "des": "les", "aux": "les", "un": "le", "une": "la", "quel": "le",
             "quelle": "la", "quels": "les", "quelles": "les", "ce": "le", "cet": "le", "cette": "la", "ces": "les"}


def load_morphology():
    """spaCy's French tagger, loaded once per process (thread-safe)."""
    global _nlp
    with _lock:
        if _nlp is None:
            import spacy

            try:
                _nlp = spacy.load(MODEL, exclude=_UNUSED_PIPES)
            except OSError:  # not installed
                _nlp = spacy.load(FALLBACK, exclude=_UNUSED_PIPES)
        return _nlp


_preloading: threading.Thread | None = None


def preload_morphology() -> None:
    """Load the tagger in the background (once): while the user reads the first answer, not at the first
    follow-up."""
    global _preloading
    if _nlp is None and _preloading is None:
        _preloading = threading.Thread(target=load_morphology, name="veille-morphologie", daemon=True)
        _preloading.start()


@dataclass(frozen=True)
class Token:
    text: str
    pos: str
    gender: str | None
    number: str | None
    space: bool  # followed by a space


_INVERTED = re.compile(r"\w-(?:t-)?(?:il|elle|ils|elles|on)$|-t-?$", re.IGNORECASE)


@lru_cache(maxsize=512)
def tag(text: str) -> tuple[Token, ...]:
    doc = load_morphology()(text)
    out: list[Token] = []
    for t in doc:
        g, n = t.morph.get("Gender"), t.morph.get("Number")
        token = Token(t.text, t.pos_, {"Masc": "m", "Fem": "f"}.get(g[0]) if g else None,
                      {"Sing": "s", "Plur": "p"}.get(n[0]) if n else None, bool(t.whitespace_))
        if out and re.fullmatch(r"-(?:t|t-)?(?:il|elle|ils|elles|on|ce)|-t", t.text, re.IGNORECASE):
            # « protègent-elles »: the word before an inverted pronoun is a verb, whatever the tagger says
            out[-1] = Token(out[-1].text, "VERB", None, None, False)
            out.append(Token(t.text, "PRON", None, None, token.space))
        elif out and not out[-1].space and (t.text == "-" or out[-1].text.endswith("-")):
            # « start-up », « Jean-Baptiste »: one word again
            prev = out[-1]
            out[-1] = Token(prev.text + t.text, prev.pos if t.text == "-" else (token.pos if prev.pos == "PUNCT"
                            else prev.pos), prev.gender or token.gender, prev.number or token.number, token.space)
        else:
            if out and t.text[:1].isupper() and t.pos_ not in ("DET", "ADP", "PRON", "PUNCT"):
                token = Token(t.text, "PROPN", token.gender, token.number, token.space)  # a name, whatever the tag
            out.append(token)
    # « protègent-elles » once joined: a verb
    return tuple(Token(t.text, "VERB", None, None, t.space) if _INVERTED.search(t.text) else t for t in out)


@dataclass(frozen=True)
class Candidate:
    text: str
    gender: str | None
    number: str | None
    name: bool  # its head is a proper name (« la Laiterie du Bocage », « Sophie Gaugain »)
    relational: bool = False

    def agrees(self, pronoun: str) -> bool:
        gender, number = PRONOUNS.get(pronoun.lower().rstrip("'’"), (None, None))
        return (number is None or self.number in (None, number)) and (gender is None or self.gender in (None, gender))


def _join(tokens: list[Token]) -> str:
    text = "".join(t.text + (" " if t.space else "") for t in tokens).strip()
    return re.sub(r"\s+([,)])", r"\1", text)


def _candidate(tokens: list[Token]) -> Candidate | None:
    """A noun phrase as a candidate, its determiner made definite (« du comité » → « le comité »)."""
    first = tokens[0].text.lower().replace("’", "'")
    if first in {"son", "sa", "ses", "leur", "leurs"}:
        return None  # « leurs données »: a pronoun of its own, no antecedent
    det = _DETERMINERS.get(first)
    heads = [t for t in tokens if t.pos in ("NOUN", "PROPN")]
    if not heads:
        return None
    head = heads[0]
    gender, number = det if det else (None, None)
    gender = gender or head.gender
    number = number or ("s" if head.pos == "PROPN" or head.text[:1].isupper() else head.number)
    if det and first in _DEFINITE:
        article = _DEFINITE[first]
        rest = tokens[1:]
        elided = article in ("le", "la") and re.match(r"[aeiouyéèêàâîôûAEIOUYÉÈÊÀÂÎÔÛ]|h[aeiouéèêô]", rest[0].text)
        text = f"l'{_join(rest)}" if elided else f"{article} {_join(rest)}"
    else:
        text = _join(tokens)
    own = tokens[: next((k for k, t in enumerate(tokens) if t.text.lower() in {"de", "d'", "d’", "du", "des"}),
                        len(tokens))]
    name = any(t.text[:1].isupper() and t.pos in ("NOUN", "PROPN") for t in own)
    return Candidate(text, gender, number, name, head.text.lower() in RELATIONAL and len(heads) > 1)


def noun_phrases(question: str) -> list[Candidate]:
    """Every noun phrase of ``question`` in reading order, the phrases nested after « de » included."""
    tokens = list(tag(question))
    out = []
    i = 0
    while i < len(tokens):
        t = tokens[i]
        starts = t.pos in ("DET", "NOUN", "PROPN") or t.text.lower() in _DETERMINERS
        if not starts or t.text.lower() in {"qu'", "que", "qui"} or (i == 0 and t.pos != "DET" and
                                                                       t.text.lower() not in _DETERMINERS):
            i += 1
            continue
        j = i + 1
        if t.pos == "DET" or t.text.lower() in _DETERMINERS:
            while j < len(tokens) and tokens[j].pos == "ADJ" and tokens[j].text.lower() not in _DETERMINERS:
                j += 1  # « la première réunion »
        # the phrase: nouns, names, adjectives, and « de / du / des / d' » + more of them
        while j < len(tokens):
            w = tokens[j]
            low = w.text.lower().replace("’", "'")
            after_name = any(x.text[:1].isupper() for x in tokens[i:j] if x.pos in ("NOUN", "PROPN"))
            before = tokens[j - 1]
            if before.text[:1].isupper() and before.pos in ("NOUN", "PROPN") and w.pos == "NOUN" \
                    and not w.text[:1].isupper():
                break  # « Jean-Baptiste Carpentier commissaire… »: an apposition, not the name
            if t.text.lower().startswith("quel") and j > i + 1 and (w.text[:1].isupper() or w.pos in (
                    "NOUN", "PROPN", "VERB", "AUX")):
                break  # « Quel âge Jean-Baptiste Carpentier a-t-il »: the name after the asked noun is the subject
            if w.pos in ("NOUN", "PROPN", "ADJ", "NUM") and low not in _DETERMINERS and "-" not in low[:1]:
                j += 1
            elif low in {"de", "d'", "du", "des"} and j + 1 < len(tokens) and (
                    tokens[j + 1].pos not in ("PUNCT", "PRON", "AUX", "SCONJ", "CCONJ", "ADP")):
                j += 2 if tokens[j + 1].pos not in ("DET",) else 1  # « de veille », whatever its tag
            elif w.pos == "DET" and low in {"la", "l'", "les"} and tokens[j - 1].text.lower().replace("’", "'") in {
                    "de", "d'", "à"}:
                j += 1
            elif low == "à" and after_name and j + 1 < len(tokens) and tokens[j + 1].pos in ("DET", "NOUN", "PROPN"):
                j += 1  # « la Délégation interministérielle à l'intelligence économique »: one name
            else:
                break
        span = tokens[i:j]
        while span and span[-1].text.lower().replace("’", "'") in {"de", "d'", "du", "des", "la", "l'", "les"}:
            span = span[:-1]
        cand = _candidate(span) if span else None
        if cand:
            out.append(cand)
            # nested phrases after « de »: « le directeur général de la Laiterie du Bocage » → « la Laiterie… »,
            # not inside a name (« du Bocage » is part of « la Laiterie du Bocage »)
            head = next(t for t in span if t.pos in ("NOUN", "PROPN"))
            for k in range(1, len(span) - 1) if not head.text[:1].isupper() else ():
                low = span[k].text.lower().replace("’", "'")
                if low in {"de", "d'"} and (span[k + 1].pos == "DET" or span[k + 1].text[:1].isupper()):
                    nested = _candidate(span[k + 1:])
                elif low in {"du", "des"}:
                    nested = _candidate(span[k:])
                else:
                    continue
                if nested:
                    out.append(nested)
        i = max(j, i + 1)
    return out


def candidates(question: str, subject: str) -> list[Candidate]:
    """The candidates of ``question`` in order of preference; ``subject`` is its subject (``subject_of``)."""
    phrases = noun_phrases(question)
    main = next((c for c in phrases if c.text.lower() == subject.lower()), None)
    if main is None:
        main = next((c for c in phrases if subject.lower().startswith(c.text.lower())
                     or c.text.lower().startswith(subject.lower())), None)
    rest = [c for c in phrases if c is not main]
    ordered = [] if main is None or main.relational else [main]
    ordered += [c for c in rest if c.name] + [c for c in rest if not c.name]
    if main is not None and main.relational:
        ordered.append(main)
    return ordered


def antecedent(pronoun: str, turns: list[tuple[str, str]]) -> str | None:
    """What ``pronoun`` stands for among ``turns`` ((standalone question, its subject), latest first)."""
    for question, subject in turns:
        found = next((c for c in candidates(question, subject) if c.agrees(pronoun)), None)
        if found:
            return found.text
    return None


def has_agreeing(pronoun: str, question: str, subject: str) -> bool:
    return antecedent(pronoun, [(question, subject)]) is not None
