"""The collection job: list pages per source → fetch politely → snapshot → the ingestion stages.

Fetching is async (many pages in flight); extraction, embedding and writing then run through the
same ``Ingestor`` as files, so dedup (by canonical URL and by content hash) and replacement of
changed documents behave exactly as for ``veille ingest``.
"""
from __future__ import annotations

import asyncio
import hashlib
import json
import time
from dataclasses import dataclass, field
from pathlib import Path

from ingestion.collect.fetcher import Fetcher, FetchResult
from ingestion.collect.robots import RobotsPolicy
from ingestion.collect.sources import Page, Source, SourcesError, parse_feed, parse_sitemap
from ingestion.collect.state import CollectState
from ingestion.collect.urls import canonical_url, declared_canonical
from ingestion.extract import Extracted
from ingestion.fence import extract_fenced
from ingestion.formats.base import bounded
from ingestion.formats.mime import suffix_for
from ingestion.pipeline import Ingestor, IngestReport, SourceItem
from ingestion.read import RawFile, decode_text
from veille.config import Settings, get_settings
from veille.progress import make_progress

HTML_TYPES = {"text/html", "application/xhtml+xml"}
PAGE_TYPES = HTML_TYPES | {"application/pdf", "text/plain", ""}
MAX_SITEMAPS = 50  # sitemap files followed per source (indexes nest)
STATUSES = ("new", "changed", "unchanged", "skipped", "failed")


def _list_type(content_type: str) -> bool:
    return (not content_type or "xml" in content_type or content_type.startswith("text/")
            or content_type in ("application/gzip", "application/x-gzip", "application/octet-stream"))


@dataclass
class PageResult:
    url: str
    source: str
    status: str  # new | changed | unchanged | skipped | failed
    reason: str = ""
    http_status: int | None = None
    doc_id: str = ""
    downloaded: bool = False  # a body came back (HTTP 200)


@dataclass
class CollectReport:
    pages: list[PageResult] = field(default_factory=list)
    sources: list[str] = field(default_factory=list)
    timings: dict[str, float] = field(default_factory=dict)  # fetch, extract, embed, store (seconds)
    requests: int = 0
    conditional_requests: int = 0
    ingest: IngestReport | None = None
    seconds: float = 0.0

    def counts(self, source: str | None = None) -> dict[str, int]:
        pages = [p for p in self.pages if source is None or p.source == source]
        out = {"fetched": sum(p.downloaded for p in pages)}
        out.update({s: sum(p.status == s for p in pages) for s in STATUSES})
        return out

    def as_dict(self) -> dict:
        return {"counts": self.counts(), "per_source": {s: self.counts(s) for s in self.sources},
                "requests": self.requests, "conditional_requests": self.conditional_requests,
                "timings": {k: round(v, 3) for k, v in self.timings.items()}, "seconds": round(self.seconds, 3),
                "problems": [{"url": p.url, "source": p.source, "status": p.status, "reason": p.reason}
                             for p in self.pages if p.status in ("skipped", "failed")]}


@dataclass
class _Fetched:
    page: Page
    key: str  # canonical listed URL (state row)
    canonical: str  # identity given to the ingestion
    final_url: str
    content_type: str
    snapshot: str
    result: PageResult


def sources_from_urls(urls: list[str], metadata: dict | None = None) -> list[Source]:
    return [Source(name="ligne de commande", kind="url", urls=list(urls), metadata=metadata or {})]


class Collector:
    def __init__(self, settings: Settings | None = None, embedder=None, progress: bool = True):
        self.settings = settings or get_settings()
        self.state = CollectState(self.settings)
        self.embedder = embedder
        self.progress = progress
        self._extract_seconds = 0.0

    # --- public -----------------------------------------------------------------------------------
    def run(self, sources: list[Source]) -> CollectReport:
        report = CollectReport(sources=[s.name for s in sources])
        started, t0 = time.time(), time.perf_counter()
        fetched = asyncio.run(self._fetch_all(sources, report))
        report.timings["fetch"] = time.perf_counter() - t0
        self._ingest(fetched, report)
        report.seconds = time.perf_counter() - t0
        self.state.record_run(started, report.as_dict())
        return report

    def reextract(self, source_names: list[str] | None = None) -> CollectReport:
        """Extract and ingest again from the stored snapshots, without any request."""
        report = CollectReport()
        t0 = time.perf_counter()
        todo = []
        for row in self.state.rows(kind="page"):
            if not row["snapshot"] or not (self.state.root / row["snapshot"]).is_file():
                continue
            if source_names and row["source_name"] not in source_names:
                continue
            if row["source_name"] not in report.sources:
                report.sources.append(row["source_name"])
            result = PageResult(row["url"], row["source_name"], "unchanged")
            report.pages.append(result)
            source = Source(row["source_name"], "url", [row["url"]], metadata=self._stored_defaults(row))
            todo.append(_Fetched(Page(row["url"], source), row["url"], row["canonical"] or row["url"],
                                 row["final_url"] or row["url"], row["content_type"] or "", row["snapshot"], result))
        report.timings["fetch"] = 0.0
        self._ingest(todo, report)
        report.seconds = time.perf_counter() - t0
        return report

    # --- fetching -----------------------------------------------------------------------------------
    async def _fetch_all(self, sources: list[Source], report: CollectReport) -> list[_Fetched]:

        self._claimed: set[str] = set()
        self.robots = RobotsPolicy(self._load_robots)

        def delay_for(netloc: str) -> float:
            return max(self.settings.collect_delay, self.robots.crawl_delay(netloc))

        fetched: list[_Fetched] = []
        async with Fetcher(self.settings, robots=self.robots.refusal, delay_for=delay_for) as fetcher:
            self.fetcher = fetcher
            with make_progress("pages", self.progress) as progress:
                await asyncio.gather(*(self._run_source(s, report, fetched, progress) for s in sources))
        report.requests = fetcher.requests
        report.conditional_requests = self._conditional
        return fetched

    _conditional = 0

    async def _fetch(self, url: str, etag=None, last_modified=None, **kw) -> FetchResult:
        res = await self.fetcher.fetch(url, etag, last_modified, **kw)
        self._conditional += sum(res.conditional)
        return res

    async def _run_source(self, source: Source, report: CollectReport, fetched: list, progress) -> None:
        task = progress.add_task(source.name, total=None, unit="pages")
        pages = await self._discover(source, report)
        progress.update(task, total=len(pages))

        async def one(page: Page) -> None:
            await self._fetch_page(page, report, fetched)
            progress.advance(task)

        await asyncio.gather(*(one(p) for p in pages))

    async def _list_body(self, url: str, source: Source, kind: str) -> bytes:
        """A sitemap or feed body, conditionally fetched: on 304 the stored copy is reused."""
        key = canonical_url(url)
        etag, last_modified = self.state.usable_validators(key)
        res = await self._fetch(url, etag, last_modified, accept=_list_type)
        if res.not_modified:
            self.state.record(key, source.name, kind, "unchanged", http_status=304, error=None)
            return self.state.read_snapshot(self.state.get(key).snapshot)
        if not res.ok:
            reason = res.error or res.skipped or "échec"
            self.state.record(key, source.name, kind, "failed", http_status=res.status, error=reason)
            raise SourcesError(reason)
        name = self.state.snapshot_name(key, "bin").replace(".bin", ".xml")
        self.state.write_snapshot(name, res.body)
        self.state.record(key, source.name, kind, "changed", http_status=res.status, error=None, etag=res.etag,
                          last_modified=res.last_modified, snapshot=name, content_type=res.content_type,
                          final_url=res.final_url, last_change=time.time())
        return res.body

    async def _load_robots(self, url: str) -> tuple[int | None, str]:
        key = canonical_url(url)
        etag, last_modified = self.state.usable_validators(key)
        res = await self._fetch(url, etag, last_modified, check_robots=False)
        if res.not_modified:
            self.state.record(key, "(robots.txt)", "robots", "unchanged", http_status=304)
            return 200, self.state.read_snapshot(self.state.get(key).snapshot).decode("utf-8", errors="replace")
        if res.ok:
            name = self.state.snapshot_name(key, "text/plain")
            self.state.write_snapshot(name, res.body)
            self.state.record(key, "(robots.txt)", "robots", "changed", http_status=res.status, etag=res.etag,
                              last_modified=res.last_modified, snapshot=name, error=None)
            return 200, res.body.decode("utf-8", errors="replace")
        self.state.record(key, "(robots.txt)", "robots", "failed", http_status=res.status, error=res.error)
        if res.status is not None and 400 <= res.status < 500:
            return res.status, ""
        return None, ""

    async def _discover(self, source: Source, report: CollectReport) -> list[Page]:
        pages: list[Page] = []
        try:
            if source.kind in ("url", "url-list"):
                pages = [Page(u, source) for u in source.urls]
            elif source.kind == "sitemap":
                queue, seen = list(source.urls), set()
                while queue and len(seen) < MAX_SITEMAPS and len(pages) < source.max_pages:
                    sitemap = queue.pop(0)
                    if sitemap in seen:
                        continue
                    seen.add(sitemap)
                    found, nested = parse_sitemap(await self._list_body(sitemap, source, "sitemap"), sitemap)
                    pages += [Page(u, source) for u in found]
                    queue += nested
            else:  # rss / atom
                for feed in source.urls:
                    entries = parse_feed(await self._list_body(feed, source, "feed"), feed)
                    pages += [Page(u, source, hints) for u, hints in entries]
        except SourcesError as exc:
            report.pages.append(PageResult(source.urls[0], source.name, "failed", f"liste de pages : {exc}"))
        out = []
        for page in pages:
            key = canonical_url(page.url)
            if key in self._claimed or not source.wants(page.url):
                continue
            self._claimed.add(key)
            out.append(page)
            if len(out) >= source.max_pages:
                break
        return out

    async def _fetch_page(self, page: Page, report: CollectReport, fetched: list[_Fetched]) -> None:
        key = canonical_url(page.url)
        name = page.source.name
        etag, last_modified = self.state.usable_validators(key)
        res = await self._fetch(page.url, etag, last_modified,
                                accept=lambda ct: ct in PAGE_TYPES or suffix_for(ct, page.url) is not None)
        result = PageResult(page.url, name, "unchanged", http_status=res.status)
        report.pages.append(result)
        if res.error or res.skipped:
            result.status = "failed" if res.error else "skipped"
            result.reason = res.error or res.skipped
            self.state.record(key, name, "page", result.status, http_status=res.status, error=result.reason,
                              final_url=res.final_url)
            return
        if res.not_modified:
            result.reason = "non modifiée (HTTP 304)"
            self.state.record(key, name, "page", "unchanged", http_status=304, error=None)
            return
        result.downloaded = True
        content_type = res.content_type or ("application/pdf" if res.body[:5] == b"%PDF-" else "text/html")
        body_hash = hashlib.sha256(res.body).hexdigest()
        previous = self.state.store.collect_previous(key)
        validators = dict(etag=res.etag, last_modified=res.last_modified, http_status=res.status,
                          final_url=res.final_url, content_type=content_type, error=None)
        if previous and previous["body_hash"] == body_hash:  # same bytes again (server without validators)
            result.reason, result.doc_id = "contenu identique", previous["doc_id"]
            self.state.record(key, name, "page", "unchanged", **validators)
            return
        snapshot = self.state.snapshot_name(key, content_type)
        self.state.write_snapshot(snapshot, res.body)
        canonical = (declared_canonical(res.body, res.final_url) if content_type in HTML_TYPES else None) \
            or canonical_url(res.final_url)
        self.state.record(key, name, "page", "fetched", snapshot=snapshot, body_hash=body_hash,
                          canonical=canonical, **validators)
        fetched.append(_Fetched(page, key, canonical, res.final_url, content_type, snapshot, result))

    # --- ingestion ------------------------------------------------------------------------------
    def _stored_defaults(self, row: dict) -> dict:
        path = (self.state.root / row["snapshot"]).with_suffix(".json")
        try:
            return json.loads(path.read_text(encoding="utf-8")).get("defaults", {})
        except (OSError, ValueError):
            return {}

    def _item(self, f: _Fetched) -> SourceItem:
        def load() -> tuple[Extracted, dict]:
            t0 = time.perf_counter()
            try:
                body = self.state.read_snapshot(f.snapshot)
                suffix = suffix_for(f.content_type, f.final_url)
                # Read behind the fence like any file: a hostile download costs its own time and memory only.
                if f.content_type == "text/plain":
                    extracted = bounded(Extracted(text=decode_text(body)))
                else:  # an office file, a mailbox, a scan … by its type; a page by trafilatura with its URL
                    raw = RawFile(path=Path("document" + (suffix or ".html")), data=body, size=len(body),
                                  mtime=time.time())
                    extracted = extract_fenced(raw, self.settings, url=None if suffix else f.final_url)
                for key, value in f.page.hints.items():  # feed title/date when the page lacks them
                    extracted.meta.setdefault(key, value)
                if f.page.hints.get("date") and extracted.meta.get("date_source") not in ("user", "page", "message"):
                    # the feed's publication date outranks a downloaded file's properties (ingestion/dating.py)
                    extracted.meta.update(date=f.page.hints["date"], date_source="page")
                extra = {**f.page.source.metadata, "url": f.canonical, "source": f.canonical,
                         "provenance": f.page.source.name}
                self.state.write_record(f.snapshot, {
                    "url": f.page.url, "final_url": f.final_url, "canonical": f.canonical,
                    "content_type": f.content_type, "source": f.page.source.name, "extracted_at": time.time(),
                    "defaults": f.page.source.metadata, "meta": extracted.meta, "text": extracted.text})
                return extracted, extra
            finally:
                self._extract_seconds += time.perf_counter() - t0

        return SourceItem(source=f.canonical, load=load)

    def _ingest(self, fetched: list[_Fetched], report: CollectReport) -> None:
        by_canonical: dict[str, _Fetched] = {}
        for f in fetched:
            if f.canonical in by_canonical:  # two listed URLs, one page: ingested once
                f.result.status, f.result.reason = "unchanged", f"même page que {by_canonical[f.canonical].page.url}"
                continue
            by_canonical[f.canonical] = f
        self._extract_seconds = 0.0
        t0 = time.perf_counter()
        if by_canonical:
            ingestor = Ingestor(self.settings, embedder=self.embedder, progress=self.progress)
            report.ingest = ingestor.run([self._item(f) for f in by_canonical.values()])
            if self.embedder is None:
                self.embedder = ingestor._embedder
            status_map = {"added": "new", "updated": "changed", "unchanged": "unchanged", "skipped": "skipped",
                          "failed": "failed"}
            for outcome in report.ingest.outcomes:
                f = by_canonical.get(outcome.source)
                if f is None:
                    continue
                f.result.status = status_map.get(outcome.status, outcome.status)
                f.result.reason = outcome.reason or f.result.reason
                f.result.doc_id = outcome.doc_id
                self.state.record(f.key, f.page.source.name, "page", f.result.status, doc_id=outcome.doc_id or None,
                                  error=outcome.reason or None,
                                  **({"last_change": time.time()} if f.result.status in ("new", "changed") else {}))
        total = time.perf_counter() - t0
        embed = report.ingest.embed_seconds if report.ingest else 0.0
        report.timings["extract"] = self._extract_seconds
        report.timings["embed"] = embed
        report.timings["store"] = max(0.0, total - embed - self._extract_seconds)


def collect(sources: list[Source], settings: Settings | None = None, progress: bool = True,
            embedder=None) -> CollectReport:
    return Collector(settings, embedder=embedder, progress=progress).run(sources)
