"""Stage 7 — store: write documents, chunks, vectors and lexical terms so that a crash loses nothing.

Protocol (what makes an interrupted run end like an uninterrupted one):
1. the document row is written with ``state='pending'`` (one SQLite transaction);
2. its chunk vectors are added to Chroma (ids are deterministic: ``<doc_id>-<position>``);
3. chunks, lexical terms, source links and ``state='done'`` are written in one transaction, which also
   marks ``state='deleting'`` every document this left without a source (the superseded version);
4. marked documents are deleted from Chroma, then from SQLite.
Removing a source (``remove_source``, ``--prune``) and re-pointing one (``link_source``) mark the same way,
in the transaction that changes the source. Retrieval reads ``state='done'`` only, so an old version
leaves the answers at the commit that replaces it. At the start of every run, ``recover()`` finishes
whatever a pending or marked document left behind in both stores; the files behind a pending one are
then simply ingested again.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from ingestion.chunk import Chunk, page_span
from ingestion.killpoints import kill_point
from ingestion.metadata import chunk_metadata, extra_metadata
from veille.store import Store
from veille.text import analyze


@dataclass
class PreparedDocument:
    doc_id: str
    text: str
    meta: dict
    chunks: list[Chunk]
    sources: list[dict] = field(default_factory=list)  # {source, size, mtime, file_hash}
    embeddings: np.ndarray | None = None
    pages: list[int] = field(default_factory=list)  # offset in ``text`` where each page starts (paged formats)
    embed_keys: list[str] = field(default_factory=list)  # per chunk: model + embedded text hash (embedding cache)
    cut: str = ""  # why only part of the file is indexed (a budget of ingestion/limits.py), in French

    def chunk_id(self, chunk: Chunk) -> str:
        return f"{self.doc_id}-{chunk.position:04d}"

    def chunk_pages(self, chunk: Chunk) -> tuple[int | None, int | None]:
        return page_span(self.pages, chunk.start, chunk.end)


class StoreWriter:
    """The write protocol above: the store's SQL steps (``veille/store/writes.py``) and the vector writes,
    in that order, with a kill point between every two (crash tests)."""

    def __init__(self, store: Store, on_write=None):
        """``on_write(doc)`` runs inside the final transaction of each document (enrichment stages)."""
        self.store = store
        self.on_write = on_write

    # --- reads ----------------------------------------------------------------------------------
    def source_row(self, source: str):
        return self.store.source_row(source)

    def part_rows(self, source: str) -> list:
        return self.store.part_rows(source)

    def document_done(self, doc_id: str) -> bool:
        return self.store.document_done(doc_id)

    # --- writes ---------------------------------------------------------------------------------
    def recover(self) -> int:
        """Remove every trace of documents whose write was interrupted, of documents marked for deletion
        (an update or a removal killed before the old version was dropped), of documents no source points
        at (stores written before marking existed), and of documents whose vectors are missing from this
        model's collection (another embedder chosen, a Chroma store lost): their files are then ingested
        again in this run."""
        unfinished = self.store.unfinished_documents()
        chunks = None
        if self.store.collection.count() != self.store.count_chunks():
            vector_ids = set(self.store.collection.get(include=[])["ids"])
            chunks = self.store.chunk_documents()
            unfinished |= {doc_id for chunk_id, doc_id in chunks.items() if chunk_id not in vector_ids}
            stray = vector_ids - set(chunks)
            if stray:
                self.store.collection.delete(ids=sorted(stray))
        for doc_id in sorted(unfinished):
            self._delete_everywhere(doc_id)
        return len(unfinished)

    def link_source(self, doc_id: str, info: dict) -> str | None:
        """Point a source at an already stored document; returns the document it pointed at before."""
        old, doomed = self.store.link_source(doc_id, info)
        kill_point("after_link")
        self._delete_marked(doomed)
        return old

    def write(self, docs: list[PreparedDocument]) -> None:
        if not docs:
            return
        # Where each page starts (paged formats): a cited sentence is given its own page, not its passage's.
        self.store.insert_pending([{"doc_id": d.doc_id, "meta": d.meta, "text": d.text, "n_chunks": len(d.chunks),
                                    "extra": {**extra_metadata(d.meta), **({"page_starts": d.pages}
                                                                            if len(d.pages) > 1 else {})}}
                                   for d in docs])
        kill_point("after_pending")
        self.store.vector_store.add(self._nodes(docs))
        kill_point("after_vectors")
        by_id = {d.doc_id: d for d in docs}
        on_each = (lambda doc_id: self.on_write(by_id[doc_id])) if self.on_write is not None else None
        doomed = self.store.commit_documents([{"doc_id": d.doc_id, "sources": d.sources,
                                               "chunks": [self._chunk_row(d, c, k) for c, k in
                                                          zip(d.chunks, d.embed_keys or [None] * len(d.chunks))]}
                                              for d in docs],
                                             on_each)
        kill_point("after_commit")
        self._delete_marked(doomed)

    @staticmethod
    def _chunk_row(doc: PreparedDocument, chunk: Chunk, embed_key: str | None) -> dict:
        first, last = doc.chunk_pages(chunk)
        return {"chunk_id": doc.chunk_id(chunk), "position": chunk.position, "start": chunk.start, "end": chunk.end,
                "heading": chunk.heading, "text": chunk.text, "page_start": first, "page_end": last,
                "embed_key": embed_key,
                "terms": analyze(" ".join(filter(None, [doc.meta.get("title"), chunk.heading, chunk.text])))}

    def _nodes(self, docs: list[PreparedDocument]):
        from llama_index.core.schema import NodeRelationship, RelatedNodeInfo, TextNode

        nodes = []
        for doc in docs:
            base = chunk_metadata({**doc.meta, "doc_id": doc.doc_id})
            for chunk, vector in zip(doc.chunks, doc.embeddings):
                first, last = doc.chunk_pages(chunk)
                pages = {"page_start": first, "page_end": last} if first else {}
                nodes.append(TextNode(
                    id_=doc.chunk_id(chunk), text=chunk.text, embedding=vector.tolist(),
                    start_char_idx=chunk.start, end_char_idx=chunk.end,
                    metadata={**base, "position": chunk.position, "heading": chunk.heading or "", **pages},
                    excluded_embed_metadata_keys=list(base), excluded_llm_metadata_keys=list(base),
                    relationships={NodeRelationship.SOURCE: RelatedNodeInfo(node_id=doc.doc_id)}))
        return nodes

    def _delete_marked(self, doc_ids: list[str]) -> None:
        for doc_id in doc_ids:
            self._delete_everywhere(doc_id)

    def _delete_everywhere(self, doc_id: str) -> None:
        # Out of sight first (retrieval reads 'done' only); if we die between the two stores,
        # recover() finishes the job next time.
        self.store.mark_deleting(doc_id)
        self.store.collection.delete(where={"doc_id": doc_id})
        kill_point("after_vector_delete")
        self.store.delete_document_rows(doc_id)

    def remove_source(self, source: str) -> bool:
        """Forget a source; its document goes too when no other source points at it (returns whether)."""
        doomed = self.store.unlink_source(source)
        kill_point("after_unlink")
        self._delete_marked(doomed)
        return bool(doomed)
