"""The one SQLite connection helper: every database of Veille (corpus store, accounts, feedback) opens here
with the same settings (WAL so readers never wait for a writer, autocommit unless a transaction is begun)."""
from __future__ import annotations

import os
import sqlite3
from pathlib import Path


def connect(path: Path, timeout: float = 60, private: bool = False, foreign_keys: bool = False) -> sqlite3.Connection:
    """A connection to ``path`` (created with its folder); ``private`` makes a new file owner-only."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fresh = not path.exists()
    conn = sqlite3.connect(str(path), timeout=timeout, isolation_level=None, check_same_thread=False)
    conn.row_factory = sqlite3.Row
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=NORMAL")
    if foreign_keys:
        conn.execute("PRAGMA foreign_keys=ON")
    if fresh and private:
        os.chmod(path, 0o600)
    return conn


class Transaction:
    """``with Transaction(conn) as tx:`` — BEGIN IMMEDIATE, then COMMIT, or ROLLBACK on an exception."""

    def __init__(self, conn: sqlite3.Connection):
        self.conn = conn

    def __enter__(self) -> sqlite3.Connection:
        self.conn.execute("BEGIN IMMEDIATE")
        return self.conn

    def __exit__(self, exc_type, exc, tb) -> None:
        self.conn.execute("ROLLBACK" if exc_type else "COMMIT")


class closing:
    """A short-lived connection closed at the end of a ``with`` block."""

    def __init__(self, conn: sqlite3.Connection):
        self.conn = conn

    def __enter__(self) -> sqlite3.Connection:
        return self.conn

    def __exit__(self, *exc) -> None:
        self.conn.close()
