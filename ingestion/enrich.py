"""Enrichment stages between embedding and storing: entities (``ingestion/entities.py``) and near-duplicate
clusters (``ingestion/neardup.py``). ``prepare`` runs on a batch before it is written; ``write`` runs inside
the writer's final transaction, so a document is stored with its entities and cluster or not at all.

Documents stored before these stages existed (or while entities were turned off) are read again by
``backfill`` at the end of the next ingestion, from the text and chunks already stored.
"""
from __future__ import annotations

import time
from dataclasses import dataclass, field

from ingestion.chunk import Chunk
from ingestion.entities import EntityExtractor, mentions_for_chunks, shared_extractor
from ingestion.neardup import DEFAULT_RULE, Rule, Signature, assign_cluster, signature
from veille.config import Settings
from veille.entity_names import AliasBook
from veille.store import Store
from veille.store.entities import MentionRow

BACKFILL_BATCH = 64


@dataclass
class Enriched:
    mentions: list[MentionRow] = field(default_factory=list)
    signature: Signature | None = None


class Enrichment:
    def __init__(self, settings: Settings, store: Store, rule: Rule = DEFAULT_RULE):
        self.settings, self.store, self.rule = settings, store, rule
        self.model = settings.entities if settings.entities not in ("", "none", "0", "off") else None
        self._extractor: EntityExtractor | None = None
        self._book: AliasBook | None = None
        self.pending: dict[str, Enriched] = {}
        self.warnings: list[str] = []
        self.seconds = {"entities": 0.0, "near_duplicates": 0.0}

    @property
    def book(self) -> AliasBook:
        """The alias file, read once per run; stored mentions are re-keyed if it changed."""
        if self._book is None:
            self._book = self.store.alias_book()
        return self._book

    @property
    def extractor(self) -> EntityExtractor:
        if self._extractor is None:
            self._extractor = shared_extractor(self.book, self.model)
        return self._extractor

    def prepare(self, docs) -> None:
        """Entities and signature of each prepared document (``doc_id``, ``text``, ``chunks``, ``chunk_id``)."""
        if not docs:
            return
        t0 = time.perf_counter()
        found = [[] for _ in docs]
        if self.model:
            try:
                found = self.extractor.find([d.text for d in docs])
            except (ImportError, OSError) as exc:  # spaCy or its French model missing: store without entities
                self.warnings.append(f"entités non reconnues (modèle spaCy « {self.model} » indisponible : {exc}) ; "
                                     "elles le seront à la prochaine ingestion une fois le modèle installé")
                self.model = None
        t1 = time.perf_counter()
        for doc, mentions in zip(docs, found):
            self.pending[doc.doc_id] = Enriched(
                mentions_for_chunks(mentions, doc.chunks, doc.chunk_id, self.book) if self.model else [],
                signature(doc.text))
        self.seconds["entities"] += t1 - t0
        self.seconds["near_duplicates"] += time.perf_counter() - t1

    def write(self, doc) -> None:
        """Store what ``prepare`` found for ``doc``; called inside the writer's transaction."""
        enriched = self.pending.pop(doc.doc_id, None)
        if enriched is None:
            return
        self.store.add_entity_mentions(doc.doc_id, enriched.mentions)
        sig = enriched.signature
        cluster, similarity = (assign_cluster(self.store, doc.doc_id, sig, self.rule)
                               if self.settings.near_duplicates != "off" else (doc.doc_id, 1.0))
        self.store.save_enrichment(doc.doc_id, self.model, cluster, similarity, sig.blob(), sig.size, sig.bands())

    def backfill(self) -> int:
        """Enrich the stored documents no stage has read yet; returns how many."""
        done = 0
        while True:
            rows = self.store.documents_to_enrich(BACKFILL_BATCH, with_entities=self.model is not None)
            if not rows:
                return done
            docs = [_StoredDocument.load(self.store, r) for r in rows]
            self.prepare(docs)
            with self.store.transaction():
                for doc in docs:
                    self.store.clear_entity_mentions(doc.doc_id)
                    self.write(doc)
            done += len(docs)


@dataclass
class _StoredDocument:
    """A document already in the store, shaped like a ``PreparedDocument`` for the stages."""
    doc_id: str
    text: str
    chunks: list[Chunk]
    ids: dict[int, str]

    def chunk_id(self, chunk: Chunk) -> str:
        return self.ids[chunk.position]

    @classmethod
    def load(cls, store: Store, row) -> "_StoredDocument":
        rows = store.document_chunks(row["doc_id"])
        chunks = [Chunk(r["position"], r["char_start"], r["char_end"], "", "") for r in rows]
        return cls(row["doc_id"], row["text"], chunks, {r["position"]: r["chunk_id"] for r in rows})
