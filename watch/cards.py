"""A document as the watch products show it (bulletin items, « what's new »): its id, title, date, type, where it
comes from (site, else the file's name when a reader can use it, « fichier local » for a machine-made one: never a
server path) and its link."""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from veille.dates import date_with_source, french_date
from veille.filters import readable_source


@dataclass
class DocumentCard:
    doc_id: str
    title: str
    date: str | None
    doc_type: str
    source: str
    url: str | None
    date_source: str | None = None  # the evidence of the date (ingestion/dating.py)
    arrived: float | None = None  # when it was ingested: what an undated document is known by

    @property
    def date_label(self) -> str:
        """« 3 novembre 2025 (date lue dans le texte) », or « non daté, arrivé le 12 décembre 2026 »."""
        if self.date:
            return date_with_source(self.date, self.date_source)
        if self.arrived:
            return f"non daté, arrivé le {french_date(dt.date.fromtimestamp(self.arrived).isoformat())}"
        return "non daté"

    @staticmethod
    def fields_of(doc: dict) -> dict:
        """The card's fields from a stored document (``Store.document``)."""
        return {"doc_id": doc.get("doc_id", ""), "title": doc.get("title") or "", "date": doc.get("date"),
                "doc_type": doc.get("doc_type") or "autre",
                "source": doc.get("site") or readable_source(doc.get("source") or ""), "url": doc.get("url"),
                "date_source": (doc.get("extra") or {}).get("date_source"), "arrived": doc.get("ingested_at")}
