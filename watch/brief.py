"""Briefings (*notes de synthèse*) for filière advisors: an overview, key points grouped by theme (k-means
on the passages' stored embeddings), each dated and cited, the list of sources and the filters used.

Extractive by default (sentences copied from the sources); with a language model the overview is
written by the model from the ``brief`` prompt and verified like any generated answer.
"""
from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field
from datetime import date

import numpy as np

from assistant.answering.citation_extras import enrich_citations
from assistant.answering.citations import CitationNumbering
from assistant.answering.compose import select_sentences, sentence_candidates
from assistant.generation.generate import format_passages
from assistant.generation.llm import LLMError
from assistant.generation.prompts import render
from assistant.search.period import PeriodBoost, apply_period
from assistant.search.retrieve import Retrieval
from veille import dates
from veille.errors import VeilleError
from veille.filters import Filters, safe_url, source_label
from veille.markup import md_literal
from veille.numbers import plural
from veille.passage import ScoredPassage
from veille.text import fold, tokens

NOTHING_FOUND = ("Le corpus ne contient pas de passage assez pertinent sur ce sujet pour établir une note. "
                 "Essayez d'autres termes, élargissez la période ou retirez des filtres.")
def french_date(iso: str | None) -> str:
    """'2017-07-05' -> '5 juillet 2017'; '2019-03' -> 'mars 2019'; '2019' -> '2019'."""
    return dates.french_date(str(iso)) if iso else "non datée"


class BriefError(VeilleError, ValueError):
    """A briefing request that cannot be honoured (French message)."""


@dataclass
class KeyPoint:
    text: str
    numbers: list[int]
    date: str | None


@dataclass
class Theme:
    title: str
    points: list[KeyPoint] = field(default_factory=list)


@dataclass
class Briefing:
    topic: str
    filters: str  # French description
    overview: str
    themes: list[Theme]
    sources: list  # Citation objects, numbered as cited in the note
    mode: str = "extractif"
    notice: str | None = None
    passages: int = 0
    documents: int = 0
    empty: bool = False

    def markdown(self) -> str:
        lit = md_literal  # corpus text (and the topic typed) stays text: only the note's structure is Markdown
        lines = [f"# Note de synthèse : {lit(self.topic)}", "",
                 f"*Établie le {french_date(date.today().isoformat())} par Veille · mode {self.mode} · "
                 f"{plural(self.passages, 'passage')} de {plural(self.documents, 'document')}*", ""]
        if self.notice:
            lines += [f"> **Avertissement** : {lit(self.notice)}", ""]
        lines += ["## Vue d'ensemble", "", lit(self.overview, marks=True), ""]
        if self.themes:
            lines += ["## Points clés par thème", ""]
            for theme in self.themes:
                lines += [f"### {lit(theme.title)}", ""]
                for p in theme.points:
                    marks = "".join(f"[{n}]" for n in p.numbers)
                    lines.append(f"- **{french_date(p.date)}** — {lit(p.text)} {marks}")
                lines.append("")
        lines += ["## Sources", ""]
        if not self.sources:
            lines.append("Aucune source retenue.")
        for c in self.sources:
            # A web page by its address (as text), a local file by its title: never a server path.
            where = lit(safe_url(c.url)) or "document du corpus"
            lines.append(f"{c.n}. **{lit(c.title or source_label(c.source))}** — {c.doc_type}, "
                         f"{french_date(c.date)} — {where}" + (f" — {c.copies_label()}" if c.copies_label() else ""))
            lines += [f"   - aussi : {lit(k.source)} — {lit(k.title or 'Sans titre')}" for k in c.copies]
        lines += ["", "## Filtres utilisés", "", lit(self.filters) or "Aucun filtre : tout le corpus.", ""]
        return "\n".join(lines)


def _embeddings(assistant, passages: list[ScoredPassage]) -> np.ndarray:
    """The vectors stored at ingestion (no re-embedding); the model only for passages Chroma lacks."""
    ids = [p.node.node_id for p in passages]
    got = assistant.store.collection.get(ids=ids, include=["embeddings"])
    by_id = {i: np.asarray(e, dtype=np.float32) for i, e in zip(got["ids"], got["embeddings"])}
    missing = [p.node.get_content() for p in passages if p.node.node_id not in by_id]
    extra = iter(assistant.embedder.embed_passages(missing)) if missing else iter(())
    return np.vstack([by_id[i] if i in by_id else next(extra) for i in ids])


def cluster(vectors: np.ndarray, max_themes: int) -> list[int]:
    from sklearn.cluster import KMeans

    n = len(vectors)
    k = max(1, min(max_themes, round((n / 2) ** 0.5)))
    if k == 1:
        return [0] * n
    return KMeans(n_clusters=k, n_init=10, random_state=0).fit_predict(vectors).tolist()


def theme_title(members: list[ScoredPassage], everything: list[ScoredPassage], topic: str) -> str:
    """A section heading shared by the theme's passages, else its most distinctive words."""
    headings = Counter(h for h in (m.node.metadata.get("heading") for m in members) if h)
    if headings:
        heading, count = headings.most_common(1)[0]
        if count >= max(1, len(members) // 2) and len(heading) <= 90:
            return heading.strip("# ").strip()
    topic_terms = set(tokens(topic))
    inside = Counter(w for m in members for w in _words(m.node.get_content()))
    outside = Counter(w for m in everything for w in _words(m.node.get_content()))
    scored = sorted(inside, key=lambda w: (-(inside[w] / (1 + outside[w] - inside[w]) * inside[w]), w))
    words = [w for w in scored if tokens(w) and tokens(w)[0] not in topic_terms][:3]
    if not words:
        return "Autres éléments"
    title = ", ".join(words[:-1]) + (" et " if len(words) > 1 else "") + words[-1]
    return title[:1].upper() + title[1:]


def _words(text: str) -> list[str]:
    return [w.lower() for w in re.findall(r"[A-Za-zÀ-ÿ][A-Za-zÀ-ÿ'-]{3,}", text)
            if tokens(w) and fold(w.lower()) == fold(w.lower()).strip("'-")]


def make_brief(assistant, topic: str, filters: Filters | None = None, n_passages: int = 24,
               max_themes: int = 4, points_per_theme: int = 3) -> Briefing:
    topic = (topic or "").strip()
    if not topic:
        raise BriefError("Donnez le sujet de la note (par exemple « cybersécurité des PME »).")
    filters, period = apply_period(topic, filters or Filters())  # a period is evidence unless about publication
    described = filters.describe()
    boost = PeriodBoost(period.time, assistant.store) if period and not period.publication else None
    result = assistant.retrieve(topic, filters, top_k=n_passages, boost=boost)
    passages = result.passages
    if not passages or not assistant.covers(topic, Retrieval(passages[: assistant.settings.top_k], result.dense),
                                            filters):
        return Briefing(topic, described, NOTHING_FOUND, [], [], passages=0, empty=True)
    idf = assistant.term_stats(filters)  # the asker's audience only, as for answers
    number = CitationNumbering(assistant.store, passages)

    # Overview (extractive): the sentences that best cover the topic across all passages.
    chosen = select_sentences(sentence_candidates(topic, passages, idf), max_sentences=3)
    used = {(s.passage, s.start) for s in chosen}
    overview = number.cite(chosen)
    mode, notice = "extractif", None
    generator = assistant.generator
    labels = cluster(_embeddings(assistant, passages), max_themes)
    groups: dict[int, list[int]] = {}
    for i, label in enumerate(labels):
        groups.setdefault(label, []).append(i)
    ordered = sorted(groups.values(), key=min)  # the theme holding the best passage first
    if generator is not None:
        overview, mode, notice = _generated_overview(generator, topic, described, passages, ordered, number,
                                                     overview)

    themes = []
    for members in ordered:
        subset = [passages[i] for i in members]
        cands = sentence_candidates(topic, subset, idf)
        points = []
        for s in select_sentences(cands, max_sentences=points_per_theme, min_ratio=0.3):
            index = members[s.passage]
            if (index, s.start) in used:
                continue
            meta_date = assistant.store.document(passages[index].node.metadata.get("doc_id", "")) or {}
            points.append(KeyPoint(" ".join(s.text.split()), [number(index, s.text)], meta_date.get("date")))
        if points:
            themes.append(Theme(theme_title(subset, passages, topic), sorted(points, key=lambda p: p.date or "")))
    docs = {p.node.metadata.get("doc_id") for p in passages}
    enrich_citations(assistant.settings, assistant.store, number.citations, filters)
    return Briefing(topic, described, overview, themes, number.citations, mode=mode, notice=notice,
                    passages=len(passages), documents=len(docs))


def _generated_overview(generator, topic, described, passages, groups, number, fallback):
    """Overview written by the model, verified; the extractive one (with a notice) when that fails."""
    order = [i for members in groups for i in members]  # passages presented theme by theme
    shown = [passages[i] for i in order]
    system = render("system", refusal=render("refusal"))
    user = render("brief", topic=topic, filters=described or "aucun", passages=format_passages(shown))
    try:
        text = generator.llm.complete(system, user)
    except LLMError as exc:
        return fallback, "extractif", f"mode génératif indisponible ({exc}) : vue d'ensemble extractive"
    check = generator.verifier.verify(text, [p.node.get_content() for p in shown])
    if not check.supported:
        return fallback, "extractif", "la vue d'ensemble générée n'était étayée par aucune source : version extractive"
    parts = []
    for s in check.supported:
        marks = number.marks((order[n - 1], s.support.get(n, "")) for n in s.kept)
        parts.append(f"{s.text} {marks}")
    removed = len(check.sentences) - len(check.supported)
    notice = (f"{plural(removed, 'phrase')} de la vue d'ensemble générée "
              f"{'retirée' if removed == 1 else 'retirées'} faute de source") if removed else None
    return " ".join(parts), generator.mode, notice
