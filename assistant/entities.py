"""Entities for the user: the most mentioned ones with their trend, one entity's timeline (dated mentions with
the sentence that cites it, and the entities most often mentioned with it), and the names a ``--entite`` filter
accepts (an alias resolves to its canonical name; an unknown name gets close suggestions).

Everything goes through the store's SQL filter, so an account only counts and reads the documents of its
audience (``accounts.enforce`` re-reads the account, as for answers).
"""
from __future__ import annotations

import difflib
from collections import Counter
from dataclasses import asdict, dataclass, field

from accounts import enforce
from veille.config import Settings, get_settings
from veille.entity_names import LABEL_NAMES, LABELS, AliasBook, entity_key
from veille.errors import VeilleError
from veille.filters import Filters, source_label
from veille.store import Store, get_store
from veille.text import split_sentences


class EntityError(VeilleError, ValueError):
    """An entity request that cannot be honoured (French message, with close names when there are some)."""


@dataclass
class EntitySummary:
    key: str
    name: str
    label: str
    documents: int
    mentions: int
    trend: list[tuple[str, int]] = field(default_factory=list)  # (period, documents), oldest first

    def as_dict(self) -> dict:
        return asdict(self)


@dataclass
class TimelineEntry:
    doc_id: str
    chunk_id: str
    date: str | None
    title: str
    doc_type: str
    source: str
    url: str | None
    sentence: str
    surface: str

    def as_dict(self) -> dict:
        return asdict(self)


@dataclass
class Timeline:
    key: str
    name: str
    label: str
    documents: int
    mentions: int
    entries: list[TimelineEntry]
    co_mentioned: list[tuple[str, int]]  # (name, documents in common)
    total_entries: int = 0  # before ``limit``

    def as_dict(self) -> dict:
        return {**asdict(self), "entries": [e.as_dict() for e in self.entries]}


class Entities:
    """The entity queries of one store, under the alias file of its home (re-keyed when it changed)."""

    def __init__(self, settings: Settings | None = None, store: Store | None = None):
        self.settings = settings or get_settings()
        self.store = store or get_store(self.settings)
        self._book: AliasBook | None = None

    @property
    def book(self) -> AliasBook:
        if self._book is None:
            self._book = self.store.alias_book()
        return self._book

    def _filters(self, filters: Filters | None) -> Filters:
        """The asker's filters; every query starts here, after the alias file's re-keying (``book``)."""
        _ = self.book
        return enforce(self.settings, filters or Filters())

    def _labels(self, keys: list[str]) -> dict[str, str]:
        counts = self.store.entity_labels(keys)
        return {k: self.book.types.get(k) or (counts[k].most_common(1)[0][0] if counts.get(k) else "ORG")
                for k in keys}

    def names(self, keys: list[str]) -> dict[str, str]:
        surfaces = self.store.entity_surfaces([k for k in keys if k not in self.book.names])
        return {k: self.book.names.get(k) or surfaces.get(k, k) for k in keys}

    # --- the most mentioned ----------------------------------------------------------------------
    def top(self, filters: Filters | None = None, label: str | None = None, limit: int = 20) -> list[EntitySummary]:
        """The entities mentioned in the most documents within ``filters``, with their trend over the period."""
        if label is not None and label not in LABELS:
            raise EntityError(f"Type d'entité inconnu : « {label} » (possibles : {', '.join(LABELS)}).")
        filters = self._filters(filters)
        per_key: dict[str, list[int]] = {}
        for r in self.store.entity_totals(filters):
            acc = per_key.setdefault(r["key"], [0, 0])
            acc[0] = max(acc[0], r["documents"])  # a key under two labels: its documents counted once (upper bound)
            acc[1] += r["mentions"]
        labels = self._labels(list(per_key))
        keys = [k for k in per_key if label is None or labels[k] == label]
        keys = sorted(keys, key=lambda k: (-per_key[k][0], -per_key[k][1], k))[:limit]
        names = self.names(keys)
        trend = self.trend(keys, filters)
        return [EntitySummary(k, names[k], labels[k], per_key[k][0], per_key[k][1], trend.get(k, [])) for k in keys]

    def trend(self, keys: list[str], filters: Filters) -> dict[str, list[tuple[str, int]]]:
        """Dated documents per month mentioning each key (per year when the dates span more than two years),
        every period of the span listed, zeros included."""
        rows = self.store.entity_buckets(keys, filters, 7)
        years = sorted({r["bucket"][:4] for r in rows})
        width = 4 if years and int(years[-1]) - int(years[0]) >= 2 else 7
        if width == 4:
            rows = self.store.entity_buckets(keys, filters, 4)
        buckets = _span(sorted({r["bucket"] for r in rows}), width)
        counts = {(r["key"], r["bucket"]): r["documents"] for r in rows}
        return {k: [(b, counts.get((k, b), 0)) for b in buckets] for k in keys}

    # --- one entity --------------------------------------------------------------------------------
    def resolve(self, name: str, filters: Filters | None = None) -> str:
        """The key of ``name`` (an alias gives its canonical name's), or EntityError with close names."""
        key = entity_key(name or "")
        if not key:
            raise EntityError("Donnez le nom d'une entité, par exemple : veille entites \"Région Normandie\".")
        key = self.book.aliases.get(key, key)
        totals = self.store.entity_totals(self._filters(filters))
        known = Counter()
        for r in totals:
            known[r["key"]] += r["documents"]
        if key in known:
            return key
        raise EntityError(self._not_found(name, key, known))

    def _not_found(self, name: str, key: str, known: Counter) -> str:
        close = difflib.get_close_matches(key, list(known), n=5, cutoff=0.6)
        words = [w for w in key.split() if len(w) > 2]
        close += [k for k, _ in known.most_common() if k not in close and any(w in k.split() for w in words)][:5 - len(close)]
        if not close:
            return f"Aucune entité « {name} » dans les documents consultables. Voir la liste : veille entites."
        shown = ", ".join(f"« {n} »" for n in self.names(close).values())
        return f"Aucune entité « {name} » dans les documents consultables. Noms proches : {shown}."

    def timeline(self, name: str, filters: Filters | None = None, limit: int = 100, with_limit: int = 8) -> Timeline:
        filters = self._filters(filters)
        key = self.resolve(name, filters)
        rows = self.store.entity_timeline(key, filters, limit=10_000)
        entries, seen = [], set()
        for r in rows:
            sentence = _sentence_at(r["chunk_text"], r["char_start"] - r["chunk_start"])
            if (r["doc_id"], sentence) in seen:
                continue  # the same sentence naming it twice
            seen.add((r["doc_id"], sentence))
            entries.append(TimelineEntry(r["doc_id"], r["chunk_id"], r["date"], r["title"] or "",
                                         r["doc_type"] or "autre", r["site"] or source_label(r["source"] or ""),
                                         r["url"], sentence, r["surface"]))
        co = self.store.co_mentioned(key, filters, with_limit)
        co_names = self.names([r["key"] for r in co])
        return Timeline(key, self.names([key])[key], self._labels([key])[key], len({r["doc_id"] for r in rows}),
                        len(rows), entries[:limit], [(co_names[r["key"]], r["documents"]) for r in co], len(entries))

    def canonical_names(self, names: list[str], filters: Filters | None = None) -> list[str]:
        """The names a ``--entite`` filter will match (each resolved; unknown ones raise EntityError)."""
        keys = [self.resolve(n, filters) for n in names if n and n.strip()]
        shown = self.names(keys)
        return [shown[k] for k in keys]

    def of_documents(self, doc_ids: list[str], per_doc: int = 5) -> dict[str, list[tuple[str, str]]]:
        """(name, type) of each document's most mentioned entities: the chips shown on sources and items."""
        found = self.store.document_entities(doc_ids, per_doc)
        keys = sorted({k for v in found.values() for k, _ in v})
        names, labels = self.names(keys), self._labels(keys)
        return {d: [(names[k], labels[k]) for k, _ in v] for d, v in found.items()}


def _sentence_at(text: str, offset: int) -> str:
    for start, end in split_sentences(text):
        if start <= offset < end:
            return text[start:end].strip()
    return text.strip()


def _span(buckets: list[str], width: int) -> list[str]:
    """Every period from the first bucket to the last (months or years), so that a trend shows its gaps."""
    if not buckets:
        return []
    if width == 4:
        return [str(y) for y in range(int(buckets[0]), int(buckets[-1]) + 1)]
    out, (y, m) = [], map(int, buckets[0].split("-"))
    last = tuple(map(int, buckets[-1].split("-")))
    while (y, m) <= last:
        out.append(f"{y:04d}-{m:02d}")
        y, m = (y + 1, 1) if m == 12 else (y, m + 1)
    return out


def label_name(label: str) -> str:
    return LABEL_NAMES.get(label, label)
