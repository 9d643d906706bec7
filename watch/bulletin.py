"""The watch bulletin (*bulletin de veille*): per rubrique, the period's new items — one per near-duplicate
cluster, « repris par N sources » — each with its title, date, source, one or two cited key sentences and its
entities; an editorial introduction; the sources; the audience it was built for.

Built only from what the audience may see: every query goes through the store's SQL filter with the asker's
audience (``accounts.enforce``), copies of an item included. Extractive: the key sentences are copied from the
documents (``assistant.answering.compose``) and numbered once for the whole bulletin (``assistant.answering.citations``); with a
language model configured, each item also gets a summary written by the model and verified
(``watch.bulletin_summary``).
Several advisors build one bulletin together: a named draft keeps each item's choice (pinned, dropped) and
comment with its author (``veille/store/bulletins.py``); rendering is in ``watch/bulletin_render.py``.
"""
from __future__ import annotations

import calendar
import datetime as dt
import re
from dataclasses import dataclass, field

from accounts import enforce
from assistant.answering.answer import Copy
from watch.cards import DocumentCard
from assistant.answering.citation_extras import copies_of
from assistant.answering.citations import CitationNumbering
from assistant.answering.compose import select_sentences, sentence_candidates
from assistant.entities import Entities
from veille.errors import VeilleError
from veille.filters import Filters
from veille.text import analyze
from watch.bulletin_summary import summarise_items

PER_RUBRIQUE = 8
UNDATED = "Non datés"  # the section of the documents no evidence dates (ingestion/dating.py), whatever the period
UNDATED_NOTE = ("Documents sans date connue (ni date donnée, ni date dans le courriel, la page, le texte ou les "
                "propriétés du fichier) qui correspondent aux rubriques, avec leur date d'arrivée : corrigez leur date "
                "avec « veille date » ou dans l'onglet Documents.")


class BulletinError(VeilleError, ValueError):
    """A bulletin request that cannot be honoured (French message)."""


@dataclass(frozen=True)
class Period:
    label: str  # as the user typed it: 2026-T3
    description: str  # « 3e trimestre 2026 (du 1er juillet au 30 septembre 2026) »
    start: dt.date
    end: dt.date  # inclusive

    @property
    def date_from(self) -> int:
        return int(self.start.strftime("%Y%m%d"))

    @property
    def date_to(self) -> int:
        return int(self.end.strftime("%Y%m%d"))


_ORDINAL = {1: "1er", 2: "2e", 3: "3e", 4: "4e"}


def parse_period(text: str) -> Period:
    """« 2026-T3 » (quarter), « 2026-S1 » (half year), « 2026-07 » (month), « 2026 » (year), or
    « 2026-07-01..2026-09-15 » (two days)."""
    value = (text or "").strip().upper().replace(" ", "")
    try:
        if m := re.fullmatch(r"(\d{4})-T([1-4])", value):
            year, q = int(m.group(1)), int(m.group(2))
            start, end = dt.date(year, 3 * q - 2, 1), _month_end(year, 3 * q)
            name = f"{_ORDINAL[q]} trimestre {year}"
        elif m := re.fullmatch(r"(\d{4})-S([12])", value):
            year, s = int(m.group(1)), int(m.group(2))
            start, end = dt.date(year, 6 * s - 5, 1), _month_end(year, 6 * s)
            name = f"{_ORDINAL[s]} semestre {year}"
        elif m := re.fullmatch(r"(\d{4})-(\d{2})", value):
            year, month = int(m.group(1)), int(m.group(2))
            start, end = dt.date(year, month, 1), _month_end(year, month)
            name = f"{_MONTHS[month - 1]} {year}"
        elif m := re.fullmatch(r"(\d{4})", value):
            year = int(m.group(1))
            start, end, name = dt.date(year, 1, 1), dt.date(year, 12, 31), f"année {year}"
        elif m := re.fullmatch(r"(\d{4}-\d{2}-\d{2})\.\.(\d{4}-\d{2}-\d{2})", value):
            start, end = dt.date.fromisoformat(m.group(1)), dt.date.fromisoformat(m.group(2))
            if end < start:
                raise ValueError
            # Two days: the period is its bounds (« Bulletin de veille — du 1er juillet au 15 septembre 2026 »).
            return Period(text.strip(), f"du {_day(start)} au {_day(end)}", start, end)
        else:
            raise ValueError
    except ValueError:
        raise BulletinError(f"Période illisible : « {text} ». Formes possibles : 2026-T3 (trimestre), 2026-S1 "
                            "(semestre), 2026-07 (mois), 2026 (année), 2026-07-01..2026-09-15.") from None
    return Period(text.strip(), f"{name} (du {_day(start)} au {_day(end)})", start, end)


_MONTHS = ["janvier", "février", "mars", "avril", "mai", "juin", "juillet", "août", "septembre", "octobre",
           "novembre", "décembre"]


def _month_end(year: int, month: int) -> dt.date:
    return dt.date(year, month, calendar.monthrange(year, month)[1])


def _day(day: dt.date) -> str:
    return f"{'1er' if day.day == 1 else day.day} {_MONTHS[day.month - 1]} {day.year}"


@dataclass(frozen=True)
class Rubrique:
    name: str
    terms: tuple[str, ...]

    @classmethod
    def parse(cls, text: str) -> "Rubrique":
        """« Cybersécurité: cybersécurité, rançongiciel » (name, then the terms); a name alone is its own term."""
        name, _, terms = (text or "").partition(":")
        name = name.strip()
        listed = tuple(t.strip() for t in terms.split(",") if t.strip()) or (name,)
        if not name or not any(analyze(t) for t in listed):
            raise BulletinError(f"Rubrique illisible : « {text} ». Forme attendue : « Nom: terme, autre terme ».")
        return cls(name, listed)

    def as_dict(self) -> dict:
        return {"name": self.name, "terms": list(self.terms)}


@dataclass
class Item(DocumentCard):
    cluster: str = ""
    sentences: list[tuple[str, int]] = field(default_factory=list)  # (key sentence, citation number)
    entities: list[tuple[str, str]] = field(default_factory=list)  # (name, type)
    copies: list[Copy] = field(default_factory=list)  # the other members of its cluster the audience may see
    choice: str = ""  # '' proposed | pinned | dropped
    comment: str = ""
    author: str = ""
    score: float = 0.0
    summary: str = ""  # written by the language model and verified, with its [n] marks ('' when extractive)
    pending: list = field(default_factory=list, repr=False)  # (passage, sentence) to number once the item is kept

    @property
    def sources_count(self) -> int:
        """Distinct sources carrying the item (itself included)."""
        return len({self.source} | {c.source for c in self.copies})


@dataclass
class Section:
    rubrique: Rubrique
    items: list[Item]
    dropped: list[Item] = field(default_factory=list)
    note: str = ""  # why it is empty, in French


@dataclass
class Bulletin:
    title: str
    period: Period
    audience: str
    introduction: str
    sections: list[Section]
    sources: list  # Citation, numbered as cited
    filters: str
    built_at: dt.datetime
    name: str | None = None
    note: str = ""  # the period itself holds nothing
    mode: str = "extractif"  # the items' summaries: extractive, or the generator's mode
    notice: str = ""  # why the model was not used after all (French)

    @property
    def item_count(self) -> int:
        return sum(len(s.items) for s in self.sections)


def describe_audience(filters: Filters) -> str:
    if filters.user:
        seen = ", ".join(filters.audience) if filters.audience is not None else "tout le corpus"
        return f"compte « {filters.user} » — documents d'audience : {seen}"
    if filters.audience is not None:
        return "documents d'audience : " + (", ".join(filters.audience) or "aucune")
    return "tout le corpus (opérateur local, sans restriction d'audience)"


def build_bulletin(assistant, period: Period | str, rubriques: list[Rubrique | str], filters: Filters | None = None,
                   introduction: str = "", title: str | None = None, per_rubrique: int = PER_RUBRIQUE,
                   name: str | None = None, author: str = "local") -> Bulletin:
    """The bulletin of ``period`` for the audience of ``filters``; with ``name``, the draft's stored choices
    and comments apply (and the draft is saved with these rubriques)."""
    period = parse_period(period) if isinstance(period, str) else period
    rubriques = [Rubrique.parse(r) if isinstance(r, str) else r for r in rubriques]
    if not rubriques:
        raise BulletinError("Donnez au moins une rubrique : --rubrique \"Cybersécurité: cybersécurité, rançongiciel\".")
    store = assistant.store
    filters = enforce(assistant.settings, filters or Filters())
    choices, draft_id = {}, None
    if name:
        stored = dict(filters.as_dict())
        stored.pop("audience", None)
        draft_id = store.save_bulletin(name, period.label, [r.as_dict() for r in rubriques], stored, introduction,
                                       filters.user or author)
        choices = store.bulletin_items(draft_id)
    candidates = store.period_documents(period.date_from, period.date_to, filters)
    numbering_passages: list = []
    numbering = CitationNumbering(store, numbering_passages)
    entities = Entities(assistant.settings, store)
    sections, placed = [], set()
    generator, notice = assistant.generator, ""
    for rubrique in rubriques:
        if not candidates:
            sections.append(Section(rubrique, [], note="Aucun document dans la période."))
            continue
        items = _rubrique_items(assistant, rubrique, candidates, filters, numbering, numbering_passages)
        kept, dropped = _apply_choices(items, rubrique.name, choices, placed)
        pinned = [i for i in kept if i.choice == "pinned"]
        kept = pinned + [i for i in kept if i.choice != "pinned"][: max(0, per_rubrique - len(pinned))]
        placed.update(i.cluster for i in kept)
        _number(kept, numbering, numbering_passages)
        if generator is not None:
            notice = summarise_items(generator, f"{rubrique.name} : {', '.join(rubrique.terms)}", kept, numbering,
                                     numbering_passages) or ""
            generator = None if notice else generator
        chips = entities.of_documents([i.doc_id for i in kept])
        for item in kept:
            item.entities = chips.get(item.doc_id, [])
        note = "" if kept else ("Aucun document de la période ne correspond à cette rubrique (termes : "
                                f"{', '.join(rubrique.terms)}).")
        sections.append(Section(rubrique, kept, dropped, note))
    undated = _undated_section(assistant, rubriques, filters, choices, placed, per_rubrique, numbering,
                               numbering_passages, entities)
    if undated is not None:
        sections.append(undated)
    note = "" if candidates else (f"Aucun document consultable n'est paru sur la période : {period.description}.")
    return Bulletin(title or f"Bulletin de veille — {period.description.split(' (')[0]}", period,
                    describe_audience(filters), introduction.strip(), sections, numbering.citations,
                    filters.describe(), dt.datetime.now(), name, note,
                    mode=assistant.generator.mode if assistant.generator is not None and not notice else "extractif",
                    notice=notice)


def _apply_choices(items: list, rubrique: str, choices: dict, placed: set) -> tuple[list, list]:
    """The editors' choices on a rubrique's items: (kept, dropped); an item already placed in an earlier
    rubrique is not repeated."""
    kept, dropped = [], []
    for item in items:
        row = choices.get((item.cluster, rubrique))
        if row is not None:
            item.choice, item.comment, item.author = row["choice"], row["comment"], row["author"]
        if item.choice == "dropped":
            dropped.append(item)
        elif item.cluster not in placed:
            kept.append(item)
    return kept, dropped


def _undated_section(assistant, rubriques: list[Rubrique], filters: Filters, choices: dict, placed: set,
                     per_rubrique: int, numbering, passages: list, entities) -> Section | None:
    """« Non datés »: the undated documents holding a term of any rubrique, whenever they arrived (a bulletin
    built after its period must not lose them), latest arrival first; None when there are none."""
    undated = assistant.store.undated_documents(filters)
    if not undated:
        return None
    rubrique = Rubrique(UNDATED, tuple(dict.fromkeys(t for r in rubriques for t in r.terms)))
    items = _rubrique_items(assistant, rubrique, undated, filters, numbering, passages)
    if not items:
        return None
    kept, dropped = _apply_choices(items, UNDATED, choices, placed)
    kept.sort(key=lambda i: (i.choice != "pinned", -(i.arrived or 0)))
    shown = kept[:max(per_rubrique, sum(i.choice == "pinned" for i in kept))]
    placed.update(i.cluster for i in shown)
    _number(shown, numbering, passages)
    chips = entities.of_documents([i.doc_id for i in shown])
    for item in shown:
        item.entities = chips.get(item.doc_id, [])
    more = len(kept) - len(shown)
    note = UNDATED_NOTE + (f" Et {more} autre{'s' if more > 1 else ''} non daté{'s' if more > 1 else ''}, "
                           "non affiché{}.".format("s" if more > 1 else "") if more else "")
    return Section(rubrique, shown, dropped, note)


def _rubrique_items(assistant, rubrique: Rubrique, candidates: list[str], filters: Filters, numbering,
                    passages_list: list) -> list[Item]:
    """The period's documents holding one of the rubrique's terms, ranked by the assistant's retrieval, one per
    cluster, each with its two best sentences for the rubrique (not numbered yet)."""
    store = assistant.store
    scope = Filters(**{**filters.as_dict(), "doc_ids": candidates, "user": filters.user})
    matched = store.documents_matching([analyze(t) for t in rubrique.terms], scope)
    if not matched:
        return []
    query = f"{rubrique.name} : {', '.join(rubrique.terms)}"
    inside = Filters(**{**filters.as_dict(), "doc_ids": sorted(matched), "user": filters.user})
    result = assistant.retrieve(query, inside, top_k=min(300, 3 * len(matched)))
    by_doc: dict[str, list] = {}
    for p in result.passages:
        by_doc.setdefault(p.node.metadata.get("doc_id", ""), []).append(p)
    ranked = list(by_doc) + sorted(d for d in matched if d not in by_doc)  # lexical matches past top-k last
    clusters = store.clusters_of(ranked)
    copies_by_doc = copies_of(store, ranked, filters.audience)
    idf = assistant.term_stats(filters)
    items, seen = [], set()
    for rank, doc_id in enumerate(ranked):
        cluster = clusters[doc_id]
        if cluster in seen:
            continue
        seen.add(cluster)
        doc = store.document(doc_id) or {}
        passages = by_doc.get(doc_id, [])
        chosen = select_sentences(sentence_candidates(query, passages, idf), max_sentences=2) if passages else []
        item = Item(**DocumentCard.fields_of({**doc, "doc_id": doc_id}), cluster=cluster, copies=copies_by_doc[doc_id],
                    score=round(1.0 / (1 + rank), 4))
        item.pending = [(passages[s.passage], s.text.strip()) for s in chosen]
        items.append(item)
    return items


def _number(items: list[Item], numbering: CitationNumbering, passages: list) -> None:
    """Number the kept items' sentences in reading order (the sources list follows the bulletin)."""
    index = {p.node.node_id: i for i, p in enumerate(passages)}
    for item in items:
        for passage, text in item.pending:
            if passage.node.node_id not in index:  # two sentences of one passage share its number
                index[passage.node.node_id] = len(passages)
                passages.append(passage)
            item.sentences.append((text, numbering(index[passage.node.node_id], text)))
