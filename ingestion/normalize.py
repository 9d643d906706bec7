"""Stage 4 — normalise: Unicode and whitespace clean-up, boilerplate removal, language detection."""
from __future__ import annotations

import re
import unicodedata
from collections import Counter

from ingestion.formats.base import table_lines

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
# Where a heading line starts once its '#' marks are gone, carried the same way (put in after the clean-up of
# control and private-use characters, so never taken from the input).
_HEADING = "\ue001"
_MARKS = re.compile(f"[{_MARK}{_HEADING}]|[^{_MARK}{_HEADING}]+")
# « [Charte cybersécurité](#) » → « Charte cybersécurité »; images « ![logo](a.png) » go altogether.
_MD_IMAGE = re.compile(r"!\[[^\]\n]*\]\([^)\n]*\)")
_MD_LINK = re.compile(r"\[([^\]\n]+)\]\((?:[^()\s]|\([^()\s]*\))*(?:\s+\"[^\"\n]*\")?\)")
# Markdown marks (Markdown files, web pages extracted with their formatting, the '#' headings every extractor
# writes) are removed here, once for every format: the stored text, which is searched, embedded, quoted,
# shown and exported, is plain text, so no surface has to strip marks again and a mark never counts as a word
# (« _Mediapart_ » was the term « _mediapart_ »). A heading stays a line of its own with a blank line after
# it, which is how the chunker (ingestion/chunk.py) knows a heading without marks.
_MD_EMPHASIS = [re.compile(p) for p in (
    r"(?<![\w*])\*\*(?=[^\s*])([^\n]*?[^\s*])\*\*(?![\w*])",  # **gras**
    r"(?<![\w_])__(?=[^\s_])([^\n]*?[^\s_])__(?![\w_])",  # __gras__
    r"(?<![\w*])\*(?=[^\s*])([^\n]*?[^\s*])\*(?![\w*])",  # *italique*
    r"(?<![\w_])_(?=[^\s_])([^\n]*?[^\s_])_(?![\w_])",  # _italique_ (never snake_case)
    r"(?<!~)~~(?=\S)([^\n]*?\S)~~(?!~)",  # ~~barré~~
    r"(?<!`)`([^`\n]+)`(?!`)",  # `code`
)]
_MD_RULE = re.compile(r"(?m)^ *(?:(?:[-*_] *){3,}|=+) *$")  # « --- », « *** » (thematic break), « === »
_MD_HEADING = re.compile(r"^(\ue000*)#{1,6}[ \t]+(.*?)(?:[ \t]+#+)?[ \t]*$")
_MD_TABLE_ROW = re.compile(r"^ *\|.*\| *$")
_MD_TABLE_RULE = re.compile(r"^ *\|? *:?-{3,}:? *(?:\| *:?-{3,}:? *)*\|? *$")
# « … numériques. - l'organisation … », « … ; • la Charte … »: list items run together on one line
# (not after « ! » or « ? »: « ZOU ! - de 26 ans » reads « moins de 26 ans »).
_INLINE_ITEM = re.compile(r"(?<=[.;:…]) +(?=(?:[-–•▪*]|\d{1,2}[.)])\s+\S)")
# « local.A l'heure », « PME-PMI.En effet », « années 90.Ensuite »: sentences glued by a lost line break.
_GLUED = re.compile(r"(?<=[a-zà-ÿ]{2}|[A-Z]{2}|\d{2}|\d\)|[a-zà-ÿ]\))\.(?=[A-ZÀ-Þ](?:[a-zà-ÿ]{2,}|[a-zà-ÿ]?[\s’']))")


def clean_text(text: str) -> str:
    """NFC, unified spaces, absurd tokens dropped, Markdown marks and link residue removed, list items one per
    line, hard-wrapped lines re-joined, glued sentences split, repeated and boilerplate lines dropped."""
    return _unmark(_clean(text.replace(_MARK, "")))[0]


def clean_pages(text: str, pages: list[int]) -> tuple[str, list[int]]:
    """``clean_text`` of a paged text, with the offset where each page starts in the cleaned text."""
    cleaned, starts, _ = clean_document(text, pages)
    return cleaned, starts


def clean_document(text: str, pages: list[int]) -> tuple[str, list[int], list[int]]:
    """``clean_text`` with the offsets where each page starts ([] when unpaged) and where each heading line
    starts (a '#' line of the extracted text, stored without its marks: the chunker still knows it)."""
    if len(pages) < 2:
        cleaned, _, headings = _unmark(_clean(text.replace(_MARK, "")))
        return cleaned, [0] if pages else [], headings
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
    cleaned, starts, headings = _unmark(_clean("".join(joined)))
    return cleaned, [0, *starts], headings


def _unmark(text: str) -> tuple[str, list[int], list[int]]:
    """``text`` without its page and heading marks, with where each page and each heading then starts."""
    out: list[str] = []
    pages: list[int] = []
    headings: list[int] = []
    cursor = 0
    for m in _MARKS.finditer(text):
        piece = m.group()
        if piece == _MARK:
            pages.append(cursor)
        elif piece == _HEADING:
            headings.append(cursor)
        else:
            out.append(piece)
            cursor += len(piece)
    return "".join(out), pages, headings


def _clean(text: str) -> str:
    text = unicodedata.normalize("NFC", text)
    text = text.replace("\r\n", "\n").replace("\r", "\n").replace("\u00ad", "")
    text = re.sub(r"[\u00a0\u202f\u2007\t\f\v]+", " ", text)
    text = re.sub(r"[\u200b-\u200d\ufeff]", "", text)
    text = "".join(c for c in text if c in ("\n", _MARK) or unicodedata.category(c)[0] != "C")
    text = _ABSURD_TOKEN.sub("", text)
    text = _MD_LINK.sub(r"\1", _MD_IMAGE.sub("", text))
    text = _md_plain(text)
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
    text = _plain_headings(_rejoin_wrapped(kept)).strip()
    # "en IE.Cela a commencé", "(en 2006).Ces réflexions": a sentence glued to the previous one by scraping.
    return _GLUED.sub(". ", text)


def strip_marks(line: str) -> str:
    """A line (a title) without its Markdown emphasis and code marks."""
    for pattern in _MD_EMPHASIS:
        line = pattern.sub(r"\1", line)
    return line


def _md_plain(text: str) -> str:
    """Markdown emphasis, code marks, thematic breaks and pipe tables turned into plain text (tables into
    rows that read on their own, as for the other formats' tables)."""
    text = _MD_RULE.sub("", strip_marks(text))
    if "|" not in text:
        return text
    lines, out, i = text.split("\n"), [], 0
    while i < len(lines):
        if _MD_TABLE_ROW.match(lines[i]) and i + 1 < len(lines) and _MD_TABLE_RULE.match(lines[i + 1]):
            j = i + 2
            while j < len(lines) and _MD_TABLE_ROW.match(lines[j]):
                j += 1
            rows = [[cell.strip() for cell in line.strip().strip("|").split("|")] for k, line in
                    enumerate(lines[i:j]) if k != 1]
            out += table_lines(rows)
            i = j
        else:
            out.append(lines[i])
            i += 1
    return "\n".join(out)


def _plain_headings(text: str) -> str:
    """« ## Titre » lines as « Titre » (with the heading mark), a blank line after each (a page mark before it
    stays)."""
    lines = text.split("\n")
    out: list[str] = []
    for i, line in enumerate(lines):
        m = _MD_HEADING.match(line)
        if not m:
            out.append(line)
            continue
        if m.group(2):
            out.append(m.group(1) + _HEADING + m.group(2))
            if i + 1 < len(lines) and lines[i + 1].strip(_MARK + " "):
                out.append("")
        elif m.group(1):
            out.append(m.group(1))
    return "\n".join(out)


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
                and not _LIST_ITEM.match(out[-2])):
            # A paragraph break in the middle of a sentence ("un renforcement de la" / blank line /
            # "décentralisation…"), left by copy-paste or export, or by OCR of a widely spaced scan (each
            # line its own paragraph: « La station de Saint-Lô distribue » / « chaque jour 95 kilogrammes »):
            # the sentence is made whole again.
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
