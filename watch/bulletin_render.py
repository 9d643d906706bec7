"""The bulletin as Markdown, as HTML ready for e-mail, and as DOCX.

HTML for mail clients: one self-contained page, inline styles only (clients drop ``<style>`` and classes), no
script, no image, no font or stylesheet to fetch; the only links are the sources' own http(s) addresses. Corpus
text (titles, sentences, comments, names) is always escaped — never rendered as Markdown or HTML.
"""
from __future__ import annotations

import html
import os
from pathlib import Path

from veille.entity_names import LABEL_NAMES
from veille.filters import readable_source, safe_url
from veille.markup import md_literal
from veille.numbers import plural
from watch.brief import french_date
from watch.bulletin import Bulletin, BulletinError, Item

INTRO_SLOT = "Introduction éditoriale : à rédiger (option --introduction)."


def _origin(c) -> str:
    """Where a cited document comes from: its site, else its file's name when a reader can use it, else « fichier
    local » (its title, just before, says what it is: never « 000_8364a93a850e761b.txt »)."""
    return getattr(c, "site", None) or readable_source(c.source)


def _copies_line(item: Item) -> str:
    n = item.sources_count
    return f"repris par {n} sources" if n > 1 else ""


# --- Markdown -------------------------------------------------------------------------------------------

def summaries_line(b: Bulletin) -> str:
    """How the items' summaries were written: by the model (verified), or why not after all."""
    if b.notice:
        return f"Résumés : {b.notice}."
    return f"Résumés rédigés par le modèle de langue ({b.mode}) et vérifiés sur les sources citées."


def to_markdown(b: Bulletin) -> str:
    lines = [f"# {md_literal(b.title)}", "",
             f"*{b.period.description} · établi le {french_date(b.built_at.date().isoformat())} · "
             f"{plural(b.item_count, 'élément')}*", "",
             f"**Audience** : {md_literal(b.audience)}", ""]
    if b.filters:
        lines += [f"**Filtres** : {md_literal(b.filters)}", ""]
    if b.mode != "extractif" or b.notice:
        lines += [f"*{md_literal(summaries_line(b))}*", ""]
    lines += ["## Introduction", "", md_literal(b.introduction) if b.introduction else f"*{INTRO_SLOT}*", ""]
    if b.note:
        lines += [f"> {md_literal(b.note)}", ""]
    for section in b.sections:
        lines += [f"## {md_literal(section.rubrique.name)}", ""]
        if section.note:
            lines += [f"*{md_literal(section.note)}*", ""]
        for item in section.items:
            pin = " (épinglé)" if item.choice == "pinned" else ""
            lines.append(f"### {md_literal(item.title or item.source)}{pin}")
            meta = " · ".join(x for x in (md_literal(item.date_label), md_literal(item.source), _copies_line(item)) if x)
            lines += ["", f"*{meta}*", ""]
            if item.summary:
                lines += [f"**Résumé** : {md_literal(item.summary, marks=True)}", ""]
            for text, n in item.sentences:
                lines.append(f"> « {md_literal(text)} » [{n}]")
            if item.sentences:
                lines.append("")
            if item.entities:
                lines += ["Entités : " + ", ".join(md_literal(n) for n, _ in item.entities), ""]
            if item.comment:
                lines += [f"**Commentaire** : {md_literal(item.comment)}", ""]
            if item.copies:
                lines += ["Reprises : " + " ; ".join(f"{md_literal(_origin(c))} — {md_literal(c.title)}"
                                                     for c in item.copies), ""]
    lines += ["## Sources", ""]
    if not b.sources:
        lines.append("Aucune source citée.")
    for c in b.sources:
        where = safe_url(c.url) or md_literal(_origin(c))
        lines.append(f"{c.n}. {md_literal(c.title or _origin(c))} — {c.doc_type}, {french_date(c.date)} — {where}")
    return "\n".join(lines) + "\n"


# --- HTML (e-mail) -------------------------------------------------------------------------------------

_S = {
    "body": "margin:0;padding:0;background:#f3f4f6;",
    "page": "max-width:680px;margin:0 auto;background:#ffffff;font-family:Arial,Helvetica,sans-serif;"
            "color:#1f2937;font-size:15px;line-height:1.5;padding:24px;",
    "h1": "font-size:24px;margin:0 0 4px 0;color:#1e3a8a;",
    "meta": "color:#6b7280;font-size:13px;margin:0 0 16px 0;",
    "h2": "font-size:19px;margin:28px 0 8px 0;padding-bottom:4px;border-bottom:2px solid #1e3a8a;color:#1e3a8a;",
    "h3": "font-size:16px;margin:18px 0 2px 0;",
    "quote": "margin:6px 0;padding:4px 10px;border-left:3px solid #93c5fd;color:#374151;",
    "chip": "display:inline-block;background:#eef2ff;color:#3730a3;border-radius:10px;padding:1px 8px;"
            "margin:2px 4px 2px 0;font-size:12px;",
    "note": "color:#6b7280;font-style:italic;",
    "comment": "background:#fffbeb;padding:6px 10px;margin:6px 0;border-radius:4px;",
    "sources": "font-size:13px;color:#374151;",
    "link": "color:#1d4ed8;",
}


def _e(text: str | None) -> str:
    return html.escape(" ".join((text or "").split()), quote=True)


def _link(text: str, url: str | None) -> str:
    url = safe_url(url)
    return f'<a href="{_e(url)}" style="{_S["link"]}">{_e(text)}</a>' if url else _e(text)


def to_html(b: Bulletin) -> str:
    out = ['<!DOCTYPE html><html lang="fr"><head><meta charset="utf-8">',
           '<meta name="viewport" content="width=device-width, initial-scale=1">',
           f"<title>{_e(b.title)}</title></head>", f'<body style="{_S["body"]}"><div style="{_S["page"]}">',
           f'<h1 style="{_S["h1"]}">{_e(b.title)}</h1>',
           f'<p style="{_S["meta"]}">{_e(b.period.description)} · établi le '
           f'{_e(french_date(b.built_at.date().isoformat()))} · {plural(b.item_count, "élément")}'
           f'<br>Audience : {_e(b.audience)}' + (f"<br>Filtres : {_e(b.filters)}" if b.filters else "")
           + (f"<br>{_e(summaries_line(b))}" if b.mode != "extractif" or b.notice else "") + "</p>",
           f'<h2 style="{_S["h2"]}">Introduction</h2>',
           f"<p>{_e(b.introduction)}</p>" if b.introduction else f'<p style="{_S["note"]}">{_e(INTRO_SLOT)}</p>']
    if b.note:
        out.append(f'<p style="{_S["note"]}">{_e(b.note)}</p>')
    for section in b.sections:
        out.append(f'<h2 style="{_S["h2"]}">{_e(section.rubrique.name)}</h2>')
        if section.note:
            out.append(f'<p style="{_S["note"]}">{_e(section.note)}</p>')
        for item in section.items:
            pin = " (épinglé)" if item.choice == "pinned" else ""
            out.append(f'<h3 style="{_S["h3"]}">{_link(item.title or item.source, item.url)}{_e(pin)}</h3>')
            meta = " · ".join(x for x in (item.date_label, item.source, _copies_line(item)) if x)
            out.append(f'<p style="{_S["meta"]}">{_e(meta)}</p>')
            if item.summary:
                out.append(f"<p><strong>Résumé</strong> : {_e(item.summary)}</p>")
            for text, n in item.sentences:
                out.append(f'<p style="{_S["quote"]}">« {_e(text)} » <sup>[{n}]</sup></p>')
            if item.entities:
                out.append("<p>" + "".join(f'<span style="{_S["chip"]}" title="{_e(LABEL_NAMES.get(l, l))}">'
                                           f"{_e(n)}</span>" for n, l in item.entities) + "</p>")
            if item.comment:
                out.append(f'<p style="{_S["comment"]}"><strong>Commentaire</strong> : {_e(item.comment)}</p>')
            if item.copies:
                out.append(f'<p style="{_S["meta"]}">Reprises : ' + " ; ".join(
                    f"{_link(_origin(c), c.url)} — {_e(c.title)}" for c in item.copies) + "</p>")
    out.append(f'<h2 style="{_S["h2"]}">Sources</h2><ol style="{_S["sources"]}">')
    for c in b.sources:
        out.append(f'<li value="{c.n}">{_link(c.title or _origin(c), c.url)} — {_e(c.doc_type)}, '
                   f"{_e(french_date(c.date))}" + ("" if safe_url(c.url) else f" — {_e(_origin(c))}")
                   + "</li>")
    out.append("</ol>" + ("" if b.sources else f'<p style="{_S["note"]}">Aucune source citée.</p>'))
    out.append("</div></body></html>")
    return "\n".join(out)


# --- DOCX ----------------------------------------------------------------------------------------------

def to_docx(b: Bulletin, path: Path) -> Path:
    from docx import Document

    doc = Document()
    doc.add_heading(b.title, level=0)
    doc.add_paragraph(f"{b.period.description} · établi le {french_date(b.built_at.date().isoformat())} · "
                      f"{plural(b.item_count, 'élément')}")
    doc.add_paragraph(f"Audience : {b.audience}" + (f" · Filtres : {b.filters}" if b.filters else "")
                      + (f" · {summaries_line(b)}" if b.mode != "extractif" or b.notice else ""))
    doc.add_heading("Introduction", level=1)
    para = doc.add_paragraph(b.introduction or INTRO_SLOT)
    para.runs[0].italic = not b.introduction
    if b.note:
        doc.add_paragraph(b.note).runs[0].italic = True
    for section in b.sections:
        doc.add_heading(section.rubrique.name, level=1)
        if section.note:
            doc.add_paragraph(section.note).runs[0].italic = True
        for item in section.items:
            doc.add_heading((item.title or item.source) + (" (épinglé)" if item.choice == "pinned" else ""), level=2)
            doc.add_paragraph(" · ".join(x for x in (item.date_label, item.source, safe_url(item.url) or "",
                                                      _copies_line(item)) if x))
            if item.summary:
                doc.add_paragraph(f"Résumé : {item.summary}")
            for text, n in item.sentences:
                doc.add_paragraph(f"« {text} » [{n}]", style="Intense Quote")
            if item.entities:
                doc.add_paragraph("Entités : " + ", ".join(n for n, _ in item.entities))
            if item.comment:
                doc.add_paragraph(f"Commentaire : {item.comment}")
            if item.copies:
                doc.add_paragraph("Reprises : " + " ; ".join(f"{_origin(c)} — {c.title}" for c in item.copies))
    doc.add_heading("Sources", level=1)
    for c in b.sources:
        doc.add_paragraph(f"{c.n}. {c.title or _origin(c)} — {c.doc_type}, {french_date(c.date)} — "
                          f"{safe_url(c.url) or _origin(c)}")
    if not b.sources:
        doc.add_paragraph("Aucune source citée.")
    doc.save(str(path))
    return path


FORMATS = {".html": "html", ".htm": "html", ".md": "md", ".markdown": "md", ".docx": "docx"}


def write(b: Bulletin, path: Path) -> str:
    """Write the bulletin in the format its file name says (.html, .docx, .md); returns that format."""
    kind = FORMATS.get(path.suffix.lower())
    if kind is None:
        raise BulletinError(f"Format de bulletin inconnu : « {path.name} » (possibles : .html, .docx, .md).")
    partial = path.with_name(f".{path.name}.partiel")  # replaced in one step: never a half-written bulletin
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        if kind == "docx":
            to_docx(b, partial)
        else:
            partial.write_text(to_html(b) if kind == "html" else to_markdown(b), encoding="utf-8")
        os.replace(partial, path)
    except OSError as exc:
        partial.unlink(missing_ok=True)
        raise BulletinError(f"Impossible d'écrire le bulletin dans « {path} » : {exc.strerror or exc}.") from None
    return kind
