"""User feedback on answers (👍/👎 + comment), stored durably in SQLite under ``settings.home``.

Each row keeps what is needed to replay or judge the answer later: the question (and the standalone
form actually searched), the answer text, its sources, the filters and the configuration that produced
it. ``export_pairs`` turns rows into candidate evaluation pairs (JSONL) for the evaluation harness.
"""
from __future__ import annotations

import json
import sqlite3
import threading
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

from veille.config import Settings
from veille.db import connect

SCHEMA = """
CREATE TABLE IF NOT EXISTS feedback (
    id INTEGER PRIMARY KEY,
    created_at REAL NOT NULL,
    session TEXT,
    turn INTEGER,
    rating INTEGER NOT NULL,          -- +1 useful, -1 not useful
    comment TEXT NOT NULL DEFAULT '',
    question TEXT NOT NULL,
    standalone TEXT,
    answer TEXT NOT NULL,
    refused INTEGER NOT NULL DEFAULT 0,
    citations TEXT NOT NULL DEFAULT '[]',
    filters TEXT NOT NULL DEFAULT '{}',
    config TEXT NOT NULL DEFAULT '{}',
    UNIQUE(session, turn)             -- changing one's mind on an answer updates the same row
);
"""


@dataclass
class FeedbackRecord:
    rating: int
    question: str
    answer: str
    standalone: str | None = None
    refused: bool = False
    citations: list[dict] = field(default_factory=list)
    filters: dict = field(default_factory=dict)
    config: dict = field(default_factory=dict)
    comment: str = ""
    session: str | None = None
    turn: int | None = None
    created_at: float = 0.0
    id: int | None = None


def feedback_path(settings: Settings) -> Path:
    return settings.home / "feedback.db"


def configuration(assistant) -> dict:
    """What produced an answer: enough to tell two configurations apart in an evaluation."""
    s = assistant.settings
    return {"embedder": s.embedder, "retriever": getattr(assistant, "retriever_mode", None),
            "fusion": getattr(assistant, "fusion", None), "top_k": s.top_k,
            "refusal_threshold": s.refusal_threshold, "llm_model": s.llm_model if s.llm_base_url else None}


class FeedbackStore:
    def __init__(self, path: Path):
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._lock = threading.Lock()
        with self._connect() as conn:
            conn.executescript(SCHEMA)

    def _connect(self) -> sqlite3.Connection:
        return connect(self.path, timeout=30)

    def record(self, rec: FeedbackRecord) -> int:
        """Insert, or update the rating of the same (session, turn); the comment is kept unless given."""
        rec.created_at = rec.created_at or time.time()
        with self._lock, self._connect() as conn:
            cur = conn.execute(
                "INSERT INTO feedback(created_at, session, turn, rating, comment, question, standalone, answer, "
                "refused, citations, filters, config) VALUES(?,?,?,?,?,?,?,?,?,?,?,?) "
                "ON CONFLICT(session, turn) DO UPDATE SET rating=excluded.rating, created_at=excluded.created_at, "
                "comment=CASE WHEN excluded.comment != '' THEN excluded.comment ELSE feedback.comment END "
                "RETURNING id",
                (rec.created_at, rec.session, rec.turn, int(rec.rating), rec.comment or "", rec.question,
                 rec.standalone, rec.answer, int(rec.refused), json.dumps(rec.citations, ensure_ascii=False),
                 json.dumps(rec.filters, ensure_ascii=False), json.dumps(rec.config, ensure_ascii=False)))
            rec.id = cur.fetchone()[0]
        conn.close()
        return rec.id

    def comment(self, feedback_id: int, text: str) -> bool:
        with self._lock, self._connect() as conn:
            changed = conn.execute("UPDATE feedback SET comment=? WHERE id=?", (text.strip(), feedback_id)).rowcount
        conn.close()
        return bool(changed)

    def all(self) -> list[FeedbackRecord]:
        conn = self._connect()
        try:
            rows = conn.execute("SELECT * FROM feedback ORDER BY id").fetchall()
        finally:
            conn.close()
        out = []
        for row in rows:
            d = dict(row)
            for key in ("citations", "filters", "config"):
                d[key] = json.loads(d[key] or ("[]" if key == "citations" else "{}"))
            d["refused"] = bool(d["refused"])
            out.append(FeedbackRecord(**d))
        return out


def evaluation_pair(rec: FeedbackRecord) -> dict:
    """A candidate evaluation pair: a liked, non-refused answer proposes its sources as gold; anything
    else is kept for a human to write the expected answer (``needs_review``)."""
    positive = rec.rating > 0
    gold = positive and not rec.refused
    return {
        "id": f"feedback-{rec.id}",
        "question": rec.question,
        "standalone_question": rec.standalone,
        "answer": rec.answer if gold else None,
        "gold_doc_ids": sorted({c.get("doc_id") for c in rec.citations if c.get("doc_id")}) if gold else [],
        "gold_ids": [c.get("chunk_id") for c in rec.citations if c.get("chunk_id")] if gold else [],
        "expect_refusal": None,
        "rating": "positive" if positive else "negative",
        "comment": rec.comment,
        "needs_review": not gold,
        "observed": {"answer": rec.answer, "refused": rec.refused,
                     "sources": [{k: c.get(k) for k in ("n", "title", "doc_id", "chunk_id", "source")}
                                 for c in rec.citations]},
        "filters": rec.filters,
        "config": rec.config,
        "created_at": rec.created_at,
    }


def export_pairs(store: FeedbackStore, only: str | None = None) -> list[dict]:
    pairs = [evaluation_pair(r) for r in store.all()]
    if only == "positive":
        pairs = [p for p in pairs if p["rating"] == "positive"]
    elif only == "negative":
        pairs = [p for p in pairs if p["rating"] == "negative"]
    return pairs


def record_from_answer(answer, rating: int, assistant, session: str | None, turn: int | None,
                       comment: str = "") -> FeedbackRecord:
    return FeedbackRecord(rating=rating, question=answer.question, standalone=answer.standalone_question,
                          answer=answer.answer, refused=answer.refused,
                          citations=[asdict(c) for c in answer.citations], filters=dict(answer.filters),
                          config={**configuration(assistant), "mode": answer.mode}, comment=comment,
                          session=session, turn=turn)
