"""French text utilities shared by ingestion and retrieval: analysis for the lexical index,
sentence splitting, and folding. Index and query go through the same ``analyze`` so they agree."""
from __future__ import annotations

import importlib.util
import re
import unicodedata
from functools import lru_cache
from pathlib import Path

import Stemmer

# Elided articles and pronouns: "l'innovation" -> "innovation", "qu'il" -> "il".
_ELISION = re.compile(r"\b(?:l|d|j|m|n|s|t|c|qu|jusqu|lorsqu|puisqu|quoiqu)['’](?=\w)", re.IGNORECASE)
_WORD = re.compile(r"\w+", re.UNICODE)


def fold(text: str) -> str:
    """Lower-case and strip accents: "Économie" -> "economie"."""
    decomposed = unicodedata.normalize("NFKD", text.lower())
    return "".join(c for c in decomposed if not unicodedata.combining(c))


def _bm25s_french_stopwords() -> tuple[str, ...]:
    """bm25s's French stop words, read from its data module alone (``bm25s/stopwords.py``, no imports): importing
    the package would load SciPy, 0.3-0.8 s of every command's start, for a tuple of words."""
    package = importlib.util.find_spec("bm25s")  # locates the package without running its __init__
    spec = importlib.util.spec_from_file_location("bm25s_stopwords_data",
                                                  Path(package.submodule_search_locations[0]) / "stopwords.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.STOPWORDS_FRENCH


_STOP = frozenset(fold(w) for w in _bm25s_french_stopwords()) | frozenset(
    {"les", "des", "est", "sont", "une", "dans", "pour", "par", "sur", "qui", "que", "quoi", "quel", "quels",
     "quelle", "quelles", "comment", "combien", "ou", "donc", "ni", "car", "cette", "ces", "ce", "cet", "il",
     "elle", "ils", "elles", "leur", "leurs", "aux", "du", "au", "a", "y", "en", "se", "sa", "son", "ses",
     "plus", "tres", "fait", "faire", "peut", "etre", "avoir", "ete", "lors", "entre", "dont", "sont",
     # auxiliaries and light verbs of questions ("va-t-elle", "doit-on"): they carry no topic
     "va", "vont", "vais", "allait", "aller", "font", "faut", "doit", "doivent", "peuvent", "pourrait", "sera",
     "seront", "serait", "etait", "etaient", "avait", "avaient", "aura", "auront", "quoi", "ceux", "celle",
     "celui", "celles", "cela", "ca", "chez", "selon", "aupres", "ainsi", "aussi", "alors", "encore", "deja"})


@lru_cache(maxsize=1)
def _stemmer():
    return Stemmer.Stemmer("french")


def tokens(text: str, stem: bool = True, stop: bool = True) -> list[str]:
    """Lexical terms of a French text: elisions removed, folded, stop words dropped, stemmed."""
    words = _WORD.findall(fold(_ELISION.sub("", text)))
    if stop:
        words = [w for w in words if w not in _STOP and (len(w) > 1 or w.isdigit())]
    if stem:
        words = _stemmer().stemWords(words)
    return words


def analyze(text: str) -> str:
    """The space-separated terms stored in (and searched against) the lexical index."""
    return " ".join(tokens(text))


# Sentence boundaries: end punctuation followed by space and an upper-case letter, a digit or a quote,
# except after common French abbreviations ("M.", "Mme.", "p.", "art.") and initials.
_ABBREV = {"m", "mm", "mme", "mmes", "mlle", "dr", "pr", "st", "ste", "p", "pp", "art", "av", "bd",
           "etc", "cf", "vol", "no", "n°", "fig", "ex", "env", "hab", "min", "max", "janv", "fév", "févr",
           "sept", "oct", "nov", "déc", "jr", "sr", "inc", "ed", "éd", "coll", "dir", "chap"}
_BOUNDARY = re.compile(r"([.!?…]+[»”\"')\]]*)(\s+)(?=[«“\"(\[]?\s*[A-ZÀ-ÖØ-Þ0-9])")


_BULLET = re.compile(r"(?<=[,;:])\s*\.\s+|\s+[•·▪]\s+")


def split_sentences(text: str) -> list[tuple[int, int]]:
    """Character spans (start, end) of the sentences of ``text``; newlines and inline bullets
    (", . item", " • item") always end a sentence."""
    spans: list[tuple[int, int]] = []
    for line in re.finditer(r"[^\n]+", text):
        pieces, cursor = [], line.start()
        for bullet in _BULLET.finditer(line.group()):
            pieces.append((cursor, line.start() + bullet.start()))
            cursor = line.start() + bullet.end()
        pieces.append((cursor, line.end()))
        for start, end in pieces:
            spans.extend(_sentences_in(text, start, end))
    return spans


def _sentences_in(text: str, start: int, end: int) -> list[tuple[int, int]]:
    spans = []
    segment = text[start:end]
    cursor = 0
    for m in _BOUNDARY.finditer(segment):
        before = segment[cursor:m.start(1)].rsplit(None, 1)
        last_word = before[-1].lower() if before else ""
        if last_word.strip("(«\"") in _ABBREV or (len(last_word) == 1 and last_word.isalpha()):
            continue
        stop = m.end(1)
        if segment[cursor:stop].strip():
            spans.append(_strip_span(text, start + cursor, start + stop))
        cursor = m.end()
    if segment[cursor:].strip():
        spans.append(_strip_span(text, start + cursor, end))
    return spans


_ITEM_MARK = re.compile(r"[-–•▪*]\s+(?=\S)")


def _strip_span(text: str, start: int, end: int) -> tuple[int, int]:
    """The span without surrounding spaces, nor the mark of a list item (« - l'organisation … » is the
    sentence « l'organisation … »)."""
    while start < end and text[start].isspace():
        start += 1
    item = _ITEM_MARK.match(text, start, end)
    if item:
        start = item.end()
    while end > start and text[end - 1].isspace():
        end -= 1
    return start, end


def slug(value: str) -> str:
    """Identifier form of a label: "Agro-alimentaire " -> "agro-alimentaire" (filières, types, audiences)."""
    return re.sub(r"[^a-z0-9]+", "-", fold(str(value))).strip("-")


def as_list(value) -> list[str]:
    """A comma-separated string or a list, as a list of non-empty stripped strings."""
    if value in (None, ""):
        return []
    if isinstance(value, str):
        return [v.strip() for v in value.split(",") if v.strip()]
    return [str(v).strip() for v in value if str(v).strip()]
