"""Stage 4 — normalise: Unicode and whitespace clean-up, boilerplate removal, language detection."""
from __future__ import annotations

import re
import unicodedata
from collections import Counter

_SENTENCE_END = re.compile(r"[.!?:;…»\"”)]\s*$")
_LIST_ITEM = re.compile(r"^([-•*–]|\d+[/.)]\s)")
_BOILERPLATE = re.compile(
    r"^(partager( sur)?|imprimer|envoyer|tweet|facebook|linkedin|twitter|lire aussi|publicité|"
    r"accepter( les)? cookies?|nous utilisons des cookies.*|retour en haut|menu|rechercher|"
    r"abonnez-vous.*|newsletter|se connecter|connexion|mentions légales|plan du site)\s*:?$",
    re.IGNORECASE)
# No word, address or number of a real document is this long (the longest in the bench corpora: 92
# characters): a run like this is noise (a broken export, an inlined image, a hostile file) and is dropped.
ABSURD_TOKEN_CHARS = 500
_ABSURD_TOKEN = re.compile(r"\S{%d,}" % (ABSURD_TOKEN_CHARS + 1))


def clean_text(text: str) -> str:
    """NFC, unified spaces, absurd tokens dropped, hard-wrapped lines re-joined, repeated and boilerplate
    lines dropped."""
    text = unicodedata.normalize("NFC", text)
    text = text.replace("\r\n", "\n").replace("\r", "\n").replace("\u00ad", "")
    text = re.sub(r"[\u00a0\u202f\u2007\t\f\v]+", " ", text)
    text = re.sub(r"[\u200b-\u200d\ufeff]", "", text)
    text = "".join(c for c in text if c == "\n" or unicodedata.category(c)[0] != "C")
    text = _ABSURD_TOKEN.sub("", text)
    lines = [re.sub(r" {2,}", " ", line).strip() for line in text.split("\n")]
    counts = Counter(line for line in lines if line)
    kept: list[str] = []
    seen_short: set[str] = set()
    for line in lines:
        if line and _BOILERPLATE.match(line):
            continue
        # A short line repeated many times is navigation or a page header, not content.
        if line and len(line) < 60 and counts[line] > 2:
            if line in seen_short:
                continue
            seen_short.add(line)
        kept.append(line)
    text = _rejoin_wrapped("\n".join(kept)).strip()
    # "en IE.Cela a commencé", "(en 2006).Ces réflexions": a sentence glued to the previous one by scraping.
    return re.sub(r"(?<=[a-zà-ÿ]{2}|[A-Z]{2}|\d\)|[a-zà-ÿ]\))\.(?=[A-ZÀ-Þ][a-zà-ÿ]{2,})", ". ", text)


def _unfinished(previous: str, line: str) -> bool:
    """``previous`` stops mid-sentence (no end punctuation, not a heading) and ``line`` is no list item."""
    return bool(previous and line and not _SENTENCE_END.search(previous) and not previous.startswith("#")
                and not _LIST_ITEM.match(line))


def _rejoin_wrapped(text: str) -> str:
    """Join lines broken mid-sentence (PDF text layers, hard-wrapped files)."""
    out: list[str] = []
    for line in text.split("\n"):
        if (len(out) >= 2 and not out[-1] and _unfinished(out[-2], line) and line[0].islower()
                and len(out[-2]) > 60):
            # A paragraph break in the middle of a sentence ("un renforcement de la" / blank line /
            # "décentralisation…"), left by copy-paste or export: the sentence is made whole again.
            out.pop()
            out[-1] = out[-1] + " " + line
            continue
        previous = out[-1] if out else ""
        if _unfinished(previous, line) and (line[0].islower() or len(previous) > 60):
            out[-1] = out[-1] + " " + line
        else:
            out.append(line)
    return re.sub(r"\n{3,}", "\n\n", "\n".join(out))


def detect_language(text: str) -> str:
    """ISO 639-1 code with langdetect, seeded so that the same text always gets the same answer."""
    from langdetect import DetectorFactory, detect
    from langdetect.lang_detect_exception import LangDetectException

    DetectorFactory.seed = 0
    sample = text[:1500]  # enough for a reliable guess; langdetect's cost grows with the text
    try:
        return detect(sample) if len(sample.strip()) >= 20 else "inconnu"
    except LangDetectException:
        return "inconnu"
