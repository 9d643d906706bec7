"""What the store answers about documents' dates: the date and its evidence, a person's correction (SQLite and the
passages' vectors in Chroma), the undated documents, and the documents a user names. Mixed into ``Store``."""
from __future__ import annotations

import json
import sqlite3

from veille.dates import date_number
from veille.filters import Filters


class DatingQueries:
    db: sqlite3.Connection

    def dating(self, doc_id: str) -> tuple[str | None, str | None]:
        """(date, its source) of a stored document: ``(None, None)`` when undated or unknown."""
        row = self.db.execute("SELECT date, json_extract(extra, '$.date_source') AS source FROM documents "
                              "WHERE doc_id=?", (doc_id,)).fetchone()
        return (row["date"], row["source"]) if row else (None, None)

    def set_date(self, doc_id: str, iso: str | None, source: str = "user") -> None:
        """A document's date (None: undated) and its source, in the registry and on its passages in Chroma (whose
        date filter the dense branch may use)."""
        number = date_number(iso)
        with self.transaction() as tx:
            before = tx.execute("SELECT date FROM documents WHERE doc_id=?", (doc_id,)).fetchone()
            tx.execute("UPDATE documents SET date=?, date_num=?, extra=json_set(extra, '$.date_source', ?) "
                       "WHERE doc_id=?", (iso, number, source, doc_id))
        if before is None or before["date"] == iso:  # the passages carry the right date already
            return
        found = self.collection.get(where={"doc_id": doc_id}, include=["metadatas"])
        if found["ids"]:
            dated = {"date": number, "year": number // 10000} if number else {"date": None, "year": None}
            self.collection.update(ids=found["ids"], metadatas=[{**(m or {}), **dated} for m in found["metadatas"]])

    def undated_documents(self, filters: Filters | None = None) -> list[str]:
        """Documents without a date that pass ``filters``, latest arrival first."""
        where, params = (filters or Filters()).sql("d")
        return [r[0] for r in self.db.execute(
            f"SELECT d.doc_id FROM documents d WHERE d.state='done' AND d.date_num IS NULL AND {where} "
            "ORDER BY d.ingested_at DESC", params)]

    def find_documents(self, reference: str, paths: list[str] = (), limit: int = 20) -> list[dict]:
        """The documents a user names: by id (or its first 6 characters or more), by one of ``paths`` (a file as
        typed, resolved) or URL, else by words of the title (case ignored)."""
        reference = reference.strip()
        columns = "d.doc_id, d.title, d.date, d.ingested_at, d.extra"
        rows = []
        if len(reference) >= 6 and all(c in "0123456789abcdef" for c in reference.lower()):
            rows = self.db.execute(f"SELECT {columns} FROM documents d WHERE d.state='done' AND "
                                   "substr(d.doc_id, 1, ?) = ? LIMIT ?",
                                   (len(reference), reference.lower(), limit)).fetchall()
        if not rows:
            names = list(dict.fromkeys([reference, *paths]))
            rows = self.db.execute(
                f"SELECT DISTINCT {columns} FROM documents d JOIN sources s ON s.doc_id = d.doc_id WHERE "
                f"d.state='done' AND s.source IN ({','.join('?' * len(names))}) LIMIT ?", [*names, limit]).fetchall()
        if not rows:
            rows = self.db.execute(f"SELECT {columns} FROM documents d WHERE d.state='done' AND "
                                   "instr(lower(d.title), lower(?)) > 0 ORDER BY d.title LIMIT ?",
                                   (reference, limit)).fetchall()
        out = []
        for r in rows:
            doc = dict(r)
            doc["date_source"] = json.loads(doc.pop("extra") or "{}").get("date_source")
            out.append(doc)
        return out
