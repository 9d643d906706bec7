"""Stage 2 — read: bytes from disk, size cap, binary detection, text decoding with encoding detection."""
from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from charset_normalizer import from_bytes


class SkipFile(Exception):
    """A file that cannot be ingested; the message is the reason shown to the user (in French)."""


@dataclass
class RawFile:
    path: Path
    data: bytes
    size: int
    mtime: float


_META_CHARSET = re.compile(rb"""<meta[^>]+charset\s*=\s*["']?\s*([a-zA-Z0-9_\-]+)""", re.IGNORECASE)


def read_file(path: Path, max_bytes: int) -> RawFile:
    try:
        stat = path.stat()
        if stat.st_size == 0:
            raise SkipFile("fichier vide")
        if stat.st_size > max_bytes:
            raise SkipFile(f"fichier trop volumineux ({stat.st_size / 1e6:.1f} Mo > {max_bytes / 1e6:.1f} Mo)")
        data = path.read_bytes()
    except PermissionError:
        raise SkipFile("lecture refusée (permissions)") from None
    except IsADirectoryError:
        raise SkipFile("chemin illisible (dossier)") from None
    except OSError as exc:
        raise SkipFile(f"lecture impossible ({exc.strerror or exc})") from None
    return RawFile(path=path, data=data, size=stat.st_size, mtime=stat.st_mtime)


def looks_binary(data: bytes) -> bool:
    head = data[:8192]
    if b"\x00" in head:
        return True
    controls = sum(1 for b in head if b < 9 or 13 < b < 32)
    return controls > len(head) * 0.05


def decode_text(data: bytes, html: bool = False) -> str:
    """Decode bytes as text: BOM, then the HTML meta charset, then UTF-8, then detection."""
    if looks_binary(data):
        raise SkipFile("contenu binaire derrière une extension texte")
    for bom, codec in ((b"\xef\xbb\xbf", "utf-8-sig"), (b"\xff\xfe", "utf-16"), (b"\xfe\xff", "utf-16")):
        if data.startswith(bom):
            return data.decode(codec, errors="replace")
    if html:
        m = _META_CHARSET.search(data[:4096])
        if m:
            declared = m.group(1).decode("ascii", "ignore").lower()
            try:
                text = data.decode(declared)
                return text
            except (LookupError, UnicodeDecodeError):
                pass
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        pass
    best = from_bytes(data[:200_000]).best()
    encoding = best.encoding if best else "cp1252"
    # French pages labelled or detected as latin-1 are nearly always cp1252 (curly quotes, œ, €).
    if encoding in ("latin_1", "iso8859_1", "iso-8859-1"):
        encoding = "cp1252"
    return data.decode(encoding, errors="replace")
