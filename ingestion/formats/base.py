"""What every extractor returns, and the small helpers several formats share."""
from __future__ import annotations

import io
import re
import zipfile
import zlib
from dataclasses import dataclass, field
from datetime import date, datetime

from ingestion.limits import TextBudget, limits
from ingestion.read import SkipFile
from veille.numbers import decimal, file_size


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
    cut: str = ""  # why the text stops short of the file's (a budget of ingestion/limits.py), in French


def bounded(extracted: Extracted) -> Extracted:
    """``extracted`` with its text cut to the document budget (and the cut said)."""
    budget = TextBudget()
    extracted.text = budget.trim(extracted.text)
    extracted.pages = [start for start in extracted.pages if start < len(extracted.text)] or extracted.pages[:1]
    extracted.cut = extracted.cut or budget.cut
    return extracted


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


def stamp(value) -> str | None:
    """A date and time a file's properties carry, as « YYYY-MM-DDTHH:MM:SS » (PDF's D:YYYYMMDDHHmmSS too), to the
    second: what tells a template's stamp from a date someone saved (ingestion/dating.py)."""
    if isinstance(value, datetime):
        return value.replace(tzinfo=None, microsecond=0).isoformat()
    if isinstance(value, str):
        m = re.match(r"\s*(?:D:)?(\d{4})-?(\d{2})-?(\d{2})(?:T?(\d{2}):?(\d{2}):?(\d{2}))?", value)
        if m:
            day = "-".join(m.groups()[:3])
            return f"{day}T{':'.join(m.groups()[3:])}" if m.group(4) else day
    return None


def properties_date(created, modified=None) -> dict:
    """The date a file's properties give (Office, OpenDocument, PDF, EPUB, RTF), said as such, with its stamp:
    ingestion/dating.py weighs it against the text (a template's stamp is no date)."""
    value = created if created not in (None, "") else modified
    date_text = iso_date(value)
    if not date_text:
        return {}
    return {"date": date_text, "date_source": "properties", "stamp": stamp(value)}


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


def keep_entity_tails(root) -> None:
    """Entity references left unresolved (a DOCTYPE in an Office part: never resolved, for safety) dropped
    from ``root``'s tree with the text that follows them kept: python-docx and python-pptx read a run's text up
    to the first such node only (« Début &x; fin » read « Début »)."""
    from lxml import etree

    for entity in list(root.iter(etree.Entity)):
        parent, tail = entity.getparent(), entity.tail or ""
        previous = entity.getprevious()
        if previous is not None:
            previous.tail = (previous.tail or "") + tail
        else:
            parent.text = (parent.text or "") + tail
        parent.remove(entity)


OUT_OF_MEMORY = "mémoire insuffisante pour le lire"  # the fence worker tells its caller when it sees this


def reason_of(exc: BaseException) -> str:
    """What a library's exception means for the person whose file it was, in French (never its name)."""
    name = type(exc).__name__
    message = str(exc).lower()
    if isinstance(exc, RecursionError):
        return "structure imbriquée trop profondément"
    if isinstance(exc, MemoryError) or any(e.type_name == "ERR_NO_MEMORY" for e in getattr(exc, "error_log", ())):
        return OUT_OF_MEMORY
    if name == "DecompressionBombError":
        return "image trop grande (bombe de décompression)"
    if name == "XMLSyntaxError":
        return "texte XML d'un seul tenant trop long" if "huge" in message else "XML mal formé"
    if isinstance(exc, zipfile.BadZipFile):
        return "archive ZIP corrompue"
    if isinstance(exc, UnicodeDecodeError):
        return "texte mal encodé"
    if isinstance(exc, KeyError):
        return "élément attendu absent"
    return "contenu inattendu"


OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
_ENCRYPTED_PACKAGE = "EncryptedPackage".encode("utf-16-le")


def open_zip(data: bytes, kind: str) -> zipfile.ZipFile:
    """The ZIP container of an Office / OpenDocument / EPUB file, or the French reason it cannot be opened.

    Every member is checked against the budgets before any library parses it (``ingestion/limits.py``): member
    count, declared sizes and ratio from the central directory, then each member read as a stream (``zipfile``
    stops a member at its declared size and checks its CRC, so a lying header ends as a corrupt archive)."""
    if data.startswith(OLE_MAGIC):
        if _ENCRYPTED_PACKAGE in data:
            raise SkipFile(f"{agreed(kind, 'protégé')} par mot de passe "
                           f"({'chiffrée' if feminine(kind) else 'chiffré'}) : "
                           f"enregistrez-{'la' if feminine(kind) else 'le'} sans mot de passe")
        raise SkipFile(f"{kind} au format binaire ancien (.doc, .xls, .ppt) : "
                       f"enregistrez-{'la' if feminine(kind) else 'le'} au format récent")
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
        check_members(archive, kind)
        bad = _read_all(archive)
    except (zipfile.BadZipFile, zipfile.LargeZipFile, EOFError, ValueError, OSError, NotImplementedError,
            RuntimeError):
        raise SkipFile(f"{agreed(kind, 'tronqué ou corrompu')} (archive ZIP illisible)") from None
    if bad:
        raise SkipFile(f"{agreed(kind, 'tronqué ou corrompu')} (élément {bad} illisible)")
    return archive


_RATIO_FROM = 10 * 1024 * 1024  # small members compress as they like: the ratio matters for big ones only


_FEMININE = ("présentation", "boîte", "image")


def feminine(kind: str) -> bool:
    return kind.startswith(_FEMININE)


def agreed(kind: str, adjectives: str) -> str:
    """« document Word tronqué ou corrompu », « présentation PowerPoint tronquée ou corrompue »."""
    if not feminine(kind):
        return f"{kind} {adjectives}"
    words = [w if w in ("ou", "et") or w.endswith("e") else w + "e" for w in adjectives.split()]
    return f"{kind} {' '.join(words)}"


def refused(kind: str) -> str:
    return agreed(kind, "refusé")


def check_members(archive: zipfile.ZipFile, kind: str) -> None:
    """SkipFile naming the first budget the archive's declared members pass."""
    budget = limits()
    members = archive.infolist()
    if len(members) > budget.members:
        raise SkipFile(f"{refused(kind)} : archive de {decimal(len(members), 0)} éléments (limite "
                       f"{decimal(budget.members, 0)}, réglage VEILLE_ARCHIVE_MAX_MEMBERS)")
    total = 0
    for info in members:
        if info.file_size > budget.member_bytes:
            raise SkipFile(f"{refused(kind)} : archive dont un membre ({info.filename}) dépasse "
                           f"{file_size(budget.member_bytes)} une fois décompressé ({file_size(info.file_size)}, "
                           f"réglage VEILLE_ARCHIVE_MEMBER_MAX_BYTES)")
        if info.file_size > _RATIO_FROM and info.file_size > budget.ratio * max(info.compress_size, 1):
            raise SkipFile(f"{refused(kind)} : bombe de décompression ({info.filename} : "
                           f"{file_size(info.compress_size)} qui en deviennent {file_size(info.file_size)})")
        total += info.file_size
    if total > budget.archive_bytes:
        raise SkipFile(f"{refused(kind)} : archive de {file_size(total)} une fois décompressée (limite "
                       f"{file_size(budget.archive_bytes)}, réglage VEILLE_ARCHIVE_MAX_BYTES)")


def _read_all(archive: zipfile.ZipFile) -> str | None:
    """Name of the first member whose data does not read (CRC, truncation), reading each as a stream."""
    for info in archive.infolist():
        try:
            with archive.open(info) as member:
                while member.read(1 << 20):
                    pass
        except (zipfile.BadZipFile, zlib.error, EOFError):
            return info.filename
    return None
