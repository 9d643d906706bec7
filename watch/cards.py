"""A document as the watch products show it (bulletin items, « what's new »): its id, title, date, type, where it
comes from (site, else the file's name: never a server path) and its link."""
from __future__ import annotations

from dataclasses import dataclass

from veille.filters import source_label


@dataclass
class DocumentCard:
    doc_id: str
    title: str
    date: str | None
    doc_type: str
    source: str
    url: str | None

    @staticmethod
    def fields_of(doc: dict) -> dict:
        """The card's fields from a stored document (``Store.document``)."""
        return {"doc_id": doc.get("doc_id", ""), "title": doc.get("title") or "", "date": doc.get("date"),
                "doc_type": doc.get("doc_type") or "autre",
                "source": doc.get("site") or source_label(doc.get("source") or ""), "url": doc.get("url")}
