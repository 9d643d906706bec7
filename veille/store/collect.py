"""What the store answers about web collection (one row per fetched URL, and the runs). Mixed into ``Store``."""
from __future__ import annotations

import json
import sqlite3
import time


class CollectQueries:
    db: sqlite3.Connection

    def collect_row(self, url: str) -> sqlite3.Row | None:
        return self.db.execute("SELECT * FROM collect_state WHERE url=?", (url,)).fetchone()

    def collect_previous(self, url: str) -> sqlite3.Row | None:
        """Body hash, document and snapshot of a URL whose document is still stored."""
        return self.db.execute(
            "SELECT s.body_hash, s.doc_id, s.snapshot FROM collect_state s JOIN documents d ON d.doc_id = s.doc_id "
            "WHERE s.url=? AND d.state='done'", (url,)).fetchone()

    def record_collect(self, url: str, values: dict) -> None:
        """Insert or update one URL's row; only the given columns change (a 304 keeps the validators)."""
        cols = ", ".join(values)
        marks = ", ".join("?" * len(values))
        updates = ", ".join(f"{c}=excluded.{c}" for c in values)
        self.db.execute(f"INSERT INTO collect_state(url, {cols}) VALUES(?, {marks}) "
                        f"ON CONFLICT(url) DO UPDATE SET {updates}", (url, *values.values()))

    def document_stored(self, doc_id: str) -> bool:
        return self.db.execute("SELECT 1 FROM documents WHERE doc_id=? AND state='done'", (doc_id,)).fetchone() is not None

    def collect_rows(self, kind: str | None = None) -> list[dict]:
        sql = "SELECT * FROM collect_state" + (" WHERE kind=?" if kind else "") + " ORDER BY source_name, url"
        return [dict(r) for r in self.db.execute(sql, (kind,) if kind else ())]

    def record_collect_run(self, started: float, summary: dict) -> None:
        self.db.execute("INSERT INTO collect_runs(started_at, finished_at, summary) VALUES(?,?,?)",
                        (started, time.time(), json.dumps(summary, ensure_ascii=False)))
