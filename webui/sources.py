"""The sources panel and the safe rendering of corpus text.

Corpus text is untrusted (scraped pages): it is always HTML-escaped here, and the assembled panel
goes through nh3 (an allow-list sanitiser) as a second barrier, so a page containing ``<script>`` or
``onerror=`` shows as text and never runs.
"""
from __future__ import annotations

import html
import re
from urllib.parse import urlparse

import nh3

from assistant.answering.answer import Answer, Citation
from veille.entity_names import LABEL_NAMES
from veille.filters import (
    readable_source,
    safe_url,  # noqa: F401 - the UI's tabs import it from here
    source_label,
)

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
    """The site for web documents; « fichier local » for the others (their title says what they are: a
    file name such as « 001_ec2d28b11d5960b8.txt » says nothing, a server path must not be shown)."""
    if c.site:
        return c.site
    if safe_url(c.url):
        return urlparse(c.url).netloc or c.url
    return "fichier local"


def format_date(date: str | None) -> str:
    if not date:
        return "date inconnue"
    parts = date.split("-")
    return "/".join(reversed(parts))


def _span(passage: str, sentence: str) -> tuple[int, int] | None:
    idx = passage.find(sentence.strip())
    if idx >= 0:
        return idx, idx + len(sentence.strip())
    # Tolerate whitespace differences between the sentence and the stored passage.
    pattern = r"\s+".join(re.escape(w) for w in sentence.split())
    m = re.search(pattern, passage) if pattern else None
    return m.span() if m else None


def highlight(passage: str, sentence: str | list[str]) -> str:
    """The escaped passage with the supporting sentence(s) wrapped in <mark>."""
    sentences = [sentence] if isinstance(sentence, str) else sentence
    spans = sorted(filter(None, (_span(passage, s) for s in sentences if s and s.strip())))
    out, at = [], 0
    for start, end in spans:
        if start < at:
            continue
        out.append(f"{esc(passage[at:start])}<mark>{esc(passage[start:end])}</mark>")
        at = end
    return "".join(out) + esc(passage[at:])


def render_citation(turn: int, c: Citation, open_: bool = False) -> str:
    """Source ``[n]``: one document, each of its cited passages under it with the supporting sentences
    highlighted; a link to the page of origin, and to the document itself in the « Documents » tab."""
    url = safe_url(c.link())
    dated = format_date(c.date) + (f" ({c.date_evidence()})" if c.date_evidence() else "")
    meta = " · ".join(x for x in (DOC_TYPE_LABELS.get(c.doc_type, c.doc_type.capitalize()), dated,
                                   origin_label(c), c.pages_label()) if x)
    links = [f'<a href="#doc-{esc(c.doc_id)}" class="doc-link">Lire le document</a>'] if c.doc_id else []
    if url:
        links.insert(0, f'<a href="{esc(url)}" target="_blank" class="src-link">Voir l\'original ↗</a>')
    passages = c.passages or []
    quotes = "".join(f'<blockquote class="src-quote">{highlight(p.text, p.sentences)}</blockquote>' for p in passages) \
        or f'<blockquote class="src-quote">{highlight(c.quote, c.sentence)}</blockquote>'
    count = f' <small class="src-count">({len(passages)} passages)</small>' if len(passages) > 1 else ""
    chips = "".join(f'<span class="entity-chip" title="{esc(LABEL_NAMES.get(kind, kind))}">{esc(name)}</span>'
                    for name, kind in c.entities)
    chips = f'<div class="src-entities">{chips}</div>' if chips else ""
    return (f'<details class="src" id="{source_id(turn, c.n)}"{" open" if open_ else ""}>'
            f'<summary><span class="src-n">[{c.n}]</span> <strong>{esc(c.title or "Sans titre")}</strong>{count}'
            f'</summary><div class="src-meta">{esc(meta)}</div>{chips}{quotes}{render_copies(c)}'
            f'<div class="src-links">{" · ".join(links)}</div></details>')


def render_copies(c: Citation) -> str:
    """« repris par N sources » and the other copies of the text (the asker's audience only: filled so)."""
    if not c.copies:
        return ""
    items = "".join(f'<li>{_copy_link(k)} — {esc(k.title or "Sans titre")}'
                    f'{" (" + esc(format_date(k.date)) + ")" if k.date else ""}</li>' for k in c.copies)
    label = c.copies_label() or "autre version du même texte"
    return f'<div class="src-copies"><small>{esc(label)} :</small><ul>{items}</ul></div>'


def _copy_link(k) -> str:
    url = safe_url(k.url)
    name = esc(readable_source(k.source))  # not a machine-made file name: the title follows
    return f'<a href="{esc(url)}" target="_blank">{name}</a>' if url else name


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


def source_names(store, filters=None) -> dict[str, str]:
    """How each value of the « source » facet (a site, or a local file's path) reads: the site as is (« a/b »
    stays « a/b »), a local file by its document's title — never « 001_ec2d28b11d5960b8.txt », never a server
    path."""
    names = {}
    for doc in store.documents(filters, limit=5000):
        if doc.get("site"):
            names.setdefault(doc["site"], doc["site"])
        elif doc.get("source"):
            names.setdefault(doc["source"], doc.get("title") or source_label(doc["source"]))
    return names
