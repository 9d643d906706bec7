"""Which extractor a downloaded body goes to: its Content-Type, else the extension of its URL."""
from __future__ import annotations

from pathlib import PurePosixPath
from urllib.parse import urlparse

from ingestion.extract import EXTRACTORS

TYPES = {
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document": ".docx",
    "application/vnd.openxmlformats-officedocument.presentationml.presentation": ".pptx",
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet": ".xlsx",
    "application/vnd.oasis.opendocument.text": ".odt",
    "application/vnd.oasis.opendocument.presentation": ".odp",
    "application/vnd.oasis.opendocument.spreadsheet": ".ods",
    "text/csv": ".csv", "application/csv": ".csv", "message/rfc822": ".eml", "application/mbox": ".mbox",
    "application/epub+zip": ".epub", "application/rtf": ".rtf", "text/rtf": ".rtf",
    "image/png": ".png", "image/jpeg": ".jpg", "image/tiff": ".tiff", "application/pdf": ".pdf",
}
# Servers that do not know the type say so; the URL's extension then tells.
GENERIC = {"", "application/octet-stream", "binary/octet-stream", "application/download",
           "application/x-download", "application/force-download"}


def suffix_for(content_type: str, url: str) -> str | None:
    """The extension whose extractor reads this body, None when no extractor does."""
    if content_type in TYPES:
        return TYPES[content_type]
    if content_type in GENERIC:
        suffix = PurePosixPath(urlparse(url).path).suffix.lower()
        return suffix if suffix in EXTRACTORS and suffix not in (".html", ".htm", ".txt") else None
    return None
