"""OpenDocument: text (.odt), presentations (.odp), spreadsheets (.ods), with odfpy."""
from __future__ import annotations

import io

from ingestion.formats.base import (Extracted, blocks_text, bounded, cell_text, metadata, open_zip, properties_date,
                                    table_lines)
from ingestion.read import RawFile, SkipFile

MAX_REPEAT = 100  # a repeated row/cell with content is expanded at most this often (empty ones never)


def _load(raw: RawFile, kind: str):
    from odf.opendocument import load

    archive = open_zip(raw.data, kind)
    try:
        manifest = archive.read("META-INF/manifest.xml")
    except KeyError:
        manifest = b""
    if b"encryption-data" in manifest:
        raise SkipFile(f"{kind} protégé par mot de passe (chiffré) : enregistrez-le sans mot de passe")
    return load(io.BytesIO(raw.data))


def _meta(doc) -> dict:
    values: dict[str, str] = {}
    for el in doc.meta.childNodes if doc.meta is not None else []:
        values.setdefault(getattr(el, "tagName", ""), _text(el))
    return metadata(title=values.get("dc:title"), author=values.get("meta:initial-creator") or values.get("dc:creator"),
                    **properties_date(values.get("meta:creation-date"), values.get("dc:date")))


def _text(el) -> str:
    from odf import teletype

    return " ".join(teletype.extractText(el).split())


def _blocks(el, out: list[str], in_list: bool = False) -> None:
    """Headings, paragraphs, list items and tables under ``el``, in document order."""
    for child in el.childNodes:
        tag = getattr(child, "tagName", "")
        if tag == "text:h":
            level = child.getAttribute("outlinelevel") or "1"
            text = _text(child)
            if text:
                out.append("#" * max(1, min(6, int(level))) + " " + text)
        elif tag == "text:p":
            text = _text(child)
            if text:
                out.append(("- " if in_list else "") + text)
        elif tag in ("text:list", "text:list-item", "text:list-header"):
            _blocks(child, out, in_list=True)
        elif tag == "table:table":
            out.extend(table_lines(_rows(child)))
        elif tag in ("text:section", "draw:frame", "draw:text-box", "draw:g", "draw:custom-shape",
                     "office:text", "text:soft-page-break"):
            _blocks(child, out, in_list)


def _repeat(el, attr: str, has_content: bool) -> int:
    n = int(el.getAttribute(attr) or 1)
    return min(n, MAX_REPEAT) if has_content else 1


def _rows(table) -> list[list[str]]:
    rows = []
    for row in _descendants(table, "table:table-row"):
        cells = []
        for cell in row.childNodes:
            if getattr(cell, "tagName", "") not in ("table:table-cell", "table:covered-table-cell"):
                continue
            text = _cell(cell)
            cells.extend([text] * _repeat(cell, "numbercolumnsrepeated", bool(text)))
        rows.extend([cells] * _repeat(row, "numberrowsrepeated", any(cells)))
    return rows


def _cell(cell) -> str:
    text = _text(cell)
    if text:
        return text
    for attr in ("value", "datevalue", "booleanvalue"):
        value = cell.getAttribute(attr)
        if value:
            return cell_text(value)
    return ""


def _descendants(el, tag: str):
    for child in el.childNodes:
        name = getattr(child, "tagName", "")
        if name == tag:
            yield child
        elif name in ("table:table-row-group", "table:table-rows", "table:table-header-rows"):
            yield from _descendants(child, tag)


def extract_odt(raw: RawFile) -> Extracted:
    doc = _load(raw, "document OpenDocument")
    blocks: list[str] = []
    _blocks(doc.text, blocks)
    return bounded(Extracted(text=blocks_text(blocks), meta=_meta(doc)))


def extract_odp(raw: RawFile) -> Extracted:
    doc = _load(raw, "présentation OpenDocument")
    blocks: list[str] = []
    for number, page in enumerate(_children(doc.presentation, "draw:page"), 1):
        title, body = "", []
        for frame in page.childNodes:
            if getattr(frame, "tagName", "") != "draw:frame":
                continue
            if frame.getAttribute("class") == "title" and not title:
                title = _text(frame)
            elif frame.getAttribute("class") not in ("page", "notes"):
                _blocks(frame, body)
        blocks.append(f"## {title}" if title else f"## Diapositive {number}")
        blocks.extend(body)
        for notes in _children(page, "presentation:notes"):
            _blocks(notes, blocks)
    meta = _meta(doc)
    first = next((b[3:] for b in blocks if b.startswith("## ") and not b.startswith("## Diapositive ")), None)
    if first:
        meta.setdefault("title", first)
    return bounded(Extracted(text=blocks_text(blocks), meta=meta))


def extract_ods(raw: RawFile) -> Extracted:
    doc = _load(raw, "classeur OpenDocument")
    blocks: list[str] = []
    for sheet in _children(doc.spreadsheet, "table:table"):
        lines = table_lines(_rows(sheet))
        if lines:
            blocks.append(f"## {sheet.getAttribute('name') or 'Feuille'}")
            blocks.extend(lines)
    return bounded(Extracted(text=blocks_text(blocks), meta=_meta(doc)))


def _children(el, tag: str):
    return [c for c in (el.childNodes if el is not None else []) if getattr(c, "tagName", "") == tag]
