"""Collection state (one row per fetched URL, kept by the store) and the snapshots on disk.

Snapshots (raw bytes as received) and extracted records live under ``home/collect/`` so a document
can be re-extracted without fetching again (``veille collect --reextract``).
"""
from __future__ import annotations

import hashlib
import json
import time
from dataclasses import dataclass

from veille.config import Settings
from veille.store import get_store


@dataclass
class UrlState:
    url: str
    etag: str | None
    last_modified: str | None
    snapshot: str | None
    doc_id: str | None
    status: str
    canonical: str | None
    content_type: str | None


class CollectState:
    def __init__(self, settings: Settings):
        self.settings = settings
        self.root = settings.home / "collect"
        self.store = get_store(settings)

    # --- rows -----------------------------------------------------------------------------------
    def get(self, url: str) -> UrlState | None:
        row = self.store.collect_row(url)
        if row is None:
            return None
        return UrlState(row["url"], row["etag"], row["last_modified"], row["snapshot"], row["doc_id"],
                        row["status"], row["canonical"], row["content_type"])

    def record(self, url: str, source_name: str, kind: str, status: str, **values) -> None:
        """Insert or update one URL's row; only the given columns change (a 304 keeps the validators)."""
        values = {"source_name": source_name, "kind": kind, "status": status, "last_fetch": time.time(), **values}
        self.store.record_collect(url, values)

    def usable_validators(self, url: str) -> tuple[str | None, str | None]:
        """ETag / Last-Modified to send, only when a 304 would leave nothing missing: the snapshot is
        on disk and the document it produced is still in the store."""
        st = self.get(url)
        if st is None or not (st.etag or st.last_modified) or st.status in ("failed", "fetched"):
            return None, None
        if not st.snapshot or not (self.root / st.snapshot).is_file():
            return None, None
        if st.doc_id:
            if not self.store.document_stored(st.doc_id):
                return None, None
        return st.etag, st.last_modified

    def rows(self, kind: str | None = None) -> list[dict]:
        return self.store.collect_rows(kind)

    def record_run(self, started: float, summary: dict) -> None:
        self.store.record_collect_run(started, summary)

    # --- snapshots ------------------------------------------------------------------------------
    @staticmethod
    def key(url: str) -> str:
        return hashlib.sha256(url.encode("utf-8")).hexdigest()[:32]

    def snapshot_name(self, url: str, content_type: str) -> str:
        ext = {"text/html": "html", "application/xhtml+xml": "html", "application/pdf": "pdf",
               "text/plain": "txt"}.get(content_type, "bin")
        k = self.key(url)
        return f"pages/{k[:2]}/{k}.{ext}"

    def write_snapshot(self, name: str, body: bytes) -> None:
        path = self.root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(path.suffix + ".tmp")
        tmp.write_bytes(body)
        tmp.replace(path)  # atomic: a crash never leaves half a snapshot

    def read_snapshot(self, name: str) -> bytes:
        return (self.root / name).read_bytes()

    def write_record(self, name: str, record: dict) -> None:
        path = (self.root / name).with_suffix(".json")
        tmp = path.with_suffix(".json.tmp")
        tmp.write_text(json.dumps(record, ensure_ascii=False, indent=1), encoding="utf-8")
        tmp.replace(path)
