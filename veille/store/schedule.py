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
    def last_visit(self, user: str) -> float | None:
        row = self.db.execute("SELECT last_visit FROM user_visits WHERE user=?", (user,)).fetchone()
        return row["last_visit"] if row else None

    def record_visit(self, user: str, at: float) -> float | None:
        """Start a new visit; returns the previous one (None the first time)."""
        previous = self.last_visit(user)
        self.db.execute("INSERT INTO user_visits(user, last_visit, previous_visit) VALUES(?,?,?) ON CONFLICT(user) "
                        "DO UPDATE SET previous_visit=user_visits.last_visit, last_visit=excluded.last_visit",
                        (user, at, previous or 0))
        return previous
