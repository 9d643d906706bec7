"""What the store answers for the schedule (each job's last success, last attempt, CLI-set interval) and for
« what's new » (each user's visits). Mixed into ``Store``."""
from __future__ import annotations

import sqlite3


class ScheduleQueries:
    db: sqlite3.Connection

    def schedule_rows(self) -> dict[str, sqlite3.Row]:
        return {r["job"]: r for r in self.db.execute("SELECT * FROM schedule_runs ORDER BY job")}

    def record_job(self, job: str, attempted_at: float, ok: bool, detail: str) -> None:
        """A job's attempt; only a success moves ``last_run`` (a failed job stays due)."""
        self.db.execute(
            "INSERT INTO schedule_runs(job, last_run, attempted_at, status, detail) VALUES(?,?,?,?,?) "
            "ON CONFLICT(job) DO UPDATE SET attempted_at=excluded.attempted_at, status=excluded.status, "
            "detail=excluded.detail, last_run=CASE WHEN excluded.status='ok' THEN excluded.attempted_at "
            "ELSE schedule_runs.last_run END",
            (job, attempted_at if ok else None, attempted_at, "ok" if ok else "échec", detail))

    def set_job_interval(self, job: str, interval: str | None) -> None:
        self.db.execute("INSERT INTO schedule_runs(job, interval) VALUES(?, ?) ON CONFLICT(job) DO UPDATE SET "
                        "interval=excluded.interval", (job, interval))

    # --- visits ----------------------------------------------------------------------------------
    def begin_visit(self, user: str, now: float, gap_s: float) -> float | None:
        """Count ``now`` in one of ``user``'s visits; returns when the previous visit ended (None before the
        first one). Coming back after more than ``gap_s`` starts a new visit; within it, the same answer."""
        with self.transaction() as tx:
            row = tx.execute("SELECT last_visit, previous_visit FROM user_visits WHERE user=?", (user,)).fetchone()
            if row is None:
                tx.execute("INSERT INTO user_visits(user, last_visit, previous_visit) VALUES(?,?,0)", (user, now))
                return None
            if now - row["last_visit"] > gap_s:
                tx.execute("UPDATE user_visits SET previous_visit=last_visit, last_visit=? WHERE user=?", (now, user))
                return row["last_visit"]
            tx.execute("UPDATE user_visits SET last_visit=? WHERE user=?", (max(now, row["last_visit"]), user))
            return row["previous_visit"] or None
