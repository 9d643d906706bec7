"""The ingestion job: sources → read → extract → normalise → chunk → embed → store, with a report.

Upserts by document hash, as llama-index's docstore strategy: a document's id is the hash of its
normalised text, so an unchanged corpus writes nothing, a changed file replaces its old chunks,
and the same text arriving from two places is stored once.
"""
from __future__ import annotations

import hashlib
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterable

from ingestion.chunk import chunk_text
from ingestion.dating import date_document
from ingestion.embed import embed_key, embed_texts, embed_with_cache, embedding_text
from ingestion.enrich import Enrichment
from ingestion.extract import Extracted
from ingestion.fence import FenceUnavailable, StoppedByFence, extract_fenced, while_waiting
from ingestion.metadata import normalise_meta, read_sidecar
from ingestion.normalize import clean_document, detect_language
from ingestion.read import SkipFile, read_file
from ingestion.sources import discover
from ingestion.write import PreparedDocument, StoreWriter
from veille.config import Settings, get_settings
from veille.numbers import decimal
from veille.embeddings import get_embedder
from veille.progress import ingest_progress
from veille.store import Store, get_store


@dataclass
class Outcome:
    source: str
    status: str  # added | updated | unchanged | skipped | failed | removed
    reason: str = ""
    doc_id: str = ""
    chunks: int = 0


@dataclass
class IngestReport:
    outcomes: list[Outcome] = field(default_factory=list)
    recovered: int = 0
    seconds: float = 0.0
    embed_seconds: float = 0.0
    embedded: int = 0  # passages the model computed
    reused: int = 0  # passages whose stored vector was reused (embedding cache)
    enrich_seconds: dict = field(default_factory=dict)  # entities, near_duplicates
    enriched: int = 0  # stored documents read again by the enrichment stages (backfill)
    warnings: list[str] = field(default_factory=list)

    def count(self, status: str) -> int:
        return sum(1 for o in self.outcomes if o.status == status)

    def duplicates(self) -> list[Outcome]:
        """Documents kept once because their text is already there (« pièce jointe identique à … »)."""
        return [o for o in self.outcomes if o.status == "unchanged" and o.reason]

    @property
    def chunks_written(self) -> int:
        return sum(o.chunks for o in self.outcomes if o.status in ("added", "updated"))

    @property
    def documents_written(self) -> int:
        return self.count("added") + self.count("updated")

    def as_dict(self) -> dict:
        return {
            **{s: self.count(s) for s in ("added", "updated", "unchanged", "skipped", "failed", "removed")},
            "chunks_written": self.chunks_written, "recovered": self.recovered,
            "seconds": round(self.seconds, 3), "embed_seconds": round(self.embed_seconds, 3),
            "embedded": self.embedded, "reused": self.reused,
            **{f"{k}_seconds": round(v, 3) for k, v in self.enrich_seconds.items()}, "enriched": self.enriched,
            "warnings": list(self.warnings),
            "problems": [{"source": o.source, "status": o.status, "reason": o.reason}
                         for o in self.outcomes if o.status in ("skipped", "failed")],
            "cut": [{"source": o.source, "reason": o.reason}
                    for o in self.outcomes if o.status in ("added", "updated") and o.reason],
            "duplicates": [{"source": o.source, "reason": o.reason} for o in self.duplicates()],
        }


def content_id(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:20]


@dataclass
class SourceItem:
    """Something to ingest: a file, or text already fetched (web collection)."""
    source: str
    load: Callable[[], tuple[Extracted, dict]]  # -> (extracted text + format metadata, extra metadata)
    size: int | None = None
    mtime: float | None = None
    file_hash: str | None = None
    file_time: float | None = None  # when the file was last changed, as evidence of its date (None: no evidence)


def prepare(source: str, extracted: Extracted, extra_meta: dict, settings: Settings,
            file_time: float | None = None) -> PreparedDocument:
    """``file_time``: the modification time of a local file, the last evidence of its date (ingestion/dating.py)."""
    text, pages, headings = clean_document(extracted.text, extracted.pages)
    if len(text.split()) < 3:
        raise SkipFile(extracted.cut or "texte vide après extraction")
    meta = {**extracted.meta, **extra_meta}
    dating = date_document(text, extracted.meta, extra_meta, file_time)
    meta["date"], meta["date_source"] = dating.date, dating.source
    meta.setdefault("title", _default_title(text, source))
    meta.setdefault("source", meta.get("url") or source)
    meta = normalise_meta(meta)
    meta["language"] = extra_meta.get("language") or detect_language(text)
    chunks = chunk_text(text, settings.chunk_tokens, settings.chunk_overlap, headings)
    cut = extracted.cut
    if len(chunks) > settings.document_max_passages:  # what one document may cost the embedder
        # The limit that cut the most is the one named (the one to raise).
        cut = (f"document coupé : seuls les {decimal(settings.document_max_passages, 0)} premiers passages sur "
               f"{decimal(len(chunks), 0)}{' lus' if cut else ''} sont indexés "
               f"(réglage VEILLE_DOCUMENT_MAX_PASSAGES)")
        chunks = chunks[:settings.document_max_passages]
        text = text[:chunks[-1].end]  # what is stored (and analysed for entities) is what is indexed
        pages = [start for start in pages if start < len(text)]
    return PreparedDocument(doc_id=content_id(text), text=text, meta=meta, chunks=chunks, pages=pages, cut=cut)


# Metadata a container's sidecar or collection defaults give its parts too (the audience above all);
# what names one document (title, date, source …) stays with the container.
_OWN_KEYS = {"title", "date", "source", "url", "author", "language"}


def documents_of(source: str, extracted: Extracted, extra: dict):
    """(source, extracted or None, reason, extra metadata) for a file and every document inside it:
    ``<file>#<part>``, nested parts as ``<file>#<part>/<part>``. A container without text of its own
    (a mailbox) yields only its parts."""
    inherited = {k: v for k, v in extra.items() if k not in _OWN_KEYS}

    def walk(src: str, ext: Extracted, meta: dict, separator: str):
        is_document = bool(ext.text.strip()) or not ext.parts
        if is_document:
            yield src, ext, "", meta
        for part in ext.parts:
            child = f"{src}{separator}{part.key}"
            child_meta = {**inherited, "source": child}
            if is_document:
                child_meta["parent"] = src
            if part.extracted is None:
                yield child, None, part.reason, child_meta
            else:
                yield from walk(child, part.extracted, child_meta, "/")

    yield from walk(source, extracted, extra, "#")


def container_of(source: str) -> str:
    """The file (or URL) a part source comes from: ``box.mbox#message-2/x.csv`` → ``box.mbox``."""
    return source.rsplit("#", 1)[0] if "#" in source and not Path(source).exists() else source


def described(source: str) -> str:
    """How a report names where a text comes from: « note.txt », « la pièce jointe « note.txt » de offre.eml »,
    « le message 2 de boite.mbox » (never a server path: the file's name only)."""
    if "://" in source:
        return f"« {source} »"
    container = container_of(source)
    name = Path(container).name
    if container == source:
        return f"« {name} »"
    part = source[len(container) + 1:].rsplit("/", 1)[-1]
    if part.startswith("message-joint-"):
        return f"le message joint de « {name} »"
    if part.startswith("message-"):
        return f"le message {part.removeprefix('message-')} de « {name} »"
    return f"la pièce jointe « {part} » de « {name} »"


def duplicate_reason(source: str, first: str, stored: bool = False) -> str:
    """Why a text is not stored again: « pièce jointe identique à « note.txt » (lu dans cette ingestion) : le texte
    n'est gardé qu'une fois »; ``stored``: ``first`` was in the corpus before this ingestion."""
    head = described(source)
    kind = ("pièce jointe identique" if head.startswith("la pièce jointe") else
            "message identique" if head.startswith("le message") else "contenu identique")
    where = "déjà dans le corpus" if stored else "lu dans cette ingestion"
    return f"{kind} à {described(first)} ({where}) : le texte n'est gardé qu'une fois"


def _default_title(text: str, source: str) -> str:
    first = next((line for line in text.split("\n") if line.strip()), "")
    if first.startswith("- "):  # a table row or list item names nothing: the file does
        first = ""
    first = first.lstrip("# ").strip()
    name = source.rsplit("#", 1)[-1].rsplit("/", 1)[-1] if "#" in source else source  # a part: its own name
    return first[:120] if 0 < len(first) <= 120 else Path(name).stem


def file_items(paths: Iterable[Path], settings: Settings, report: IngestReport) -> list[SourceItem]:
    items = []
    for cand in discover(list(paths)):
        if cand.reason:
            report.outcomes.append(Outcome(str(cand.path), "skipped", cand.reason))
            continue
        items.append(_file_item(cand.path, settings))
    return items


def _file_item(path: Path, settings: Settings) -> SourceItem:
    def load() -> tuple[Extracted, dict]:
        raw = read_file(path, settings.max_file_bytes)
        return extract_fenced(raw, settings), read_sidecar(path)

    try:
        stat = path.stat()
        size, mtime = stat.st_size, stat.st_mtime
    except OSError:
        size = mtime = None
    # An upload is a copy made when it arrived: its time says nothing of the document's date.
    uploaded = settings.home.resolve() / "uploads" in path.parents
    return SourceItem(source=str(path), load=load, size=size, mtime=mtime, file_time=None if uploaded else mtime)


class Ingestor:
    """Runs the stages over source items and keeps the store consistent."""

    def __init__(self, settings: Settings | None = None, store: Store | None = None, embedder=None,
                 progress: bool = True):
        self.settings = settings or get_settings()
        self.store = store or get_store(self.settings)
        self._embedder = embedder
        self.enrichment = Enrichment(self.settings, self.store)
        self.writer = StoreWriter(self.store, on_write=self.enrichment.write)
        self.progress = progress

    @property
    def embedder(self):
        if self._embedder is None:

            self._embedder = get_embedder(self.settings)
        return self._embedder

    def ingest_paths(self, paths: Iterable[Path], prune: bool = False) -> IngestReport:
        report = IngestReport()
        paths = [Path(p).expanduser().resolve() for p in paths]
        items = file_items(paths, self.settings, report)
        self.run(items, report)
        if prune:
            self._prune(paths, {i.source for i in items}, report)
        return report

    def run(self, items: list[SourceItem], report: IngestReport | None = None) -> IngestReport:
        report = report or IngestReport()
        started = time.perf_counter()
        report.recovered = self.writer.recover()

        with ingest_progress(len(items), enabled=self.progress) as bar:
            batch: list[PreparedDocument] = []
            batch_ids: set[str] = set()

            def flush() -> None:  # written in place: the loop keeps the same list
                self._flush(batch, report, bar)
                batch.clear()
                batch_ids.clear()

            # A file still being read after a moment: what is finished before it is written meanwhile, so
            # that a slow or hostile file, or a stop, never takes the finished documents with it.
            with while_waiting(flush):
                for item in items:
                    report.outcomes.extend(self._prepare_item(item, batch, batch_ids))
                    bar.file()
                    if sum(len(d.chunks) for d in batch) >= self.settings.ingest_batch_chunks:
                        flush()
            flush()
        self._backfill(report)
        report.enrich_seconds = dict(self.enrichment.seconds)
        report.warnings.extend(self.enrichment.warnings)
        report.seconds = time.perf_counter() - started
        self._record(report)
        return report

    def _prepare_item(self, item: SourceItem, batch: list[PreparedDocument], batch_ids: set[str]) -> list[Outcome]:
        known = self.writer.source_row(item.source)
        rows = ([known] if known else []) + self.writer.part_rows(item.source)
        if (rows and item.size is not None and all(r["state"] == "done" and r["size"] == item.size
                                                   and r["mtime"] == item.mtime and r["date_source"] is not None
                                                   for r in rows)):
            return [Outcome(r["source"], "unchanged", doc_id=r["doc_id"]) for r in rows]
        refused = self.store.refused_file(item.source) if item.size is not None else None
        if refused is not None and (refused["size"], refused["mtime"]) == (item.size, item.mtime) \
                and refused["max_seconds"] >= self.settings.extract_max_seconds \
                and refused["max_memory"] >= self.settings.extract_max_memory:
            return [Outcome(item.source, "skipped", f"{refused['reason']} (déjà refusé ; relu s'il change ou si une "
                                                    f"limite est relevée)")]
        try:
            extracted, extra = item.load()
            found = list(documents_of(item.source, extracted, extra))
            if refused is not None:  # read at last: no longer remembered as refused
                self.store.forget_refused(item.source)
        except StoppedByFence as exc:  # costly to try: not tried again while the file stays the same
            for row in rows:
                self.writer.remove_source(row["source"])
            if item.size is not None:
                self.store.remember_refused(item.source, item.size, item.mtime, str(exc),
                                            self.settings.extract_max_seconds, self.settings.extract_max_memory)
            return [Outcome(item.source, "skipped", str(exc))]
        except SkipFile as exc:
            for row in rows:  # the file became unusable: its old documents must not linger
                self.writer.remove_source(row["source"])
            return [Outcome(item.source, "skipped", str(exc))]
        except FenceUnavailable as exc:  # the machine's fault, not the file's: its documents stay
            return [Outcome(item.source, "failed", f"lecture impossible : {exc}")]
        except Exception as exc:  # noqa: BLE001 - one bad file must not stop the run
            return [Outcome(item.source, "failed", f"erreur inattendue : {type(exc).__name__}: {exc}")]
        by_source = {r["source"]: r for r in rows}
        outcomes = []
        for source, ext, reason, meta in found:
            previous = by_source.pop(source, None)
            if ext is None:
                if previous:
                    self.writer.remove_source(source)
                outcomes.append(Outcome(source, "skipped", reason))
                continue
            outcome = self._prepare_document(item, source, ext, meta, previous, batch, batch_ids)
            if outcome is not None:
                outcomes.append(outcome)
        for source in by_source:  # a message or attachment the file no longer holds
            self.writer.remove_source(source)
            outcomes.append(Outcome(source, "removed", "ne figure plus dans le fichier"))
        return outcomes

    def _prepare_document(self, item: SourceItem, source: str, extracted: Extracted, extra: dict, known,
                          batch: list[PreparedDocument], batch_ids: set[str]) -> Outcome | None:
        try:
            doc = prepare(source, extracted, extra, self.settings, item.file_time)
            if known and doc.meta.get("date_source") != "user":
                self._keep_corrected_date(doc, known["doc_id"])
        except SkipFile as exc:
            if known:
                self.writer.remove_source(source)
            return Outcome(source, "skipped", str(exc))
        except Exception as exc:  # noqa: BLE001 - one bad document must not stop the run
            return Outcome(source, "failed", f"erreur inattendue : {type(exc).__name__}: {exc}")
        info = {"source": source, "size": item.size, "mtime": item.mtime, "file_hash": doc.doc_id}
        if self.writer.document_done(doc.doc_id):
            if self.store.dating(doc.doc_id)[1] is None:  # stored before dates had their evidence: dated anew
                self.store.set_date(doc.doc_id, doc.meta.get("date"), doc.meta["date_source"])
            previous = self.writer.link_source(doc.doc_id, info)
            first = (self.store.document(doc.doc_id) or {}).get("source") or ""
            same = "" if previous or not first or first == source else duplicate_reason(source, first, stored=True)
            return Outcome(source, "unchanged" if previous in (None, doc.doc_id) else "updated",
                           reason=same or ("" if previous else "contenu déjà présent (doublon)"), doc_id=doc.doc_id)
        for pending in batch:
            if pending.doc_id == doc.doc_id:  # same text twice in one run: stored once
                pending.sources.append(info)
                return Outcome(source, "unchanged", duplicate_reason(source, pending.sources[0]["source"]),
                               doc_id=doc.doc_id)
        doc.sources.append(info)
        doc.meta["_status"] = "updated" if known else "added"
        batch.append(doc)
        batch_ids.add(doc.doc_id)
        return None

    def _keep_corrected_date(self, doc: PreparedDocument, previous: str) -> None:
        """A changed file keeps the date a person set on its previous version (``veille date``, the Documents tab)."""
        date, source = self.store.dating(previous)
        if source == "user":
            doc.meta["date"], doc.meta["date_source"] = date, source

    def _flush(self, batch: list[PreparedDocument], report: IngestReport, bar) -> None:
        if not batch:
            return
        texts = [embedding_text(d.meta.get("title", ""), c) for d in batch for c in d.chunks]
        model = f"{self.settings.embedder}|{self.settings.embed_quantize}"
        keys = [embed_key(model, t) for t in texts]
        bar.expect_chunks(len(texts))  # the passages bar gets a total, hence a time left
        t0 = time.perf_counter()
        if self.settings.embed_cache == "off":
            vectors = embed_texts(self.embedder, texts, self.settings.embed_batch_size, progress=bar.chunks)
            report.embedded += len(texts)
        else:
            result = embed_with_cache(lambda: self.embedder, texts, keys, self.store.cached_vectors,
                                      self.settings.embed_batch_size, progress=bar.chunks)
            vectors = result.vectors
            report.embedded += result.embedded
            report.reused += result.reused
        report.embed_seconds += time.perf_counter() - t0
        offset = 0
        for doc in batch:
            doc.embeddings = vectors[offset:offset + len(doc.chunks)]
            doc.embed_keys = keys[offset:offset + len(doc.chunks)]
            offset += len(doc.chunks)
        statuses = [doc.meta.pop("_status") for doc in batch]
        bar.stage("Entités et quasi-doublons")
        self.enrichment.prepare(batch)
        bar.stage("Fichiers lus", quiet=True)
        self.writer.write(batch)
        for doc, status in zip(batch, statuses):
            report.outcomes.append(Outcome(doc.sources[0]["source"], status, reason=doc.cut, doc_id=doc.doc_id,
                                           chunks=len(doc.chunks)))

    def _backfill(self, report: IngestReport) -> None:
        """Documents stored before the enrichment stages existed get their entities and cluster now; a failure
        there is reported, never raised (the documents themselves are stored and searchable)."""
        try:
            report.enriched = self.enrichment.backfill()
        except Exception as exc:  # noqa: BLE001
            report.warnings.append(f"entités et quasi-doublons non calculés : {type(exc).__name__}: {exc}")

    def _prune(self, roots: list[Path], seen: set[str], report: IngestReport) -> None:
        for source, _doc_id in self.store.source_documents():
            if "://" in source:
                continue
            path = Path(container_of(source))
            under_root = any(path == r or r in path.parents for r in roots)
            if (under_root and str(path) not in seen) or not path.exists():
                self.writer.remove_source(source)
                report.outcomes.append(Outcome(source, "removed", "fichier disparu"))

    def _record(self, report: IngestReport) -> None:
        self.store.record_ingestion(time.time() - report.seconds, report.as_dict())


def ingest(paths: Iterable[Path], prune: bool = False, settings: Settings | None = None,
           progress: bool = True) -> IngestReport:
    return Ingestor(settings, progress=progress).ingest_paths(paths, prune=prune)
