"""Corpus text placed in Veille's own Markdown, made literal.

Documents are untrusted: a title, a sentence or a site name must read as the same text once rendered, and
never become an image (``![x](http://host/pixel.png)``: a request to an outside host when the page is shown),
a link, emphasis, a heading or HTML. Only Veille's own structure (headings, lists, ``[n]`` marks) is Markdown.
"""
from __future__ import annotations

import re

# Markdown punctuation that can start markup inside a line (CommonMark lets any ASCII punctuation be escaped):
# emphasis, code, links and images, HTML and entities, headings, tables, strikethrough, maths (« $ », which the
# chat renders with KaTeX), and what makes a heading of the line above (« --- », « === ») when lines are kept.
_SPECIAL = re.compile(r"([\\`*_\[\](){}<>#|~&$!+=-])")
# A block marker at the start of the text (a list item « - », « + », « 1. », « 2) »).
_LEADING = re.compile(r"(?m)^(\s*\d{0,9})([-+.)])(?=\s|$)")
# GFM « extended autolinks »: a bare http(s):// or www. address, or an e-mail address, becomes a link. A
# backslash before « : », « . » or « @ » keeps the address as text (and a backslash escape inside an
# autolink would end up in its address as « %5C »).
_AUTOLINK = re.compile(r"(?i)(?<=[a-z0-9])(:)(?=//)|(?<![a-z0-9])(www)(\.)|(@)")


def defuse(markdown: str) -> str:
    """Escaped text with what Markdown still reads in plain words kept as text: a list marker starting a line
    (« 1. », « - »), a bare address (« https\\://… », « www\\.… », « a\\@b.fr »)."""
    def repl(m: re.Match) -> str:
        if m.group(1):
            return "\\:"
        if m.group(2):
            return m.group(2) + "\\."
        return "\\@"
    return _AUTOLINK.sub(repl, _LEADING.sub(r"\1\\\2", markdown))


def md_literal(text: str | None, marks: bool = False, lines: bool = False) -> str:
    """Corpus text (or what a user typed) as Markdown that renders as exactly that text: no link, image,
    emphasis, HTML, heading, list, maths or bare address can come from it. The one escape of the product (the
    chat, the notes, the watches, the bulletins and the exports all use it). On one line, spaces collapsed;
    ``lines``: each line escaped, the line breaks kept. ``marks``: the text is corpus sentences followed by
    Veille's citation marks « [n] », which stay marks."""
    if lines:
        return "\n".join(md_literal(line, marks) for line in (text or "").split("\n"))
    flat = " ".join((text or "").split())
    escaped = defuse(_SPECIAL.sub(r"\\\1", flat))
    return re.sub(r"\\\[(\d+)\\\]", r"[\1]", escaped) if marks else escaped


_ESCAPE = re.compile(r"\\([!-/:-@\[-`{-~])")


def md_unescape(markdown: str) -> str:
    """The text back from backslash escapes (for the Word export, which writes text, not Markdown)."""
    return _ESCAPE.sub(r"\1", markdown)
