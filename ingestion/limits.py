"""What reading one document may cost, decided before it is read: archive members, text, attachments, MIME
parts, pixels. Hostile files (zip bombs, giant pages, endless text) are refused or cut by these budgets with a
French reason; what escapes them is stopped by the fence around extraction (``ingestion/fence.py``).

The limits in force come from the settings, or from the fence's caller: the worker that extracts runs in
another process, so the caller's limits travel with each file (``reading_with``)."""
from __future__ import annotations

from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass

from veille.config import Settings, get_settings
from veille.numbers import decimal


@dataclass(frozen=True)
class ReadLimits:
    member_bytes: int  # one archive member, uncompressed
    archive_bytes: int  # all members of one archive, uncompressed
    members: int  # members of one archive
    ratio: int  # uncompressed / compressed size of a member over 10 MB
    document_chars: int  # text kept of one document (the rest is cut, and said)
    attachments: int  # attachments of one message
    mime_parts: int  # MIME parts of one message
    mime_depth: int  # nesting of MIME parts
    page_pixels: int  # pixels of one page rendered or image read for OCR
    ocr_pages: int
    ocr_seconds: float

    @classmethod
    def from_settings(cls, settings: Settings) -> "ReadLimits":
        return cls(member_bytes=settings.archive_member_max_bytes, archive_bytes=settings.archive_max_bytes,
                   members=settings.archive_max_members, ratio=settings.archive_max_ratio,
                   document_chars=settings.document_max_chars, attachments=settings.mail_max_attachments,
                   mime_parts=settings.mail_max_parts, mime_depth=settings.mail_max_depth,
                   page_pixels=settings.ocr_max_page_pixels, ocr_pages=settings.ocr_max_pages,
                   ocr_seconds=settings.ocr_max_seconds)


_current: ContextVar[ReadLimits | None] = ContextVar("read_limits", default=None)


def limits() -> ReadLimits:
    """The limits in force: the caller's inside ``reading_with``, the settings' otherwise."""
    return _current.get() or ReadLimits.from_settings(get_settings())


@contextmanager
def reading_with(value: ReadLimits):
    token = _current.set(value)
    try:
        yield value
    finally:
        _current.reset(token)


class TextBudget:
    """Text gathered block by block up to ``document_chars``: ``take`` says whether there is room for more, and
    ``cut`` is the French note saying what was left out (empty while nothing was)."""

    def __init__(self, chars: int | None = None):
        self.chars = chars if chars is not None else limits().document_chars
        self.used = 0
        self.cut = ""

    def take(self, text: str, unit: str = "") -> bool:
        """Count ``text``; False once the budget is spent (the caller stops reading)."""
        if self.cut:
            return False
        self.used += len(text)
        if self.used > self.chars:
            self.cut = (f"document coupé : seuls les {decimal(self.chars, 0)} premiers caractères sont lus"
                        + (f" ({unit})" if unit else "") + " (réglage VEILLE_DOCUMENT_MAX_CHARS)")
            return False
        return True

    def trim(self, text: str) -> str:
        """``text`` cut to the budget (whole text when it fits)."""
        if len(text) <= self.chars:
            return text
        self.take(text)
        return text[:self.chars]
