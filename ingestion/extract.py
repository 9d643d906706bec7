"""Stage 3 — extract: the main text and the metadata a format carries (HTML, Markdown, text, PDF)."""
from __future__ import annotations

import io
import re
from dataclasses import dataclass, field

import yaml

from ingestion.read import RawFile, SkipFile, decode_text


@dataclass
class Extracted:
    text: str
    meta: dict = field(default_factory=dict)  # title, author, date, site, url … when the format gives them


def extract(raw: RawFile) -> Extracted:
    suffix = raw.path.suffix.lower()
    if suffix in (".html", ".htm"):
        return extract_html(raw.data)
    if suffix == ".pdf":
        return extract_pdf(raw.data)
    text = decode_text(raw.data)
    if suffix in (".md", ".markdown"):
        return extract_markdown(text)
    return Extracted(text=text)


def extract_html(data: bytes | str, url: str | None = None) -> Extracted:
    """Main text and metadata with trafilatura; headings kept as Markdown '#' lines."""
    import trafilatura

    html = data if isinstance(data, str) else decode_text(data, html=True)
    if not re.search(r"<\s*(html|body|p|div|article|h\d)\b", html[:50_000], re.IGNORECASE):
        raise SkipFile("HTML sans contenu exploitable")
    try:
        # favor_precision: boilerplate ("À lire aussi", paywall teasers) leaks less; measured by
        # ingestion/collect/bench_extraction.py on ../shared/html_fr (leaks 0.128 -> 0.064, recall ≥ 0.93).
        doc = trafilatura.bare_extraction(html, url=url, with_metadata=True, include_comments=False,
                                          include_tables=True, include_formatting=True, favor_precision=True,
                                          output_format="python")
    except Exception as exc:  # trafilatura raises assorted errors on broken markup
        raise SkipFile(f"HTML illisible ({type(exc).__name__})") from None
    if doc is None or not (doc.text or "").strip():
        raise SkipFile("aucun texte principal trouvé dans la page HTML")
    meta = {k: v for k, v in {
        "title": doc.title, "author": doc.author, "date": doc.date, "site": doc.sitename or doc.hostname,
        "url": doc.url or url, "language": doc.language,
    }.items() if v}
    return Extracted(text=doc.text, meta=meta)


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


def extract_markdown(text: str) -> Extracted:
    meta, body = split_front_matter(text)
    if "title" not in meta:
        heading = re.search(r"^#\s+(.+)$", body, re.MULTILINE)
        if heading:
            meta["title"] = heading.group(1).strip()
    return Extracted(text=body, meta=meta)


def extract_pdf(data: bytes) -> Extracted:
    from pypdf import PdfReader
    from pypdf.errors import PdfReadError

    try:
        reader = PdfReader(io.BytesIO(data))
        if reader.is_encrypted:
            raise SkipFile("PDF chiffré")
        pages = [page.extract_text() or "" for page in reader.pages]
    except SkipFile:
        raise
    except (PdfReadError, ValueError, KeyError, TypeError) as exc:
        raise SkipFile(f"PDF illisible ({type(exc).__name__})") from None
    text = "\n\n".join(p.strip() for p in pages if p.strip())
    if not text.strip():
        raise SkipFile("PDF sans couche texte (document scanné ?)")
    meta = {}
    info = reader.metadata or {}
    if info.get("/Title"):
        meta["title"] = str(info["/Title"])
    if info.get("/Author"):
        meta["author"] = str(info["/Author"])
    return Extracted(text=text, meta=meta)
