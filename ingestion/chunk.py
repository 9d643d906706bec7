"""Stage 5 — chunk: sentence-aware French chunks with a small overlap, headings kept.

Each chunk is a contiguous span of the document text, so its character offsets point at the exact
passage to highlight later; the heading in force travels with it (and with its embedding).

A chunk has a budget in words and one in characters (``CHARS_PER_WORD`` per word of the target): ordinary
French prose (about 6 characters a word) never meets the second, but a run of letters, a table of
numbers or a long address cannot make a chunk larger than the budget; a token longer than a sentence
may be is cut (normalisation already drops absurd ones)."""
from __future__ import annotations

import re
from bisect import bisect_right
from dataclasses import dataclass
from typing import Collection

from veille.text import split_sentences

MAX_SENTENCE_WORDS = 120
CHARS_PER_WORD = 12


@dataclass(frozen=True)
class Chunk:
    position: int
    start: int
    end: int
    heading: str
    text: str


@dataclass(frozen=True)
class _Unit:
    start: int
    end: int
    words: int
    heading: bool


def _is_heading(line: str, next_raw: str | None) -> bool:
    if line.startswith("#"):
        return True
    if len(line) > 90 or len(line.split()) > 14 or re.search(r"[.!?;,:]$", line):
        return False
    # A short line without end punctuation, standing alone (blank line after it).
    return next_raw is None or not next_raw.strip()


def _units(text: str, max_unit_chars: int, headings: Collection[int] = ()) -> list[_Unit]:
    lines = text.split("\n")
    heading_spans: set[tuple[int, int]] = set()
    pos = 0
    for i, line in enumerate(lines):
        stripped = line.strip()
        s = pos + line.index(stripped) if stripped else pos
        if stripped and (s in headings or _is_heading(stripped, lines[i + 1] if i + 1 < len(lines) else None)):
            heading_spans.add((s, s + len(stripped)))
        pos += len(line) + 1
    units: list[_Unit] = []
    for start, end in split_sentences(text):
        words = len(text[start:end].split())
        if words > MAX_SENTENCE_WORDS or end - start > max_unit_chars:
            # split run-on "sentences" (lists, tables, runs of letters) into word windows
            for m_start, m_end in _word_windows(text, start, end, MAX_SENTENCE_WORDS, max_unit_chars):
                units.append(_Unit(m_start, m_end, len(text[m_start:m_end].split()), False))
        else:
            units.append(_Unit(start, end, words, (start, end) in heading_spans))
    return units


def _tokens(text: str, start: int, end: int, max_chars: int):
    """Spans of the words of ``text[start:end]``, a word longer than ``max_chars`` cut into pieces."""
    for m in re.finditer(r"\S+", text[start:end]):
        for s in range(m.start(), m.end(), max_chars):
            yield start + s, start + min(s + max_chars, m.end())


def _word_windows(text: str, start: int, end: int, size: int, max_chars: int):
    window: list[tuple[int, int]] = []
    for span in _tokens(text, start, end, max_chars):
        if window and (len(window) >= size or span[1] - window[0][0] > max_chars):
            yield window[0][0], window[-1][1]
            window = []
        window.append(span)
    if window:
        yield window[0][0], window[-1][1]


def chunk_text(text: str, target_words: int = 160, overlap: int = 1, headings: Collection[int] = ()) -> list[Chunk]:
    """``headings``: where the lines the extractor marked as headings start (``normalize.clean_document``); a
    short line standing alone is taken for one too."""
    max_chars = target_words * CHARS_PER_WORD
    units = _units(text, min(MAX_SENTENCE_WORDS * CHARS_PER_WORD, max_chars), set(headings))
    chunks: list[Chunk] = []
    current: list[_Unit] = []
    heading = ""
    chunk_heading = ""

    def flush() -> None:
        if any(not u.heading for u in current):
            start, end = current[0].start, current[-1].end
            chunks.append(Chunk(len(chunks), start, end, chunk_heading, text[start:end]))

    for unit in units:
        size = sum(u.words for u in current)
        starts_section = unit.heading and size >= target_words // 3
        too_long = bool(current) and unit.end - current[0].start > max_chars
        if current and (size + unit.words > target_words or starts_section or too_long):
            flush()
            carried = [u for u in current[-overlap:] if not u.heading] if overlap and not unit.heading else []
            if carried and unit.end - carried[0].start > max_chars:  # no room for the overlap
                carried = []
            current = carried if len(carried) < len(current) else []
            chunk_heading = heading
        if unit.heading:
            heading = text[unit.start:unit.end].lstrip("#").strip()
            if not current:
                chunk_heading = heading
        current.append(unit)
    if current:
        flush()
    return chunks


def page_span(pages: list[int], start: int, end: int) -> tuple[int | None, int | None]:
    """First and last page (from 1) of the span ``start:end``, given where each page starts."""
    if not pages:
        return None, None
    return bisect_right(pages, start), bisect_right(pages, max(start, end - 1))
