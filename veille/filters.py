"""Search filters, applied to both retrieval branches before ranking (Chroma ``where`` and the store's SQL)."""
from __future__ import annotations

import re
from dataclasses import asdict, dataclass, field
from pathlib import PurePath, PureWindowsPath
from urllib.parse import urlparse

from veille.dates import filter_bound, format_day
from veille.entity_names import entity_key
from veille.text import slug

# Document types as users read them.
DOC_TYPE_NAMES = {"article": "article", "rapport": "rapport", "bulletin": "bulletin", "autre": "autre"}


def source_label(source: str) -> str:
    """How a source is shown: a site or URL as is (« Presse/Normandie » too), a local file — an absolute path, as
    ingestion stores it — by its name (never a server path)."""
    if not source or "://" in source:
        return source
    if "\\" in source:  # a Windows path (its separators are not this machine's)
        return PureWindowsPath(source).name
    return PurePath(source).name if source.startswith("/") else source


# A file name made by a machine (« 000_8364a93a850e761b.txt »: a counter and a hash) tells a reader nothing.
_MACHINE_STEM = re.compile(r"(?=.*[a-f])[0-9_-]*[0-9a-f]{12,}[0-9_-]*", re.IGNORECASE)
LOCAL_FILE = "fichier local"


def readable_source(source: str) -> str:
    """``source_label``, with « fichier local » instead of a machine-made file name: the document's title says
    what it is (a readable name such as « rapport-cyber-2024.pdf » is kept)."""
    label = source_label(source)
    if label and "://" not in label and _MACHINE_STEM.fullmatch(PurePath(label.split("#", 1)[0]).stem):
        return LOCAL_FILE
    return label


def safe_url(url: str | None) -> str | None:
    """A link that may be offered to a user: http(s) with a host, else None (``javascript:``, ``file:``…)."""
    if not url:
        return None
    parsed = urlparse(url)
    return url if parsed.scheme in ("http", "https") and parsed.netloc else None


@dataclass
class Filters:
    doc_types: list[str] = field(default_factory=list)
    date_from: int | None = None  # YYYYMMDD, inclusive
    date_to: int | None = None  # YYYYMMDD, inclusive
    sources: list[str] = field(default_factory=list)  # site names or source paths/URLs
    filieres: list[str] = field(default_factory=list)
    regions: list[str] = field(default_factory=list)
    languages: list[str] = field(default_factory=list)
    audience: list[str] | None = None  # None = no restriction (single-user mode)
    # Who asks (set by accounts.access.restrict): the service re-applies that account's audience
    # on every retrieval and writes the audit log. Not a filter itself.
    user: str | None = None
    doc_ids: list[str] = field(default_factory=list)  # only these documents (watches over new documents)
    # Documents mentioning every one of these entities (canonical names, see veille/entity_names.py). Chroma
    # holds no entity: the dense branch applies them through the store's SQL filter (assistant/search/retrieve.py).
    entities: list[str] = field(default_factory=list)

    @classmethod
    def from_input(cls, doc_types=(), since: str | None = None, until: str | None = None, sources=(),
                   filieres=(), regions=(), languages=(), entities=()) -> "Filters":
        """Filters from what a user typed (CLI options, the web UI's fields): labels slugged, French dates
        read (« mars 2019 »: since 1 March, until 31 March); an unreadable date raises ``DateError``."""
        return cls(doc_types=[slug(t) for t in doc_types or [] if slug(t)], date_from=filter_bound(since, end=False),
                   date_to=filter_bound(until, end=True), sources=[s for s in sources or [] if s],
                   filieres=[slug(f) for f in filieres or [] if slug(f)], regions=list(regions or []),
                   languages=list(languages or []), entities=[e.strip() for e in entities or [] if e.strip()])

    def is_empty(self) -> bool:
        return not any([self.doc_types, self.date_from, self.date_to, self.sources, self.filieres,
                        self.regions, self.languages, self.doc_ids, self.entities]) and self.audience is None

    def as_dict(self) -> dict:
        return {k: v for k, v in asdict(self).items() if v not in (None, [], "") and k != "user"}

    def describe(self) -> str:
        """The active filters in French, as shown with each answer ("" when none). A local file source is
        named by its file name: a server path is never shown."""
        day = format_day
        parts = []
        if self.doc_types:
            parts.append("type : " + ", ".join(DOC_TYPE_NAMES.get(t, t) for t in self.doc_types))
        if self.date_from and self.date_to:
            parts.append(f"période : du {day(self.date_from)} au {day(self.date_to)}")
        elif self.date_from:
            parts.append(f"période : depuis le {day(self.date_from)}")
        elif self.date_to:
            parts.append(f"période : jusqu'au {day(self.date_to)}")
        sources = [source_label(v) for v in self.sources]
        for label, values in (("source", sources), ("filière", self.filieres), ("région", self.regions),
                              ("langue", self.languages), ("entité", self.entities)):
            if values:
                parts.append(f"{label} : " + ", ".join(values))
        return " · ".join(parts)

    def chroma_where(self) -> dict | None:
        clauses: list[dict] = []
        if self.doc_types:
            clauses.append({"doc_type": {"$in": list(self.doc_types)}})
        if self.date_from:
            clauses.append({"date": {"$gte": int(self.date_from)}})
        if self.date_to:
            clauses.append({"date": {"$lte": int(self.date_to)}})
        if self.sources:
            clauses.append({"$or": [{"site": {"$in": list(self.sources)}}, {"source": {"$in": list(self.sources)}}]})
        if self.filieres:
            clauses.append(_any_flag("filiere_", self.filieres))
        if self.regions:
            clauses.append({"region": {"$in": list(self.regions)}})
        if self.languages:
            clauses.append({"language": {"$in": list(self.languages)}})
        if self.audience is not None:
            clauses.append(_any_flag("aud_", self.audience or ["__none__"]))
        if self.doc_ids:
            clauses.append({"doc_id": {"$in": list(self.doc_ids)}})
        if not clauses:
            return None
        return clauses[0] if len(clauses) == 1 else {"$and": clauses}

    def sql(self, alias: str = "d") -> tuple[str, list]:
        """WHERE fragment over the ``documents`` table and its parameters."""
        parts, params = [], []

        def among(column: str, values: list[str]) -> None:
            parts.append(f"{alias}.{column} IN ({','.join('?' * len(values))})")
            params.extend(values)

        if self.doc_types:
            among("doc_type", list(self.doc_types))
        if self.date_from:
            parts.append(f"{alias}.date_num >= ?")
            params.append(int(self.date_from))
        if self.date_to:
            parts.append(f"{alias}.date_num <= ?")
            params.append(int(self.date_to))
        if self.sources:
            marks = ",".join("?" * len(self.sources))
            parts.append(f"({alias}.site IN ({marks}) OR {alias}.source IN ({marks}))")
            params.extend(list(self.sources) * 2)
        if self.filieres:
            parts.append(f"EXISTS (SELECT 1 FROM json_each({alias}.filieres) WHERE value IN "
                         f"({','.join('?' * len(self.filieres))}))")
            params.extend(self.filieres)
        if self.regions:
            among("region", list(self.regions))
        if self.languages:
            among("language", list(self.languages))
        if self.audience is not None:
            values = self.audience or ["__none__"]
            parts.append(f"EXISTS (SELECT 1 FROM json_each({alias}.audience) WHERE value IN "
                         f"({','.join('?' * len(values))}))")
            params.extend(values)
        if self.doc_ids:
            among("doc_id", list(self.doc_ids))
        for name in self.entities:
            parts.append(f"EXISTS (SELECT 1 FROM entity_mentions em_ WHERE em_.doc_id = {alias}.doc_id "
                         "AND em_.key = ?)")
            params.append(entity_key(name))
        return (" AND ".join(parts) or "1=1"), params


def _any_flag(prefix: str, values: list[str]) -> dict:
    flags = [{f"{prefix}{v}": True} for v in values]
    return flags[0] if len(flags) == 1 else {"$or": flags}
