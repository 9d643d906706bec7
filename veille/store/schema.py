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
    extra TEXT NOT NULL DEFAULT '{}'  -- format metadata (JSON): parent, attachments, ocr, sender, recipients, date_source
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
    page_start INTEGER, page_end INTEGER, -- pages of the passage (paged formats: PDF, multi-page scans)
    embed_key TEXT                    -- hash of the model and the exact text embedded: its vector is reused
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

# The watch job (issue 13): entities, near-duplicate clusters, bulletins, the schedule, users' visits.
# Rows hanging on a document go with it (ON DELETE CASCADE: the store connection enables foreign keys).
WATCH_JOB_SCHEMA = """
CREATE TABLE IF NOT EXISTS entity_mentions (
    id INTEGER PRIMARY KEY,
    doc_id TEXT NOT NULL REFERENCES documents(doc_id) ON DELETE CASCADE,
    chunk_id TEXT NOT NULL,
    char_start INTEGER NOT NULL, char_end INTEGER NOT NULL,   -- offsets in the document text
    label TEXT NOT NULL,              -- ORG | PER | LOC
    surface TEXT NOT NULL,            -- as written (cleaned)
    norm TEXT NOT NULL,               -- key of the surface itself
    key TEXT NOT NULL                 -- key of its canonical name (alias file); '' when ignored
);
CREATE INDEX IF NOT EXISTS entity_mentions_key ON entity_mentions(key, doc_id);
CREATE INDEX IF NOT EXISTS entity_mentions_doc ON entity_mentions(doc_id);
CREATE INDEX IF NOT EXISTS entity_mentions_norm ON entity_mentions(norm);
-- What the enrichment stages did to each document: the NER model that read it, its near-duplicate
-- cluster (the doc_id of the cluster's first member) and MinHash signature.
CREATE TABLE IF NOT EXISTS doc_enrichment (
    doc_id TEXT PRIMARY KEY REFERENCES documents(doc_id) ON DELETE CASCADE,
    entities_model TEXT,
    cluster TEXT NOT NULL,
    similarity REAL NOT NULL DEFAULT 1.0, -- estimated resemblance to the member it was matched to
    signature BLOB, shingles INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX IF NOT EXISTS doc_enrichment_cluster ON doc_enrichment(cluster);
CREATE TABLE IF NOT EXISTS doc_bands (
    band INTEGER NOT NULL, hash INTEGER NOT NULL,
    doc_id TEXT NOT NULL REFERENCES documents(doc_id) ON DELETE CASCADE
);
CREATE INDEX IF NOT EXISTS doc_bands_hash ON doc_bands(band, hash);
CREATE INDEX IF NOT EXISTS doc_bands_doc ON doc_bands(doc_id);
-- Files whose reading the fence stopped (time, memory), skipped with their reason while unchanged.
CREATE TABLE IF NOT EXISTS refused_files (
    source TEXT PRIMARY KEY,
    size INTEGER,
    mtime REAL,
    reason TEXT NOT NULL,
    refused_at REAL NOT NULL,
    max_seconds REAL NOT NULL,  -- the limits in force then: raising one reads the file again
    max_memory INTEGER NOT NULL
);
-- Bulletins built together: the draft, then each advisor's choice (pin, drop) and comment per item.
CREATE TABLE IF NOT EXISTS bulletins (
    id INTEGER PRIMARY KEY,
    name TEXT UNIQUE NOT NULL,
    period TEXT NOT NULL,
    rubriques TEXT NOT NULL,          -- JSON [{"name", "terms"}]
    filters TEXT NOT NULL DEFAULT '{}',
    introduction TEXT NOT NULL DEFAULT '',
    created_by TEXT NOT NULL, created_at REAL NOT NULL, updated_at REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS bulletin_items (
    bulletin_id INTEGER NOT NULL REFERENCES bulletins(id) ON DELETE CASCADE,
    cluster TEXT NOT NULL,
    rubrique TEXT NOT NULL,
    choice TEXT NOT NULL DEFAULT '',  -- '' (proposed) | pinned | dropped
    comment TEXT NOT NULL DEFAULT '',
    author TEXT NOT NULL, updated_at REAL NOT NULL,
    PRIMARY KEY (bulletin_id, cluster, rubrique)
);
-- The schedule: when each job (collecte:<source>, veille:<name>, bulletin:<name>, dossier:<path>) last
-- succeeded, its last attempt and outcome, and the interval set with the CLI (overrides the files').
CREATE TABLE IF NOT EXISTS schedule_runs (
    job TEXT PRIMARY KEY, last_run REAL, attempted_at REAL, status TEXT, detail TEXT, interval TEXT
);
-- « Nouveautés depuis votre dernière visite »: per account login, or 'local' without accounts.
CREATE TABLE IF NOT EXISTS user_visits (
    user TEXT PRIMARY KEY, last_visit REAL NOT NULL, previous_visit REAL NOT NULL DEFAULT 0
);
"""
SCHEMA += WATCH_JOB_SCHEMA


# Columns added after the first release: stores created before get them on opening.
MIGRATIONS = {"documents": {"extra": "TEXT NOT NULL DEFAULT '{}'"},
              "chunks": {"page_start": "INTEGER", "page_end": "INTEGER", "embed_key": "TEXT"}}
# Indexes on migrated columns: created once the column exists.
MIGRATED_INDEXES = ["CREATE INDEX IF NOT EXISTS chunks_embed_key ON chunks(embed_key)"]


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
    for statement in MIGRATED_INDEXES:
        conn.execute(statement)
