"""PDF with pypdfium2 (PDFium): text in reading order page by page (ingestion/formats/layout.py), the
offset where each page starts, and OCR for pages that are scans (ingestion/formats/ocr.py).

pypdfium2 was chosen by measurement (``python -m bench.formats --pdf-backends``, two-column
report drawn line by line): with the same layout glue, pdfplumber reads the same text 14 times slower
(87 vs 6 ms/page); pdfminer.six's own layout keeps headers and hyphens (recall 0.95); pypdf mixes the
columns (0.51). Licence: Apache-2.0 / BSD-3-Clause (PyMuPDF, AGPL, is not used)."""
from __future__ import annotations

import re

from ingestion.formats import ocr
from ingestion.formats.base import Extracted, bounded, join_pages, metadata, properties_date
from ingestion.formats.layout import PageText, Segment, drop_running, page_text
from ingestion.read import RawFile, SkipFile

MIN_TEXT = 20  # characters: a page with less text than this and an image on it is a scan


def open_pdf(data: bytes):
    import pypdfium2 as pdfium

    try:
        return pdfium.PdfDocument(data)
    except pdfium.PdfiumError as exc:
        message = str(exc).lower()
        if "password" in message:
            raise SkipFile("PDF protégé par mot de passe (chiffré) : enregistrez-le sans mot de passe") from None
        raise SkipFile(f"PDF illisible ou tronqué ({str(exc).split('(')[-1].rstrip(')') or exc})") from None


def segments(page) -> PageText:
    """Text runs of a page (PDFium's text rectangles), y growing downwards."""
    width, height = page.get_size()
    textpage = page.get_textpage()
    out = []
    for i in range(textpage.count_rects()):
        left, bottom, right, top = textpage.get_rect(i)
        # PDFium marks a hyphen at a line end as U+0002.
        text = textpage.get_text_bounded(left, bottom, right, top).replace("\x02", "-")
        text = text.replace("\r", " ").replace("\n", " ")
        if text.strip():
            out.append(Segment(left, right, height - top, height - bottom, text))
    textpage.close()
    return PageText(width, height, out)


def _has_image(page) -> bool:
    import pypdfium2.raw as pdfium_c

    return any(True for _ in page.get_objects(filter=[pdfium_c.FPDF_PAGEOBJ_IMAGE], max_depth=2))


def extract_pdf(raw: RawFile | bytes) -> Extracted:
    data = raw if isinstance(raw, bytes) else raw.data
    doc = open_pdf(data)
    try:
        pages = [doc[i] for i in range(len(doc))]
        texts = [page_text(p) for p in drop_running([segments(p) for p in pages])]
        scans = [i for i, (p, t) in enumerate(zip(pages, texts)) if len(t.strip()) < MIN_TEXT and _has_image(p)]
        refused, refused_page = "", 0  # the first page too big to render, and why
        if scans:
            ocr.check_pages(len(scans))
            scales = {}
            for i in scans:  # every page sized before any is rendered; one too big costs itself only
                try:
                    scales[i] = ocr.render_scale(*pages[i].get_size())
                except SkipFile as exc:
                    if not refused:
                        refused, refused_page = str(exc), i + 1
            scans = [i for i in scans if i in scales]
            read = ocr.ocr_pages([lambda i=i: pages[i].render(scale=scales[i], grayscale=True).to_pil()
                                  for i in scans], len(scans)) if scans else []
            for i, text in zip(scans, read):
                texts[i] = text
        meta = metadata(title=_info(doc, "Title"), author=_info(doc, "Author"),
                        **properties_date(_info(doc, "CreationDate"), _info(doc, "ModDate")),
                        ocr=True if scans else None)
    finally:
        doc.close()
    _mend_page_ends(texts)
    text, starts = join_pages(texts)
    if not text.strip():
        raise SkipFile(refused or "PDF sans texte (ni couche texte, ni page scannée lisible)")
    cut = f"p. {refused_page} non lue : {refused}" if refused else ""
    return bounded(Extracted(text=text, meta=meta, pages=starts, cut=cut))


def _info(doc, key: str) -> str | None:
    try:
        value = doc.get_metadata_value(key)
    except Exception:  # noqa: BLE001 - a damaged info dictionary only costs the metadata
        return None
    return value or None


def _mend_page_ends(texts: list[str]) -> None:
    """A word hyphenated across a page break goes whole on the page where it starts."""
    for i in range(len(texts) - 1):
        m = re.search(r"[a-zà-öø-ÿ]-$", texts[i])
        nxt = re.match(r"([a-zà-öø-ÿ]\w*)\s*", texts[i + 1].lstrip())
        if m and nxt:
            texts[i] = texts[i][:-1] + nxt.group(1)
            texts[i + 1] = texts[i + 1].lstrip()[nxt.end():]
