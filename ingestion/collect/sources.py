"""The sources file (YAML): what to collect, and how to list the pages of each source.

Each source: ``name``, ``kind`` (url | url-list | sitemap | rss | atom), ``url`` or ``urls`` (or ``file``
for url-list), optional ``include`` / ``exclude`` (regular expressions searched in the URL), ``max_pages``,
and ``metadata`` (doc_type, filieres, region, tags, audience) applied to every document it yields.
See ``corpus/sources.example.yaml``.
"""
from __future__ import annotations

import gzip
import re
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urljoin

import yaml

from veille.errors import VeilleError

KINDS = ("url", "url-list", "sitemap", "rss", "atom")
META_KEYS = ("doc_type", "filieres", "region", "tags", "audience")
DEFAULT_MAX_PAGES = 500


class SourcesError(VeilleError):
    """A sources file that cannot be used; the message (French) says what to fix."""


@dataclass
class Source:
    name: str
    kind: str
    urls: list[str]
    include: list[str] = field(default_factory=list)
    exclude: list[str] = field(default_factory=list)
    metadata: dict = field(default_factory=dict)
    max_pages: int = DEFAULT_MAX_PAGES

    def wants(self, url: str) -> bool:
        if self.include and not any(re.search(p, url) for p in self.include):
            return False
        return not any(re.search(p, url) for p in self.exclude)


@dataclass
class Page:
    """A page to fetch, with what its source knows about it (feed entry title/date)."""
    url: str
    source: Source
    hints: dict = field(default_factory=dict)


def _as_list(value, what: str, name: str) -> list[str]:
    if value is None:
        return []
    if isinstance(value, str):
        return [value]
    if isinstance(value, list) and all(isinstance(v, str) for v in value):
        return value
    raise SourcesError(f"source « {name} » : « {what} » doit être une chaîne ou une liste de chaînes")


def load_sources(path: Path) -> list[Source]:
    try:
        data = yaml.safe_load(Path(path).read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise SourcesError(f"fichier de sources introuvable : {path}") from None
    except (yaml.YAMLError, UnicodeDecodeError) as exc:
        raise SourcesError(f"fichier de sources illisible ({path}) : {exc}") from None
    entries = data.get("sources") if isinstance(data, dict) else data
    if not isinstance(entries, list) or not entries:
        raise SourcesError(f"{path} : une liste « sources: » non vide est attendue")
    sources, names = [], set()
    for i, entry in enumerate(entries, 1):
        if not isinstance(entry, dict):
            raise SourcesError(f"{path} : la source n° {i} doit être un dictionnaire (name, kind, url…)")
        sources.append(parse_source(entry, Path(path).parent, default_name=f"source-{i}"))
        if sources[-1].name in names:
            raise SourcesError(f"{path} : nom de source en double « {sources[-1].name} »")
        names.add(sources[-1].name)
    return sources


def parse_source(entry: dict, base: Path, default_name: str) -> Source:
    name = str(entry.get("name") or default_name)
    kind = str(entry.get("kind") or "url").lower()
    if kind not in KINDS:
        raise SourcesError(f"source « {name} » : type « {kind} » inconnu (attendu : {', '.join(KINDS)})")
    urls = _as_list(entry.get("url"), "url", name) + _as_list(entry.get("urls"), "urls", name)
    if entry.get("file"):
        list_path = (base / str(entry["file"])).expanduser()
        try:
            urls += [l.strip() for l in list_path.read_text(encoding="utf-8").splitlines()
                     if l.strip() and not l.lstrip().startswith("#")]
        except OSError:
            raise SourcesError(f"source « {name} » : liste d'adresses introuvable ({list_path})") from None
    if not urls:
        raise SourcesError(f"source « {name} » : aucune adresse (clés « url », « urls » ou « file »)")
    include = _as_list(entry.get("include"), "include", name)
    exclude = _as_list(entry.get("exclude"), "exclude", name)
    for pattern in include + exclude:
        try:
            re.compile(pattern)
        except re.error as exc:
            raise SourcesError(f"source « {name} » : motif invalide « {pattern} » ({exc})") from None
    metadata = entry.get("metadata") or {}
    if not isinstance(metadata, dict):
        raise SourcesError(f"source « {name} » : « metadata » doit être un dictionnaire")
    unknown = set(metadata) - set(META_KEYS)
    if unknown:
        raise SourcesError(f"source « {name} » : métadonnées inconnues {sorted(unknown)} (connues : {', '.join(META_KEYS)})")
    try:
        max_pages = int(entry.get("max_pages", DEFAULT_MAX_PAGES))
    except (TypeError, ValueError):
        raise SourcesError(f"source « {name} » : « max_pages » doit être un entier") from None
    return Source(name=name, kind=kind, urls=urls, include=include, exclude=exclude, metadata=metadata,
                  max_pages=max_pages)


# --- listing pages from sitemaps and feeds -----------------------------------------------------

def parse_sitemap(body: bytes, base_url: str) -> tuple[list[str], list[str]]:
    """(page URLs, nested sitemap URLs) of a sitemap or sitemap index (gzip accepted)."""
    from defusedxml import ElementTree as ET  # XML from the web: no entity expansion bombs

    if body[:2] == b"\x1f\x8b":
        body = gzip.decompress(body)[:50 * 1024 * 1024]
    try:
        root = ET.fromstring(body)
    except Exception as exc:  # noqa: BLE001 - defusedxml/expat raise several types
        raise SourcesError(f"plan de site (sitemap) illisible : {type(exc).__name__}") from None
    pages, nested = [], []
    for el in root.iter():
        tag = el.tag.rsplit("}", 1)[-1]
        if tag in ("url", "sitemap"):
            loc = next((c.text for c in el if c.tag.rsplit("}", 1)[-1] == "loc" and c.text), None)
            if loc:
                (pages if tag == "url" else nested).append(urljoin(base_url, loc.strip()))
    return pages, nested


def parse_feed(body: bytes, base_url: str) -> list[tuple[str, dict]]:
    """(link, hints) for each entry of an RSS or Atom feed."""
    import feedparser

    feed = feedparser.parse(body)
    if feed.bozo and not feed.entries:
        raise SourcesError(f"flux RSS/Atom illisible ({type(feed.bozo_exception).__name__})")
    out = []
    for entry in feed.entries:
        link = entry.get("link")
        if not link:
            continue
        hints = {}
        if entry.get("title"):
            hints["title"] = entry["title"]
        parsed = entry.get("published_parsed") or entry.get("updated_parsed")
        if parsed:
            hints["date"] = f"{parsed.tm_year:04d}-{parsed.tm_mon:02d}-{parsed.tm_mday:02d}"
        out.append((urljoin(base_url, link), hints))
    return out
