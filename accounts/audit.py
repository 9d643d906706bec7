"""The audit log: who asked what, when, and which documents came back; logins too.

Rows live in the accounts database (``accounts/db.py``) beside the accounts (one file to protect and back up, shared by every
app process). Only identified users are logged: single-user local mode writes nothing.
"""
from __future__ import annotations

import json
import time
from dataclasses import dataclass
from datetime import datetime, timezone

from accounts.db import exists, open_db
from veille.config import Settings


@dataclass
class AuditRow:
    id: int
    at: float
    login: str
    event: str
    question: str | None
    doc_ids: list[str]
    detail: str | None

    def as_dict(self) -> dict:
        return {"id": self.id, "date": datetime.fromtimestamp(self.at, timezone.utc).isoformat(timespec="seconds"),
                "login": self.login, "event": self.event, "question": self.question or "",
                "doc_ids": self.doc_ids, "detail": self.detail or ""}


def _db(settings: Settings):
    return open_db(settings)


def record_event(settings: Settings, login: str, event: str, question: str | None = None,
                 doc_ids: list[str] | None = None, detail: str | None = None) -> None:
    conn = _db(settings)
    try:
        conn.execute("INSERT INTO audit(at, login, event, question, doc_ids, detail) VALUES(?,?,?,?,?,?)",
                     (time.time(), login, event, question, json.dumps(doc_ids or []), detail))
    finally:
        conn.close()


def record_question(settings: Settings, login: str, question: str, passages) -> None:
    """One row per retrieval by an identified user, with the documents of the passages returned."""
    doc_ids = list(dict.fromkeys(p.node.metadata.get("doc_id", "") for p in passages))
    record_event(settings, login, "question", question=question, doc_ids=[d for d in doc_ids if d])


def rows(settings: Settings, since: float | None = None, until: float | None = None,
         login: str | None = None, event: str | None = None) -> list[AuditRow]:
    if not exists(settings):
        return []
    parts, params = ["1=1"], []
    for clause, value in (("at >= ?", since), ("at < ?", until), ("login = ?", login), ("event = ?", event)):
        if value is not None:
            parts.append(clause)
            params.append(value)
    conn = _db(settings)
    try:
        found = conn.execute(f"SELECT * FROM audit WHERE {' AND '.join(parts)} ORDER BY id", params).fetchall()
    finally:
        conn.close()
    return [AuditRow(r["id"], r["at"], r["login"], r["event"], r["question"], json.loads(r["doc_ids"]),
                     r["detail"]) for r in found]
