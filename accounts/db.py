"""The accounts database, ``home/access.db``: users, login attempts and the audit log in one file, apart from
the corpus store (rebuilding the corpus never drops accounts or the audit log; the file is owner-only)."""
from __future__ import annotations

import sqlite3

from veille.config import Settings
from veille.db import closing, connect

SCHEMA = """
CREATE TABLE IF NOT EXISTS users (
    login TEXT PRIMARY KEY,
    password_hash TEXT NOT NULL,
    role TEXT NOT NULL,
    filieres TEXT NOT NULL DEFAULT '[]',
    active INTEGER NOT NULL DEFAULT 1,
    created_at REAL NOT NULL, updated_at REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS login_attempts (
    id INTEGER PRIMARY KEY, at REAL NOT NULL, login TEXT NOT NULL, outcome TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS login_attempts_login ON login_attempts(login, at);
CREATE TABLE IF NOT EXISTS audit (
    id INTEGER PRIMARY KEY,
    at REAL NOT NULL,
    login TEXT NOT NULL,
    event TEXT NOT NULL,              -- question | connexion | connexion_refusee | connexion_bloquee | export | …
    question TEXT,
    doc_ids TEXT NOT NULL DEFAULT '[]',
    detail TEXT
);
CREATE INDEX IF NOT EXISTS audit_at ON audit(at);
"""


def exists(settings: Settings) -> bool:
    return (settings.home / "access.db").exists()


def open_db(settings: Settings) -> sqlite3.Connection:
    """``home/access.db`` with its schema, created owner-only."""
    conn = connect(settings.home / "access.db", timeout=30, private=True)
    conn.executescript(SCHEMA)
    return conn


__all__ = ["SCHEMA", "closing", "exists", "open_db"]
