"""A document as the watch products show it (bulletin items, « what's new »): its id, title, date, type, where it
comes from (site, else the file's name when a reader can use it, « fichier local » for a machine-made one: never a
server path) and its link."""
from __future__ import annotations

from dataclasses import dataclass

from veille.filters import readable_source


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
                "source": doc.get("site") or readable_source(doc.get("source") or ""), "url": doc.get("url")}
