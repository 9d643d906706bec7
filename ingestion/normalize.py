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


# Where a page starts, carried through the clean-up: a private-use character (removed from any input
# first), kept off every line test and repetition count, and put back where its page's first line went.
_MARK = "\ue000"
# « [Charte cybersécurité](#) » → « Charte cybersécurité »; images « ![logo](a.png) » go altogether.
_MD_IMAGE = re.compile(r"!\[[^\]\n]*\]\([^)\n]*\)")
_MD_LINK = re.compile(r"\[([^\]\n]+)\]\((?:[^()\s]|\([^()\s]*\))*(?:\s+\"[^\"\n]*\")?\)")
# « … numériques. - l'organisation … », « … ; • la Charte … »: list items run together on one line
# (not after « ! » or « ? »: « ZOU ! - de 26 ans » reads « moins de 26 ans »).
_INLINE_ITEM = re.compile(r"(?<=[.;:…]) +(?=(?:[-–•▪*]|\d{1,2}[.)])\s+\S)")
# « local.A l'heure », « PME-PMI.En effet », « années 90.Ensuite »: sentences glued by a lost line break.
_GLUED = re.compile(r"(?<=[a-zà-ÿ]{2}|[A-Z]{2}|\d{2}|\d\)|[a-zà-ÿ]\))\.(?=[A-ZÀ-Þ](?:[a-zà-ÿ]{2,}|[a-zà-ÿ]?[\s’']))")


def clean_text(text: str) -> str:
    """NFC, unified spaces, absurd tokens dropped, Markdown link residue removed, list items one per line,
    hard-wrapped lines re-joined, glued sentences split, repeated and boilerplate lines dropped."""
    return _clean(text.replace(_MARK, ""))


def clean_pages(text: str, pages: list[int]) -> tuple[str, list[int]]:
    """``clean_text`` of a paged text, with the offset where each page starts in the cleaned text."""
    if len(pages) < 2:
        return clean_text(text), [0] if pages else []
    bounds = [*pages[1:], len(text)]
    joined, previous = [], 0
    for i, end in enumerate(bounds):
        piece = text[previous:end].replace(_MARK, "")
        previous = end
        if i == len(bounds) - 1:
            joined.append(piece)
            continue
        body = piece.rstrip("\n")
        # the page's own line breaks, then the mark on a line of its own before the next page
        joined.append(body + "\n" * max(1, len(piece) - len(body)) + _MARK + "\n")
    cleaned = _clean("".join(joined))
    starts, out, cursor = [0], [], 0
    for i, piece in enumerate(cleaned.split(_MARK)):
        if i:
            starts.append(cursor)
        out.append(piece)
        cursor += len(piece)
    return "".join(out), starts


def _clean(text: str) -> str:
    text = unicodedata.normalize("NFC", text)
    text = text.replace("\r\n", "\n").replace("\r", "\n").replace("\u00ad", "")
    text = re.sub(r"[\u00a0\u202f\u2007\t\f\v]+", " ", text)
    text = re.sub(r"[\u200b-\u200d\ufeff]", "", text)
    text = "".join(c for c in text if c in ("\n", _MARK) or unicodedata.category(c)[0] != "C")
    text = _ABSURD_TOKEN.sub("", text)
    text = _MD_LINK.sub(r"\1", _MD_IMAGE.sub("", text))
    text = _INLINE_ITEM.sub("\n", text)
    lines = [re.sub(r" {2,}", " ", line).strip() for line in text.split("\n")]
    counts = Counter(line for line in lines if line and line != _MARK)
    kept: list[str] = []
    seen_short: set[str] = set()
    for line in lines:
        if line == _MARK:
            kept.append(line)
            continue
        if line and _BOILERPLATE.match(line):
            continue
        # A short line repeated many times is navigation or a page header, not content.
        if line and len(line) < 60 and counts[line] > 2:
            if line in seen_short:
                continue
            seen_short.add(line)
        kept.append(line)
    text = _rejoin_wrapped(kept).strip()
    # "en IE.Cela a commencé", "(en 2006).Ces réflexions": a sentence glued to the previous one by scraping.
    return _GLUED.sub(". ", text)


def _unfinished(previous: str, line: str) -> bool:
    """``previous`` stops mid-sentence (no end punctuation, not a heading) and ``line`` is no list item."""
    return bool(previous and line and not _SENTENCE_END.search(previous) and not previous.startswith("#")
                and not _LIST_ITEM.match(line))


def _rejoin_wrapped(lines: list[str]) -> str:
    """Join lines broken mid-sentence (PDF text layers, hard-wrapped files). Page marks are transparent:
    each goes where the first line of its page lands, inside a re-joined sentence or at a line start."""
    out: list[str] = []
    marks: list[tuple[int, int]] = []  # (line of ``out``, offset in it) of each page mark, in order
    pending = 0
    for line in lines:
        if line == _MARK:
            pending += 1
            continue
        if not line:
            out.append(line)
            continue
        if (len(out) >= 2 and not out[-1] and _unfinished(out[-2], line) and line[0].islower()
                and len(out[-2]) > 60):
            # A paragraph break in the middle of a sentence ("un renforcement de la" / blank line /
            # "décentralisation…"), left by copy-paste or export: the sentence is made whole again.
            out.pop()  # a blank line: no page mark ever points at one
            at = (len(out) - 1, len(out[-1]) + 1)
            out[-1] = out[-1] + " " + line
        elif _unfinished(out[-1] if out else "", line) and (line[0].islower() or len(out[-1]) > 60):
            at = (len(out) - 1, len(out[-1]) + 1)
            out[-1] = out[-1] + " " + line
        else:
            at = (len(out), 0)
            out.append(line)
        marks += [at] * pending
        pending = 0
    if pending:
        marks += [(len(out) - 1, len(out[-1])) if out else (0, 0)] * pending
        if not out:
            out.append("")
    for index, offset in reversed(marks):  # right to left: earlier offsets stay valid
        out[index] = out[index][:offset] + _MARK + out[index][offset:]
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
