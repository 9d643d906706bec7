"""What the store answers for bulletins: the documents of a period, those matching a rubrique's terms, and the
drafts several advisors build together (each item's choice and comment, with its author). Mixed into ``Store``."""
from __future__ import annotations

import json
import sqlite3
import time

from veille.filters import Filters


class BulletinQueries:
    db: sqlite3.Connection

    # --- the period and its rubriques -------------------------------------------------------------
    def period_documents(self, date_from: int, date_to: int, filters: Filters | None = None) -> list[str]:
        """Documents dated within [date_from, date_to] (YYYYMMDD) that pass ``filters``; newest first. The undated
        ones are the bulletin's « Non datés » (``undated_documents``), never counted by their arrival unsaid."""
        where, params = (filters or Filters()).sql("d")
        return [r[0] for r in self.db.execute(
            f"SELECT d.doc_id FROM documents d WHERE d.state = 'done' AND d.date_num BETWEEN ? AND ? AND {where} "
            "ORDER BY d.date_num DESC, d.ingested_at DESC", [date_from, date_to, *params])]

    def documents_matching(self, phrases: list[str], filters: Filters | None = None) -> dict[str, int]:
        """Documents with a passage holding one of ``phrases`` (analysed terms, in order), and how many such
        passages each has."""
        phrases = [p for p in phrases if p.strip()]
        if not phrases:
            return {}
        match = " OR ".join(f'"{p}"' for p in phrases)
        where, params = (filters or Filters()).sql("d")
        return {r[0]: r[1] for r in self.db.execute(
            "SELECT c.doc_id, count(*) FROM chunks_fts JOIN chunks c ON c.rowid = chunks_fts.rowid "
            f"JOIN documents d ON d.doc_id = c.doc_id WHERE chunks_fts MATCH ? AND d.state = 'done' AND {where} "
            "GROUP BY c.doc_id", [match, *params])}

    # --- drafts -----------------------------------------------------------------------------------
    def bulletin_row(self, name: str) -> sqlite3.Row | None:
        return self.db.execute("SELECT * FROM bulletins WHERE name=?", (name,)).fetchone()

    def bulletin_rows(self) -> list[sqlite3.Row]:
        return self.db.execute("SELECT * FROM bulletins ORDER BY updated_at DESC").fetchall()

    def save_bulletin(self, name: str, period: str, rubriques: list[dict], filters: dict, introduction: str,
                      author: str) -> int:
        now = time.time()
        self.db.execute(
            "INSERT INTO bulletins(name, period, rubriques, filters, introduction, created_by, created_at, updated_at) "
            "VALUES(?,?,?,?,?,?,?,?) ON CONFLICT(name) DO UPDATE SET period=excluded.period, "
            "rubriques=excluded.rubriques, filters=excluded.filters, introduction=excluded.introduction, "
            "updated_at=excluded.updated_at",
            (name, period, json.dumps(rubriques, ensure_ascii=False), json.dumps(filters, ensure_ascii=False),
             introduction, author, now, now))
        return self.bulletin_row(name)["id"]

    def set_bulletin_item(self, bulletin_id: int, cluster: str, rubrique: str, author: str,
                          choice: str | None = None, comment: str | None = None) -> None:
        """Record an advisor's choice (pinned, dropped, '' to undo) and/or comment on one item."""
        now = time.time()
        with self.transaction() as tx:
            tx.execute("INSERT INTO bulletin_items(bulletin_id, cluster, rubrique, author, updated_at) "
                       "VALUES(?,?,?,?,?) ON CONFLICT(bulletin_id, cluster, rubrique) DO NOTHING",
                       (bulletin_id, cluster, rubrique, author, now))
            if choice is not None:
                tx.execute("UPDATE bulletin_items SET choice=?, author=?, updated_at=? WHERE bulletin_id=? AND "
                           "cluster=? AND rubrique=?", (choice, author, now, bulletin_id, cluster, rubrique))
            if comment is not None:
                tx.execute("UPDATE bulletin_items SET comment=?, author=?, updated_at=? WHERE bulletin_id=? AND "
                           "cluster=? AND rubrique=?", (comment, author, now, bulletin_id, cluster, rubrique))
            tx.execute("UPDATE bulletins SET updated_at=? WHERE id=?", (now, bulletin_id))

    def bulletin_items(self, bulletin_id: int) -> dict[tuple[str, str], sqlite3.Row]:
        return {(r["cluster"], r["rubrique"]): r for r in self.db.execute(
            "SELECT * FROM bulletin_items WHERE bulletin_id=?", (bulletin_id,))}
