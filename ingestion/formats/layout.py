"""Reading order of a PDF page from its positioned text: running headers and footers dropped, columns
read one after the other, lines joined into paragraphs with hyphenated line ends mended, larger type
kept as '#' headings. Pure geometry over the segments a PDF library gives (``Segment``), so the same
glue serves any backend."""
from __future__ import annotations

import re
import statistics
from collections import Counter
from dataclasses import dataclass

EDGE = 0.10  # share of the page height, top and bottom, where running headers and footers live
_PAGE_NUMBER = re.compile(r"^\W*(?:page\s*|p\.\s*)?\d{1,4}(?:\s*(?:/|sur|of|de)\s*\d{1,4})?\W*$", re.IGNORECASE)
_HYPHENATED = re.compile(r"[a-zà-öø-ÿ]-$")


@dataclass(frozen=True)
class Segment:
    """A run of text on one line, in page coordinates with y growing downwards."""
    x0: float
    x1: float
    top: float
    bottom: float
    text: str

    @property
    def height(self) -> float:
        return self.bottom - self.top

    @property
    def middle(self) -> float:
        return (self.top + self.bottom) / 2


@dataclass
class PageText:
    width: float
    height: float
    segments: list[Segment]


def _running_key(text: str) -> str:
    return re.sub(r"\d+", "#", " ".join(text.lower().split()))


def _in_edge(seg: Segment, page: PageText) -> bool:
    return seg.middle < page.height * EDGE or seg.middle > page.height * (1 - EDGE)


def drop_running(pages: list[PageText]) -> list[PageText]:
    """Remove, near the top and bottom edges, lines found on at least half the pages (numbers aside:
    « Page 3 sur 12 » and « Page 4 sur 12 » are the same footer) and bare page numbers."""
    counts: Counter[str] = Counter()
    for page in pages:
        counts.update({_running_key(s.text) for s in page.segments if _in_edge(s, page)})
    needed = max(2, (len(pages) + 1) // 2)
    out = []
    for page in pages:
        kept = [s for s in page.segments if not (_in_edge(s, page) and (
            counts[_running_key(s.text)] >= needed or _PAGE_NUMBER.match(s.text.strip())))]
        out.append(PageText(page.width, page.height, kept))
    return out


def _gutters(page: PageText) -> list[tuple[float, float]]:
    """Vertical white bands that split the text into columns: x ranges no column-sized segment crosses,
    with enough text on both sides."""
    if not page.segments:
        return []
    extent = max(s.x1 for s in page.segments) - min(s.x0 for s in page.segments)
    narrow = [s for s in page.segments if s.x1 - s.x0 < extent * 0.55]  # a column is under half the text width
    if len(narrow) < 6:
        return []
    left, right = int(min(s.x0 for s in narrow)), int(max(s.x1 for s in narrow)) + 1
    covered = [0] * (right - left + 1)
    for s in narrow:
        for x in range(int(s.x0) - left, int(s.x1) - left + 1):
            covered[x] += 1
    gutters, start = [], None
    for i, c in enumerate(covered + [1]):
        if c == 0 and start is None:
            start = i
        elif c and start is not None:
            lo, hi = left + start, left + i
            if hi - lo >= 8:
                before = sum(1 for s in narrow if s.x1 <= lo)
                after = sum(1 for s in narrow if s.x0 >= hi)
                if min(before, after) >= max(3, len(narrow) // 5):
                    gutters.append((lo, hi))
            start = None
    return gutters


def _column_of(seg: Segment, gutters: list[tuple[float, float]]) -> int | None:
    """Index of the column holding ``seg``, None when it spans a gutter (a title across columns)."""
    for i, (lo, hi) in enumerate(gutters):
        if seg.x0 < hi and seg.x1 > lo:
            return None
        if seg.x1 <= lo:
            return i
    return len(gutters)


def reading_order(page: PageText) -> list[list[Segment]]:
    """The page's lines (segments sharing a baseline within one column), columns read in turn; a segment
    spanning the columns closes the band of columns above it."""
    gutters = _gutters(page)
    ordered = sorted(page.segments, key=lambda s: (s.top, s.x0))
    band: list[Segment] = []
    lines: list[list[Segment]] = []

    def flush() -> None:
        columns: dict[int, list[Segment]] = {}
        for s in band:
            columns.setdefault(_column_of(s, gutters), []).append(s)
        for index in sorted(columns):
            lines.extend(_lines(columns[index]))
        band.clear()

    for seg in ordered:
        if gutters and _column_of(seg, gutters) is None:
            flush()
            lines.extend(_lines([seg]))
        else:
            band.append(seg)
    flush()
    return lines


def _lines(segments: list[Segment]) -> list[list[Segment]]:
    lines: list[list[Segment]] = []
    for seg in sorted(segments, key=lambda s: (s.top, s.x0)):
        if lines and abs(lines[-1][0].middle - seg.middle) < max(2.0, seg.height * 0.4):
            lines[-1].append(seg)
        else:
            lines.append([seg])
    return [sorted(line, key=lambda s: s.x0) for line in lines]


def _line_text(line: list[Segment]) -> str:
    return " ".join(s.text.strip() for s in line if s.text.strip())


def page_text(page: PageText) -> str:
    """Paragraphs separated by a blank line; a heading as a '#' line; lines of a paragraph joined."""
    lines = [line for line in reading_order(page) if _line_text(line)]
    if not lines:
        return ""
    heights = [statistics.median(s.height for s in line) for line in lines]
    body = statistics.median(heights)
    gaps = [b[0].top - a[0].top for a, b in zip(lines, lines[1:]) if 0 < b[0].top - a[0].top < body * 3]
    leading = statistics.median(gaps) if gaps else body * 1.3
    out: list[str] = []
    paragraph = ""
    previous = None
    for line, height in zip(lines, heights):
        text = _line_text(line)
        heading = height >= body * 1.25 and len(text.split()) <= 14
        if heading:
            if paragraph:
                out.append(paragraph)
            paragraph = ""
            out.append(("# " if height >= body * 1.6 else "## ") + text)
            previous = None
            continue
        column_break = previous is not None and line[0].top < previous[0].top  # up again: the next column
        new_block = previous is None or column_break or (line[0].top - previous[0].top) > leading * 1.5
        if paragraph and _HYPHENATED.search(paragraph) and text[:1].islower():
            paragraph = paragraph[:-1] + text  # « dévelop- » + « pement »
        elif paragraph and column_break:
            paragraph += "\n" + text  # the normaliser decides whether the sentence goes on
        elif paragraph and new_block:
            out.append(paragraph)
            paragraph = text
        elif paragraph:
            paragraph += " " + text
        else:
            paragraph = text
        previous = line
    if paragraph:
        out.append(paragraph)
    return "\n\n".join(out)
