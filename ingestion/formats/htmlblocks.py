"""Every heading, paragraph, list item and table row of an HTML page, in order (EPUB chapters, e-mail
bodies): unlike the web extractor, nothing is judged boilerplate — these pages are all content."""
from __future__ import annotations

import re

from ingestion.formats.base import cell_text, table_lines

_BLOCK = {"p", "div", "section", "article", "blockquote", "pre", "address", "figcaption", "dd", "dt", "center",
          "td", "th", "main", "header", "footer", "aside", "nav", "body", "br", "hr", "form", "dl"}
_SKIP = {"script", "style", "head", "title", "noscript", "template", "svg", "iframe", "object"}


def html_blocks(markup: str | bytes) -> list[str]:
    import lxml.html

    try:
        root = lxml.html.document_fromstring(markup)
    except (ValueError, TypeError, lxml.etree.ParserError):
        return []
    body = root.find("body")
    blocks: list[str] = []
    _walk(body if body is not None else root, blocks)
    return blocks


def _walk(el, out: list[str]) -> None:
    buffer: list[str] = []

    def flush() -> None:
        text = " ".join(" ".join(buffer).split())
        if text:
            out.append(text)
        buffer.clear()

    if el.text:
        buffer.append(el.text)
    for child in el:
        tag = child.tag.lower() if isinstance(child.tag, str) else ""
        if tag in _SKIP or not tag:
            pass
        elif re.fullmatch(r"h[1-6]", tag):
            flush()
            text = " ".join(child.text_content().split())
            if text:
                out.append("#" * int(tag[1]) + " " + text)
        elif tag == "li":
            flush()
            text = " ".join(child.text_content().split())
            if text:
                out.append("- " + text)
        elif tag == "table":
            flush()
            rows = [[cell_text(" ".join(c.text_content().split())) for c in tr if
                     isinstance(c.tag, str) and c.tag.lower() in ("td", "th")] for tr in child.iter("tr")]
            out.extend(table_lines(rows))
        elif tag in ("ul", "ol") or tag in _BLOCK:
            flush()
            _walk(child, out)
        else:  # inline: a, span, em, strong …
            buffer.append(child.text_content())
        if child.tail:
            buffer.append(child.tail)
    flush()
