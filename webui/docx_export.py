"""Markdown of a note or a conversation as a real Word document (python-docx).

Headings, bullet lists and quotes keep their styles; **gras**, *italique* and `code` become formatted runs;
a link becomes its text followed by a note number, the address being listed under « Liens » at the end
(a « # » or non-web link keeps only its text). A numbered list item « 3. … » stays « [3] … », so that the
« [3] » of the text points to the third source."""
from __future__ import annotations

import logging
import re
import tempfile
from pathlib import Path

from veille.markup import md_unescape

log = logging.getLogger("veille.ui")

# A mark escaped by a backslash (corpus text, see veille/markup.py) is text, never formatting or a link.
_INLINE = re.compile(r"(?<!\\)\*\*(?P<bold>.+?)(?<!\\)\*\*|(?<!\\)__(?P<bold2>.+?)(?<!\\)__"
                     r"|(?<![\w*\\])\*(?P<it>[^*\s][^*]*?)(?<!\\)\*(?![\w*])"
                     r"|(?<![\w_\\])_(?P<it2>[^_\s][^_]*?)(?<!\\)_(?![\w_])|(?<!\\)`(?P<code>[^`]+)`"
                     r"|(?<!\\)\[(?P<text>[^\]]+)(?<!\\)\]\((?P<url>[^)\s]*)\)")


def _web(url: str) -> bool:
    return url.startswith(("http://", "https://"))


def add_inline(paragraph, text: str, links: list[str], bold: bool = False, italic: bool = False) -> None:
    """``text``'s Markdown inline marks as runs of ``paragraph``; web links numbered into ``links``."""
    at = 0
    for m in _INLINE.finditer(text):
        if m.start() > at:
            _run(paragraph, text[at:m.start()], bold, italic)
        if m.group("bold") or m.group("bold2"):
            add_inline(paragraph, m.group("bold") or m.group("bold2"), links, True, italic)
        elif m.group("it") or m.group("it2"):
            add_inline(paragraph, m.group("it") or m.group("it2"), links, bold, True)
        elif m.group("code"):
            run = _run(paragraph, m.group("code"), bold, italic)
            run.font.name = "Courier New"
        else:
            add_inline(paragraph, m.group("text"), links, bold, italic)
            url = m.group("url")
            if _web(url):
                if url not in links:
                    links.append(url)
                note = _run(paragraph, str(links.index(url) + 1), bold, italic)
                note.font.superscript = True
        at = m.end()
    if at < len(text):
        _run(paragraph, text[at:], bold, italic)


def _run(paragraph, text: str, bold: bool, italic: bool):
    run = paragraph.add_run(md_unescape(text))
    run.bold, run.italic = bold or None, italic or None
    return run


def markdown_to_docx(markdown: str, path: Path, links_title: str = "Liens") -> Path:
    from docx import Document

    doc = Document()
    links: list[str] = []
    for raw in markdown.splitlines():
        line = raw.rstrip()
        if not line.strip():
            continue
        heading = re.match(r"^(#{1,6})\s+(.*)$", line)
        if heading:
            level = len(heading.group(1))
            para = doc.add_heading(level=0 if level == 1 else min(level - 1, 3))
            add_inline(para, heading.group(2), links)
            continue
        numbered = re.match(r"^\s*(\d+)[.)]\s+(.*)$", line)
        bullet = re.match(r"^\s*[-*+]\s+(.*)$", line)
        quote = re.match(r"^\s*>\s?(.*)$", line)
        if numbered:  # « [n] » as in the text, not Word's own renumbering
            para = doc.add_paragraph()
            para.add_run(f"[{numbered.group(1)}] ").bold = True
            add_inline(para, numbered.group(2), links)
        elif bullet:
            add_inline(doc.add_paragraph(style="List Bullet"), bullet.group(1), links)
        elif quote:
            add_inline(doc.add_paragraph(style="Quote"), quote.group(1), links)
        else:
            add_inline(doc.add_paragraph(), line.strip(), links)
    if links:
        doc.add_heading(links_title, level=1)
        for i, url in enumerate(links, 1):
            doc.add_paragraph(f"{i}. {url}")
    doc.save(str(path))
    return path


def export_files(markdown: str, name: str) -> list[str]:
    """``name``.md and ``name``.docx of ``markdown`` in a fresh temporary folder (Gradio serves them); the
    Markdown alone when the Word conversion fails."""
    folder = Path(tempfile.mkdtemp(prefix="veille-export-"))
    md_path = folder / f"{name}.md"
    md_path.write_text(markdown, encoding="utf-8")
    paths = [str(md_path)]
    try:
        paths.append(str(markdown_to_docx(markdown, folder / f"{name}.docx")))
    except Exception:  # noqa: BLE001 - the Markdown download still works
        log.exception("docx export failed")
    return paths
