"""Files whose reading the fence stopped (time or memory): remembered with their reason until they change, so
that a scheduled run (`veille run --due`) does not spend the same minutes on them each time. Mixed into ``Store``."""
from __future__ import annotations

import sqlite3
import time


class RefusedQueries:
    db: sqlite3.Connection

    def refused_file(self, source: str, size: int | None, mtime: float | None) -> sqlite3.Row | None:
        """The remembered refusal of ``source`` as it is now (same size and time), if any."""
        return self.db.execute("SELECT reason, refused_at FROM refused_files WHERE source=? AND size IS ? "
                               "AND mtime IS ?", (source, size, mtime)).fetchone()

    def remember_refused(self, source: str, size: int | None, mtime: float | None, reason: str) -> None:
        self.db.execute("INSERT INTO refused_files(source, size, mtime, reason, refused_at) VALUES(?,?,?,?,?) "
                        "ON CONFLICT(source) DO UPDATE SET size=excluded.size, mtime=excluded.mtime, "
                        "reason=excluded.reason, refused_at=excluded.refused_at",
                        (source, size, mtime, reason, time.time()))

    def forget_refused(self, source: str) -> None:
        self.db.execute("DELETE FROM refused_files WHERE source=?", (source,))
