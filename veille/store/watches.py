"""What the store answers about saved watches and their findings. Mixed into ``Store`` (``self.db``)."""
from __future__ import annotations

import json
import sqlite3


class WatchQueries:
    db: sqlite3.Connection

    def watch_row(self, name_or_id: str) -> sqlite3.Row | None:
        return self.db.execute("SELECT * FROM watches WHERE name=? OR CAST(id AS TEXT)=?",
                               (name_or_id, str(name_or_id))).fetchone()

    def watch_rows(self) -> list[sqlite3.Row]:
        """Every watch with its count of unseen findings (``unseen``), by name."""
        return self.db.execute("SELECT w.*, (SELECT count(*) FROM watch_hits h WHERE h.watch_id=w.id AND h.seen=0) "
                               "AS unseen FROM watches w ORDER BY w.name").fetchall()

    def insert_watch(self, name: str, query: str, filters: dict, threshold: float | None, now: float) -> None:
        self.db.execute("INSERT INTO watches(name, query, filters, threshold, created_at, last_run) VALUES(?,?,?,?,?,?)",
                        (name, query, json.dumps(filters, ensure_ascii=False), threshold, now, now))

    def delete_watch(self, watch_id: int) -> None:
        with self.transaction() as tx:
            tx.execute("DELETE FROM watch_hits WHERE watch_id=?", (watch_id,))
            tx.execute("DELETE FROM watches WHERE id=?", (watch_id,))

    def save_watch_run(self, watch_id: int, hits: list[dict], ran_at: float) -> None:
        """Store a run's findings (a document found again is updated and unseen again) and its time, together."""
        with self.transaction() as tx:
            for h in hits:
                tx.execute("INSERT INTO watch_hits(watch_id, doc_id, score, title, url, date, doc_type, snippet, "
                           "found_at) VALUES(?,?,?,?,?,?,?,?,?) ON CONFLICT(watch_id, doc_id) DO UPDATE SET "
                           "score=excluded.score, snippet=excluded.snippet, found_at=excluded.found_at, seen=0",
                           (watch_id, h["doc_id"], h["score"], h["title"], h["url"], h["date"], h["doc_type"],
                            h["snippet"], h["found_at"]))
            tx.execute("UPDATE watches SET last_run=? WHERE id=?", (ran_at, watch_id))

    def watch_hits(self, watch_id: int, include_seen: bool = False) -> list[sqlite3.Row]:
        return self.db.execute("SELECT * FROM watch_hits WHERE watch_id=?" + ("" if include_seen else " AND seen=0") +
                               " ORDER BY found_at DESC, score DESC", (watch_id,)).fetchall()

    def mark_watch_seen(self, watch_id: int) -> None:
        self.db.execute("UPDATE watch_hits SET seen=1 WHERE watch_id=? AND seen=0", (watch_id,))
