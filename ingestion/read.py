"""Stage 2 — read: bytes from disk, size cap, binary detection, text decoding with encoding detection.

Decoding order: a BOM (UTF-8, UTF-16, UTF-32: before the NUL check, since UTF-16/32 text is full of
NULs), then binary detection, the HTML meta charset, strict UTF-8, lines of UTF-8 mixed with lines of a
single-byte encoding (each line decoded on its own), then detection. Whatever was not strict UTF-8 must
read as text (charset-normalizer's mess ratio), or the file is refused as binary."""
from __future__ import annotations

import codecs
import re
from dataclasses import dataclass
from pathlib import Path

from charset_normalizer import from_bytes
from charset_normalizer.md import mess_ratio

from veille.numbers import over_limit


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
            raise SkipFile(f"fichier trop volumineux ({over_limit(stat.st_size, max_bytes)})")
        data = path.read_bytes()
    except PermissionError:
        raise SkipFile("lecture refusée (permissions)") from None
    except IsADirectoryError:
        raise SkipFile("chemin illisible (dossier)") from None
    except OSError as exc:
        raise SkipFile(f"lecture impossible ({exc.strerror or exc})") from None
    return RawFile(path=path, data=data, size=stat.st_size, mtime=stat.st_mtime)


BINARY = "contenu binaire derrière une extension texte"
# UTF-32 first: its little-endian BOM starts like UTF-16's.
_BOMS = ((b"\x00\x00\xfe\xff", "utf-32"), (b"\xff\xfe\x00\x00", "utf-32"), (b"\xef\xbb\xbf", "utf-8-sig"),
         (b"\xff\xfe", "utf-16"), (b"\xfe\xff", "utf-16"))
MAX_MESS = 0.2  # charset-normalizer's own threshold: above it, a decoding is not text
_SAMPLE = 200_000


def looks_binary(data: bytes) -> bool:
    head = data[:8192]
    if b"\x00" in head:
        return True
    controls = sum(1 for b in head if b < 9 or 13 < b < 32)
    return controls > len(head) * 0.05


def _readable(text: str) -> bool:
    """Text, not bytes forced through a codec: few control characters, a low mess ratio."""
    head = text[:8192]
    if "\x00" in head or sum(1 for c in head if ord(c) < 9 or 13 < ord(c) < 32) > len(head) * 0.05:
        return False
    return mess_ratio(text[:_SAMPLE], maximum_threshold=MAX_MESS) < MAX_MESS


def _single_byte(data: bytes) -> str:
    best = from_bytes(data[:_SAMPLE]).best()
    encoding = best.encoding if best else "cp1252"
    # French pages labelled or detected as latin-1 are nearly always cp1252 (curly quotes, œ, €).
    return "cp1252" if encoding in ("latin_1", "iso8859_1", "iso-8859-1") else encoding


def _decode_lines(data: bytes) -> str | None:
    """A file whose lines are partly UTF-8, partly a single-byte encoding (pasted together, appended by
    two tools): each line decoded on its own. None unless both kinds of non-ASCII line are present."""
    lines = data.splitlines(keepends=True)
    utf8: dict[int, str] = {}
    other: list[int] = []
    for i, line in enumerate(lines):
        if line.isascii():
            continue
        try:
            utf8[i] = line.decode("utf-8")
        except UnicodeDecodeError:
            other.append(i)
    if not utf8 or not other:
        return None
    rest = b"".join(lines[i] for i in other)
    # cp1252 is what French Windows tools write next to UTF-8; detection on a few lines is a guess
    # (« » read as ḋ Ṡ by iso8859_14), so it is asked only when cp1252 does not read as text.
    codec = "cp1252" if _readable(rest.decode("cp1252", errors="replace")) else _single_byte(rest)
    return "".join(utf8[i] if i in utf8 else line.decode(codec, errors="replace") if not line.isascii()
                   else line.decode("ascii") for i, line in enumerate(lines))


def decode_text(data: bytes, html: bool = False) -> str:
    """Decode bytes as text: BOM, then the HTML meta charset, then UTF-8, then mixed lines, then detection."""
    for bom, codec in _BOMS:
        if data.startswith(bom):
            try:
                text = data.decode(codec)
            except UnicodeDecodeError:
                break  # not what the BOM says: judged as any other bytes below
            if not _readable(text):
                raise SkipFile(BINARY)
            return text
    if looks_binary(data):
        raise SkipFile(BINARY)
    text = None
    if html:
        m = _META_CHARSET.search(data[:4096])
        if m:
            declared = m.group(1).decode("ascii", "ignore").lower()
            try:
                text = data.decode(declared)
                if codecs.lookup(declared).name == "utf-8":
                    return text
            except (LookupError, UnicodeDecodeError):
                pass
    if text is None:
        try:
            return data.decode("utf-8")
        except UnicodeDecodeError:
            pass
        text = _decode_lines(data)
    if text is None:
        text = data.decode(_single_byte(data), errors="replace")
    if not _readable(text):
        raise SkipFile(BINARY)
    return text
