"""Web collection: sources file, polite fetching (httpx), safety checks, state, snapshots.

``collect(sources)`` fetches and hands pages to the same ingestion stages as files."""
from ingestion.collect.job import Collector, CollectReport, PageResult, collect, sources_from_urls
from ingestion.collect.sources import Source, SourcesError, load_sources

__all__ = ["CollectReport", "Collector", "PageResult", "Source", "SourcesError", "collect", "load_sources",
           "sources_from_urls"]
