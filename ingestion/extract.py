"""Stage 3 — extract: the main text and the metadata a format carries.

``extract`` is the one dispatch point: ``EXTRACTORS`` maps each file extension to its extractor (web
pages, Markdown and text here; the other formats in ingestion/formats/, one module per family)."""
from __future__ import annotations

import re
from typing import Callable

import yaml

from ingestion.formats import csvfile, epub, mail, ocr, office, opendocument, pdf, rtf
# Extracted and Part re-exported: the types every stage passes on.
from ingestion.formats.base import Extracted, Part, agreed, bounded, reason_of, refused  # noqa: F401
from ingestion.normalize import strip_marks
from ingestion.read import RawFile, SkipFile, decode_text

# What a format is called in a reason given to the user when its library fails on a damaged file.
_KIND = {".docx": "document Word", ".pptx": "présentation PowerPoint", ".xlsx": "classeur Excel",
         ".odt": "document OpenDocument", ".odp": "présentation OpenDocument", ".ods": "classeur OpenDocument",
         ".epub": "livre numérique EPUB", ".eml": "message électronique", ".mbox": "boîte mail",
         ".rtf": "document RTF", ".csv": "fichier CSV", ".pdf": "PDF", ".png": "image", ".jpg": "image",
         ".jpeg": "image", ".tif": "image", ".tiff": "image"}


def extract(raw: RawFile) -> Extracted:
    suffix = raw.path.suffix.lower()
    try:
        extractor = EXTRACTORS[suffix]
    except KeyError:
        raise SkipFile(f"type de fichier non pris en charge ({suffix or 'sans extension'})") from None
    try:
        return extractor(raw)
    except (SkipFile, MemoryError):
        raise
    except Exception as exc:  # noqa: BLE001 - a library failing on a damaged file: one clear reason
        if suffix not in _KIND:
            raise
        hostile = isinstance(exc, RecursionError) or type(exc).__name__ == "DecompressionBombError"
        raise SkipFile(f"{refused(_KIND[suffix])} : {reason_of(exc)}" if hostile
                       else f"{agreed(_KIND[suffix], 'illisible ou endommagé')} ({reason_of(exc)})") from None


def extract_text_file(raw: RawFile) -> Extracted:
    return bounded(Extracted(text=decode_text(raw.data)))



# The page's publication metadata only (htmldate without its extensive search, which scans the text and took a
# footer's « © 2019 » for 1 January 2019): a date written in the text is weighed by ingestion/dating.py
# (measured: scripts/bench_dates.py).
_PAGE_DATE = {"original_date": True, "extensive_search": False}


def extract_html(data: bytes | str, url: str | None = None) -> Extracted:
    """Main text and metadata with trafilatura; headings kept as Markdown '#' lines."""
    import trafilatura

    html = data if isinstance(data, str) else decode_text(data, html=True)
    if not re.search(r"<\s*(html|body|p|div|article|h\d)\b", html[:50_000], re.IGNORECASE):
        raise SkipFile("HTML sans contenu exploitable")
    try:
        # favor_precision: boilerplate ("À lire aussi", paywall teasers) leaks less; measured by
        # bench/extraction.py on ../shared/html_fr (leaks 0.128 -> 0.064, recall ≥ 0.93).
        doc = trafilatura.bare_extraction(html, url=url, with_metadata=True, include_comments=False,
                                          include_tables=True, include_formatting=True, favor_precision=True,
                                          output_format="python", date_extraction_params=_PAGE_DATE)
    except Exception as exc:  # trafilatura raises assorted errors on broken markup
        raise SkipFile(f"HTML illisible ({reason_of(exc)})") from None
    if doc is None or not (doc.text or "").strip():
        raise SkipFile("aucun texte principal trouvé dans la page HTML")
    meta = {k: v for k, v in {
        "title": doc.title, "author": doc.author, "date": doc.date, "date_source": "page" if doc.date else None,
        "site": doc.sitename or doc.hostname,
        "url": doc.url or url, "language": doc.language,
    }.items() if v}
    return bounded(Extracted(text=doc.text, meta=meta))


_FRONT_MATTER = re.compile(r"\A---\s*\n(.*?)\n---\s*\n", re.DOTALL)


def split_front_matter(text: str) -> tuple[dict, str]:
    m = _FRONT_MATTER.match(text)
    if not m:
        return {}, text
    try:
        meta = yaml.safe_load(m.group(1)) or {}
    except yaml.YAMLError:
        raise SkipFile("en-tête YAML (front matter) invalide") from None
    if not isinstance(meta, dict):
        raise SkipFile("en-tête YAML (front matter) invalide")
    return meta, text[m.end():]


def extract_markdown_file(raw: RawFile) -> Extracted:
    return extract_markdown(decode_text(raw.data))


def extract_markdown(text: str) -> Extracted:
    meta, body = split_front_matter(text)
    if meta.get("date"):  # written by a person
        meta["date_source"] = "user"
    if "title" not in meta:
        heading = re.search(r"^#\s+(.+)$", body, re.MULTILINE)
        if heading:
            meta["title"] = strip_marks(heading.group(1)).strip()
    return bounded(Extracted(text=body, meta=meta))


EXTRACTORS: dict[str, Callable[[RawFile], Extracted]] = {
    ".html": lambda raw: extract_html(raw.data), ".htm": lambda raw: extract_html(raw.data),
    ".md": extract_markdown_file, ".markdown": extract_markdown_file, ".txt": extract_text_file,
    ".pdf": pdf.extract_pdf,
    ".docx": office.extract_docx, ".pptx": office.extract_pptx, ".xlsx": office.extract_xlsx,
    ".odt": opendocument.extract_odt, ".odp": opendocument.extract_odp, ".ods": opendocument.extract_ods,
    ".csv": csvfile.extract_csv, ".eml": mail.extract_eml, ".mbox": mail.extract_mbox,
    ".epub": epub.extract_epub, ".rtf": rtf.extract_rtf,
    ".png": ocr.extract_image, ".jpg": ocr.extract_image, ".jpeg": ocr.extract_image,
    ".tif": ocr.extract_image, ".tiff": ocr.extract_image,
}
mail.read_attachment = extract  # attachments go through the same dispatch (see ingestion/formats/mail.py)
