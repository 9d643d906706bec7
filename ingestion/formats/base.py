"""What every extractor returns, and the small helpers several formats share."""
from __future__ import annotations

import io
import re
import zipfile
from dataclasses import dataclass, field
from datetime import date, datetime

from ingestion.read import SkipFile


@dataclass
class Part:
    """A document carried inside another (a message of a mailbox, an attachment of a message)."""
    key: str  # its name inside the container, unique there: "message-2", "rapport.pdf"
    extracted: "Extracted | None" = None
    reason: str = ""  # why it could not be read (French), when ``extracted`` is None


@dataclass
class Extracted:
    text: str
    meta: dict = field(default_factory=dict)  # title, author, date, site, url … when the format gives them
    pages: list[int] = field(default_factory=list)  # offset in ``text`` where each page starts; [] when unpaged
    parts: list[Part] = field(default_factory=list)  # documents inside this one, ingested as their own


def join_pages(pages: list[str]) -> tuple[str, list[int]]:
    """Page texts joined by a blank line, with the offset where each page starts."""
    starts, pieces, cursor = [], [], 0
    for i, page in enumerate(pages):
        if i:
            pieces.append("\n\n")
            cursor += 2
        starts.append(cursor)
        page = page.strip()
        pieces.append(page)
        cursor += len(page)
    return "".join(pieces), starts


def iso_date(value) -> str | None:
    """A date the format carries, as ISO text (``None`` when absent or unreadable)."""
    if isinstance(value, datetime):
        return value.date().isoformat()
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, str):  # ISO text, or PDF's D:YYYYMMDD…; partial dates are left to parse_date
        m = re.match(r"\s*(?:D:)?(\d{4})-?(\d{2})-?(\d{2})", value)
        return "-".join(m.groups()) if m else value.strip() or None
    return None


def metadata(**values) -> dict:
    """Format metadata without the empty values (so that sidecars and defaults can fill them)."""
    return {k: v.strip() if isinstance(v, str) else v for k, v in values.items()
            if v not in (None, "", []) and not (isinstance(v, str) and not v.strip())}


def cell_text(value) -> str:
    """A table or spreadsheet cell as a French reader writes it."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "oui" if value else "non"
    if isinstance(value, datetime):
        return value.strftime("%d/%m/%Y %H:%M") if (value.hour, value.minute) != (0, 0) else \
            value.strftime("%d/%m/%Y")
    if isinstance(value, date):
        return value.strftime("%d/%m/%Y")
    if isinstance(value, float):
        return (str(int(value)) if value.is_integer() else f"{value:.6g}").replace(".", ",")
    return re.sub(r"\s+", " ", str(value)).strip()


def _is_label(cell: str) -> bool:
    return bool(cell) and not re.fullmatch(r"[\d\s.,%€+\-/:]+", cell)


def table_lines(rows: list[list[str]]) -> list[str]:
    """A table as text rows: « - En-tête : valeur ; En-tête : valeur » when the first row names the columns
    (each row then reads on its own, in a passage or a citation), cells joined by « | » otherwise."""
    rows = [[c.strip() for c in row] for row in rows]
    rows = [row for row in rows if any(row)]
    if not rows:
        return []
    width = max(len(row) for row in rows)
    rows = [row + [""] * (width - len(row)) for row in rows]
    keep = [j for j in range(width) if any(row[j] for row in rows)]
    rows = [[row[j] for j in keep] for row in rows]
    header = rows[0]
    if len(rows) >= 2 and len(header) >= 2 and all(_is_label(c) for c in header) and len(set(header)) == len(header):
        lines = []
        for row in rows[1:]:
            pairs = [f"{h} : {c}" for h, c in zip(header, row) if c]
            if pairs:
                lines.append("- " + " ; ".join(pairs))
        return lines
    return ["- " + " | ".join(c for c in row if c) for row in rows]


def blocks_text(blocks: list[str]) -> str:
    """Headings, paragraphs and rows (« - … » lines: table rows, list items) as one text: a blank line
    between blocks, rows of one table or list on consecutive lines, so the normaliser never glues a row
    to a paragraph."""
    out: list[str] = []
    previous = ""
    for block in (b.strip() for b in blocks):
        if not block:
            continue
        if out:
            out.append("\n" if block.startswith("- ") and previous.startswith("- ") else "\n\n")
        out.append(block)
        previous = block
    return "".join(out)


OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
_ENCRYPTED_PACKAGE = "EncryptedPackage".encode("utf-16-le")


def open_zip(data: bytes, kind: str) -> zipfile.ZipFile:
    """The ZIP container of an Office / OpenDocument / EPUB file, or the French reason it cannot be opened."""
    if data.startswith(OLE_MAGIC):
        if _ENCRYPTED_PACKAGE in data:
            raise SkipFile(f"{kind} protégé par mot de passe (chiffré) : enregistrez-le sans mot de passe")
        raise SkipFile(f"{kind} au format binaire ancien (.doc, .xls, .ppt) : enregistrez-le au format récent")
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
        bad = archive.testzip()
    except (zipfile.BadZipFile, EOFError, ValueError, OSError):
        raise SkipFile(f"{kind} tronqué ou corrompu (archive ZIP illisible)") from None
    if bad:
        raise SkipFile(f"{kind} tronqué ou corrompu (élément {bad} illisible)")
    return archive
