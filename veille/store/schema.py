"""The store's SQLite schema, and the migrations of stores made before a column existed (documents, sources, chunks,
lexical index, ingestion log, watches, collection)."""
import sqlite3

SCHEMA = """
CREATE TABLE IF NOT EXISTS documents (
    doc_id TEXT PRIMARY KEY,
    state TEXT NOT NULL,              -- 'pending' while being written, 'done', 'deleting' once superseded or removed
    title TEXT, doc_type TEXT, date TEXT, date_num INTEGER, source TEXT, url TEXT, site TEXT,
    author TEXT, language TEXT, region TEXT,
    filieres TEXT NOT NULL DEFAULT '[]', tags TEXT NOT NULL DEFAULT '[]',
    audience TEXT NOT NULL DEFAULT '["public"]',
    n_chunks INTEGER NOT NULL DEFAULT 0, n_chars INTEGER NOT NULL DEFAULT 0,
    ingested_at REAL NOT NULL,
    text TEXT NOT NULL,
    extra TEXT NOT NULL DEFAULT '{}'  -- format metadata (JSON): parent, attachments, ocr, sender, recipients
);
CREATE TABLE IF NOT EXISTS sources (
    source TEXT PRIMARY KEY,          -- absolute file path or URL
    doc_id TEXT NOT NULL,
    size INTEGER, mtime REAL, file_hash TEXT
);
CREATE INDEX IF NOT EXISTS sources_doc ON sources(doc_id);
CREATE TABLE IF NOT EXISTS chunks (
    rowid INTEGER PRIMARY KEY,
    chunk_id TEXT UNIQUE NOT NULL,
    doc_id TEXT NOT NULL,
    position INTEGER NOT NULL,
    char_start INTEGER NOT NULL, char_end INTEGER NOT NULL,
    heading TEXT,
    text TEXT NOT NULL,
    page_start INTEGER, page_end INTEGER  -- pages of the passage (paged formats: PDF, multi-page scans)
);
CREATE INDEX IF NOT EXISTS chunks_doc ON chunks(doc_id);
CREATE VIRTUAL TABLE IF NOT EXISTS chunks_fts USING fts5(terms, tokenize='unicode61 remove_diacritics 2');
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT);
CREATE TABLE IF NOT EXISTS ingestions (
    id INTEGER PRIMARY KEY, started_at REAL, finished_at REAL, summary TEXT
);
-- Saved watches and their findings.
CREATE TABLE IF NOT EXISTS watches (
    id INTEGER PRIMARY KEY,
    name TEXT UNIQUE NOT NULL,
    query TEXT NOT NULL,
    filters TEXT NOT NULL DEFAULT '{}',
    threshold REAL,                   -- NULL = the refusal threshold of the settings
    created_at REAL NOT NULL,
    last_run REAL NOT NULL            -- documents ingested after this instant are "new" for the watch
);
CREATE TABLE IF NOT EXISTS watch_hits (
    watch_id INTEGER NOT NULL REFERENCES watches(id) ON DELETE CASCADE,
    doc_id TEXT NOT NULL,
    score REAL NOT NULL,
    title TEXT, url TEXT, date TEXT, doc_type TEXT,
    snippet TEXT NOT NULL,
    chunk_id TEXT,
    found_at REAL NOT NULL,
    seen INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (watch_id, doc_id)
);
-- Web collection: one row per fetched URL, and the runs.
CREATE TABLE IF NOT EXISTS collect_state (
    url TEXT PRIMARY KEY,             -- canonical form of the URL as listed by its source
    source_name TEXT NOT NULL,
    kind TEXT NOT NULL,               -- page | robots | sitemap | feed
    final_url TEXT, canonical TEXT,   -- after redirects; identity given to the ingestion (documents.source)
    last_fetch REAL, last_change REAL,
    http_status INTEGER,
    status TEXT NOT NULL,             -- new | changed | unchanged | skipped | failed
    error TEXT,
    etag TEXT, last_modified TEXT, content_type TEXT,
    body_hash TEXT, doc_id TEXT, snapshot TEXT
);
CREATE INDEX IF NOT EXISTS collect_state_source ON collect_state(source_name);
CREATE TABLE IF NOT EXISTS collect_runs (
    id INTEGER PRIMARY KEY, started_at REAL, finished_at REAL, summary TEXT
);
"""

# Columns added after the first release: stores created before get them on opening.
MIGRATIONS = {"documents": {"extra": "TEXT NOT NULL DEFAULT '{}'"},
              "chunks": {"page_start": "INTEGER", "page_end": "INTEGER"}}


def migrate(conn: sqlite3.Connection) -> None:
    for table, columns in MIGRATIONS.items():
        present = {row[1] for row in conn.execute(f"PRAGMA table_info({table})")}
        for name, declaration in columns.items():
            if name not in present:
                try:
                    conn.execute(f"ALTER TABLE {table} ADD COLUMN {name} {declaration}")
                except sqlite3.OperationalError as exc:  # another process added it meanwhile
                    if "duplicate column" not in str(exc):
                        raise
