"""Office Open XML: Word (.docx), PowerPoint (.pptx), Excel (.xlsx), with python-docx, python-pptx, openpyxl."""
from __future__ import annotations

import io
import re

from ingestion.formats.base import (Extracted, blocks_text, bounded, cell_text, keep_entity_tails,
                                    metadata, open_zip, properties_date, reason_of, table_lines)
from ingestion.limits import TextBudget
from ingestion.read import RawFile, SkipFile

# Errors the libraries raise on a ZIP that holds something else than the document they expect.
_BROKEN = (KeyError, ValueError, TypeError, AttributeError, IndexError, OSError, SyntaxError)


def _core_meta(props) -> dict:
    return metadata(title=props.title, author=props.author or getattr(props, "creator", None),
                    **properties_date(props.created, props.modified))


def _heading_level(style_name: str) -> int | None:
    name = style_name.lower()
    if name in ("title", "titre"):
        return 1
    m = re.match(r"(heading|titre)\s*(\d)", name)
    return int(m.group(2)) if m else None


def extract_docx(raw: RawFile) -> Extracted:
    import docx
    from docx.table import Table

    open_zip(raw.data, "document Word")
    budget = TextBudget()
    try:
        document = docx.Document(io.BytesIO(raw.data))
        keep_entity_tails(document.element)
        # Style names looked up once: python-docx searches every style for each paragraph's (quadratic).
        names = {s.style_id: s.name or "" for s in document.styles}
        blocks = []
        for item in document.iter_inner_content():
            if isinstance(item, Table):
                rows = _docx_rows(item)
                blocks.extend(table_lines(rows))
                if not budget.take(" ".join(" ".join(r) for r in rows)):
                    break
                continue
            text = item.text.strip()
            if not budget.take(text):
                break
            style = names.get(item._p.style or "", "")
            level = _heading_level(style)
            if level and text:
                blocks.append("#" * level + " " + text)
            elif text and "list" in style.lower():
                blocks.append("- " + text)
            else:
                blocks.append(text)
        meta = _core_meta(document.core_properties)
    except _BROKEN as exc:
        raise SkipFile(f"document Word illisible ({reason_of(exc)})") from None
    return bounded(Extracted(text=blocks_text(blocks), meta=meta, cut=budget.cut))


def _docx_rows(table) -> list[list[str]]:
    rows = []
    for row in table.rows:
        cells, seen = [], set()
        for cell in row.cells:  # a merged cell comes back once per grid column it spans
            if id(cell._tc) in seen:
                continue
            seen.add(id(cell._tc))
            cells.append(cell_text(cell.text))
        rows.append(cells)
    return rows


def extract_pptx(raw: RawFile) -> Extracted:
    import pptx

    open_zip(raw.data, "présentation PowerPoint")
    try:
        deck = pptx.Presentation(io.BytesIO(raw.data))
        blocks, first_title = [], None
        budget = TextBudget()
        for number, slide in enumerate(deck.slides, 1):
            keep_entity_tails(slide._element)
            start = len(blocks)
            title_shape = slide.shapes.title
            title = title_shape.text_frame.text.strip() if title_shape is not None and title_shape.has_text_frame \
                else ""
            first_title = first_title or title
            blocks.append(f"## {title}" if title else f"## Diapositive {number}")
            shapes = [s for s in slide.shapes if title_shape is None or s.shape_id != title_shape.shape_id]
            blocks.extend(_pptx_shapes(shapes))
            if slide.has_notes_slide:
                notes = slide.notes_slide.notes_text_frame
                if notes is not None and notes.text.strip():
                    blocks.append(notes.text.strip())
            if not budget.take(" ".join(blocks[start:]), f"{number} diapositives"):
                break
        meta = _core_meta(deck.core_properties)
    except _BROKEN as exc:
        raise SkipFile(f"présentation PowerPoint illisible ({reason_of(exc)})") from None
    if first_title:
        meta.setdefault("title", first_title)
    return bounded(Extracted(text=blocks_text(blocks), meta=meta, cut=budget.cut))


def _pptx_shapes(shapes) -> list[str]:
    blocks = []
    # Reading order on a slide: top to bottom, then left to right.
    for shape in sorted(shapes, key=lambda s: ((s.top or 0) // 100_000, s.left or 0)):
        if shape.shape_type is not None and shape.shape_type == 6:  # MSO_SHAPE_TYPE.GROUP
            blocks.extend(_pptx_shapes(list(shape.shapes)))
        elif getattr(shape, "has_table", False) and shape.has_table:
            rows = [[cell_text(cell.text) for cell in row.cells] for row in shape.table.rows]
            blocks.extend(table_lines(rows))
        elif shape.has_text_frame:
            blocks.extend(p_text for p in shape.text_frame.paragraphs
                          if (p_text := "".join(r.text for r in p.runs).strip()))
    return blocks


def extract_xlsx(raw: RawFile) -> Extracted:
    import openpyxl

    open_zip(raw.data, "classeur Excel")
    try:
        book = openpyxl.load_workbook(io.BytesIO(raw.data), read_only=True, data_only=True)
        blocks = []
        budget = TextBudget()
        for sheet in book.worksheets:
            if budget.cut:
                break
            # The declared dimension may claim a billion cells: only the rows and cells present are read.
            sheet.reset_dimensions()
            rows = []
            for row in sheet.iter_rows():
                cells = [_xlsx_cell(cell) for cell in row]
                if not budget.take(" ".join(cells), f"feuille {sheet.title}"):
                    break
                rows.append(cells)
            lines = table_lines(rows)
            if lines:
                blocks.append(f"## {sheet.title}")
                blocks.extend(lines)
        meta = metadata(title=book.properties.title, author=book.properties.creator,
                        **properties_date(book.properties.created, book.properties.modified))
        book.close()
    except _BROKEN as exc:
        raise SkipFile(f"classeur Excel illisible ({reason_of(exc)})") from None
    return bounded(Extracted(text=blocks_text(blocks), meta=meta, cut=budget.cut))


def _xlsx_cell(cell) -> str:
    value = getattr(cell, "value", None)
    fmt = getattr(cell, "number_format", "") or ""
    if isinstance(value, (int, float)) and not isinstance(value, bool) and "%" in fmt:
        return cell_text(float(round(value * 100, 4))) + " %"
    return cell_text(value)
