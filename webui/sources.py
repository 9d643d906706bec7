"""The sources panel and the safe rendering of corpus text.

Corpus text is untrusted (scraped pages): it is always HTML-escaped here, and the assembled panel
goes through nh3 (an allow-list sanitiser) as a second barrier, so a page containing ``<script>`` or
``onerror=`` shows as text and never runs.
"""
from __future__ import annotations

import html
import re
from pathlib import Path
from urllib.parse import urlparse

import nh3

from assistant.answer import Answer, Citation
from veille.filters import safe_url  # noqa: F401 - the UI's tabs import it from here

_ALLOWED_TAGS = {"div", "span", "p", "details", "summary", "a", "mark", "blockquote", "h3", "h4", "small",
                 "strong", "em", "ul", "li", "br"}
_ALLOWED_ATTRS = {"*": {"class", "id"}, "a": {"href", "title", "target"}, "details": {"open"}}

DOC_TYPE_LABELS = {"article": "Article", "rapport": "Rapport", "bulletin": "Bulletin", "autre": "Autre"}


def sanitize(fragment: str) -> str:
    return nh3.clean(fragment, tags=_ALLOWED_TAGS, attributes=_ALLOWED_ATTRS, url_schemes={"http", "https"},
                     link_rel="noopener noreferrer nofollow")


def esc(text: str | None) -> str:
    return html.escape(text or "", quote=True)


def source_id(turn: int, n: int) -> str:
    return f"src-{turn}-{n}"


def origin_label(c: Citation) -> str:
    """The site for web documents, the file name for local ones."""
    if c.site:
        return c.site
    if c.url:
        return urlparse(c.url).netloc or c.url
    return Path(c.source).name if c.source else ""


def format_date(date: str | None) -> str:
    if not date:
        return "date inconnue"
    parts = date.split("-")
    return "/".join(reversed(parts))


def highlight(passage: str, sentence: str) -> str:
    """The escaped passage with the supporting sentence wrapped in <mark>."""
    if sentence:
        idx = passage.find(sentence.strip())
        if idx < 0:  # tolerate whitespace differences between the sentence and the stored passage
            pattern = r"\s+".join(re.escape(w) for w in sentence.split())
            m = re.search(pattern, passage) if pattern else None
            if m:
                return f"{esc(passage[:m.start()])}<mark>{esc(m.group(0))}</mark>{esc(passage[m.end():])}"
        else:
            end = idx + len(sentence.strip())
            return f"{esc(passage[:idx])}<mark>{esc(passage[idx:end])}</mark>{esc(passage[end:])}"
    return esc(passage)


def render_citation(turn: int, c: Citation, open_: bool = False) -> str:
    url = safe_url(c.url) or safe_url(c.source)
    meta = " · ".join(x for x in (DOC_TYPE_LABELS.get(c.doc_type, c.doc_type.capitalize()), format_date(c.date),
                                   origin_label(c)) if x)
    link = (f'<a href="{esc(url)}" target="_blank" class="src-link">Voir l\'original ↗</a>' if url else
            '<small class="src-nolink">Document local (pas de lien en ligne)</small>')
    return (f'<details class="src" id="{source_id(turn, c.n)}"{" open" if open_ else ""}>'
            f'<summary><span class="src-n">[{c.n}]</span> <strong>{esc(c.title or "Sans titre")}</strong></summary>'
            f'<div class="src-meta">{esc(meta)}</div>'
            f'<blockquote class="src-quote">{highlight(c.quote, c.sentence)}</blockquote>'
            f'<div>{link}</div></details>')


def render_sources(answers: list[Answer]) -> str:
    """All sources of the conversation, latest answer first, each addressable as #src-<turn>-<n>."""
    if not answers:
        return sanitize('<div class="src-pane src-empty">Les sources citées dans les réponses apparaîtront ici. '
                        'Cliquez sur un renvoi [n] pour afficher le passage.</div>')
    blocks = []
    for turn in range(len(answers) - 1, -1, -1):
        answer = answers[turn]
        latest = turn == len(answers) - 1
        header = f'<h4 class="src-turn">Question {turn + 1} : {esc(answer.question)}</h4>'
        if not answer.citations:
            body = '<small>Aucune source : le corpus ne couvre pas cette question.</small>'
        else:
            body = "".join(render_citation(turn, c, open_=latest) for c in answer.citations)
        blocks.append(f'<div class="src-group">{header}{body}</div>')
    return sanitize('<div class="src-pane">' + "".join(blocks) + "</div>")
