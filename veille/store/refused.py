"""Files whose reading the fence stopped (time or memory): remembered with their reason and the limits then in
force, so that a scheduled run (`veille run --due`) does not spend the same minutes on them each time. Read
again once the file changes or a limit is raised. Mixed into ``Store``."""
from __future__ import annotations

import sqlite3
import time


class RefusedQueries:
    db: sqlite3.Connection

    def refused_file(self, source: str) -> sqlite3.Row | None:
        """The remembered refusal of ``source`` (size, mtime, max_seconds, max_memory, reason), if any."""
        return self.db.execute("SELECT * FROM refused_files WHERE source=?", (source,)).fetchone()

    def remember_refused(self, source: str, size: int | None, mtime: float | None, reason: str,
                         max_seconds: float, max_memory: int) -> None:
        self.db.execute("INSERT INTO refused_files(source, size, mtime, reason, refused_at, max_seconds, max_memory) "
                        "VALUES(?,?,?,?,?,?,?) ON CONFLICT(source) DO UPDATE SET size=excluded.size, "
                        "mtime=excluded.mtime, reason=excluded.reason, refused_at=excluded.refused_at, "
                        "max_seconds=excluded.max_seconds, max_memory=excluded.max_memory",
                        (source, size, mtime, reason, time.time(), max_seconds, max_memory))

    def forget_refused(self, source: str) -> None:
        self.db.execute("DELETE FROM refused_files WHERE source=?", (source,))
