"""A period named in a question is evidence, not a silent filter.

« Combien de participants à la rencontre de février 2019 ? » asks about an event of February 2019 that a
report published in 2020 may tell: filtering on publication dates would hide it, and a question « … en
2020 ? » filtered to the few pages published that year gets answered from whatever they say. So a period
favours, in retrieval, the passages that cite it and the documents dated in it (``PeriodBoost``, the
retriever's ``boost`` hook), and restricts publication dates only when the question's wording is about
publication: « les articles publiés en 2019 », « parus depuis 2018 », « le bulletin de mars 2019 », « les
documents de 2019 », « les rapports datés de… ». Dates the user chose (filter fields, ``--since/--until``)
always filter and take precedence. ``QuestionPeriod.note`` says under the answer how the date was used.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, replace

from assistant.search.timefilter import TimeFilter, parse_time_expression
from veille.dates import MONTHS
from veille.filters import Filters
from veille.passage import Passage, ScoredPassage
from veille.store import Store

# Extra fused score, as a fraction of the best fused score of the question (assistant/search/retrieve.py), for a
# passage that cites the period and for one whose document is dated in it. A design constant, not fitted:
# modest, so that it reorders passages of close relevance (the one that tells of « février 2019 » before
# a near-equal one that does not) and never lifts an off-topic passage that merely holds the year above
# one that answers — a passage with both marks gains a fifth of the best score, no more.
MENTION_BOOST = 0.10
DATED_BOOST = 0.10

# Wording about publication right before the period. When unsure the period stays evidence: a wrong boost
# costs a little order, a wrong filter costs the answer. A publication verb, up to three words before
# (« publiés en 2019 », « parus depuis 2018 », « publiées par la CNIL en 2019 », « datés de mars 2019 »;
# not « sorti », « mis en ligne »: « la sortie en 2020 », « la plateforme mise en ligne en 2019 » are events)...
_PUBLICATION_VERBS = ("publi[ée]e?s?", "paru(?:e|s|es)?", "parution", "dat[ée]e?s?", "diffus[ée]e?s?",
                      "r[ée]dig[ée]e?s?")
# ...a kind of document the period directly dates (« le bulletin de mars 2019 », « les documents de 2019 »,
# « les articles depuis 2018 »; not « le rapport Martre de 1994 »: the corpus may hold texts about that report,
# not the report), or the news a user asks for (« quoi de neuf depuis 2019 »).
_DOCUMENT_KINDS = ("bulletins?", "articles?", "documents?", "rapports?", "publications?", "notes?", "num[ée]ros?",
                   "[ée]ditions?", "lettres?", "pages?", "communiqu[ée]s?", "d[ée]p[êe]ches?", "textes?", "fiches?",
                   "actualit[ée]s?", "revues?", "newsletters?", "comptes?[ -]rendus?", "parutions?", "sources?")


def _ending_with(words: tuple[str, ...], then: str = "") -> re.Pattern:
    """Text that ends with one of ``words`` (then ``then``)."""
    return re.compile(rf"\b(?:{'|'.join(words)}){then}\s*$", re.IGNORECASE)


_PUBLISHED = _ending_with(_PUBLICATION_VERBS, r"(?:\s+[\wÀ-ÿ'’-]+){0,3}")
_DOCUMENT = _ending_with(_DOCUMENT_KINDS)
_NEWS = re.compile(r"\bquoi\s+de\s+neuf\b|\bnouveaut[ée]s?\b|\bdu\s+nouveau\b", re.IGNORECASE)


def about_publication(question: str, period: TimeFilter) -> bool:
    """Whether the question asks for documents of the period rather than about what happened in it."""
    before = question[:period.start]
    return bool(_PUBLISHED.search(before) or _DOCUMENT.search(before) or _NEWS.search(question))


@dataclass(frozen=True)
class QuestionPeriod:
    """The period a question names and how it is used: a publication filter, or evidence."""
    time: TimeFilter
    publication: bool

    @property
    def note(self) -> str:
        """How the date was used, in French, shown under the answer."""
        if self.publication:
            return f"Filtre tiré de la question : {self.time.description}"
        cited = "passages qui la citent et " if self.time.years else ""
        return (f"Période de la question ({self.time.label}) : {cited}{self.time.description} favorisés, "
                f"sans filtre de date")

    @property
    def unsupported_refusal(self) -> str:
        """The refusal when none of the documents found speaks of the period (see ``period_found``)."""
        return (f"Les documents trouvés ne parlent pas de la période de la question ({self.time.label}) : aucun ne "
                f"la cite ni n'en est daté. Reformulez sans période pour chercher hors de cette date.")

    @property
    def empty_filter_refusal(self) -> str:
        """The refusal when the publication filter the question asked for leaves nothing that answers."""
        return (f"Aucun passage ne répond à cette question parmi les {self.time.description} (filtre tiré de la "
                f"question). Reformulez sans période pour élargir la recherche.")


def read_period(question: str) -> QuestionPeriod | None:
    found = parse_time_expression(question)
    return QuestionPeriod(found, about_publication(question, found)) if found else None


def apply_period(question: str, filters: Filters) -> tuple[Filters, QuestionPeriod | None]:
    """The filters to search with and the question's period. Dates the user chose win: the period is then
    not read. A period about publication becomes the date filter; any other leaves the filters as they are
    (it is evidence, see ``PeriodBoost``)."""
    if filters.date_from or filters.date_to:
        return filters, None
    period = read_period(question)
    if period is None or not period.publication:
        return filters, period
    return replace(filters, date_from=period.time.date_from, date_to=period.time.date_to), period


def mention_pattern(period: TimeFilter) -> re.Pattern | None:
    """How a passage cites the period: the year, or for one month the month and year (« février 2019 »,
    « Fevr. 2019 », « 02/2019 », « 2019-02 »); None when no year stands for it. Matched on the raw text
    (months as written, accented or not, any case): folding every candidate costs more than the search."""
    if not period.years:
        return None
    if period.month is None:
        return re.compile(rf"(?<!\d)(?:{'|'.join(period.years)})(?!\d)")
    year, mm = period.years[0], period.month
    names = sorted({name for name, number in MONTHS.items() if number == mm}, key=len, reverse=True)
    return re.compile(rf"\b(?:{'|'.join(names)})\.?\s+{year}(?!\d)|(?<!\d)0?{mm}/{year}(?!\d)|"
                      rf"(?<!\d){year}-{mm:02d}(?!\d)", re.IGNORECASE)


@dataclass
class PeriodBoost:
    """The retriever's ``boost`` hook for a period of the question: for each candidate passage, its extra
    score as a fraction of the best fused score (``MENTION_BOOST`` when it cites the period,
    ``DATED_BOOST`` when its document is dated in it)."""
    period: TimeFilter
    store: Store

    def __post_init__(self) -> None:
        self.pattern = mention_pattern(self.period)

    def __call__(self, nodes: list[Passage]) -> list[float]:
        doc_ids = list(dict.fromkeys(n.metadata.get("doc_id", "") for n in nodes))
        dated = self.store.visible_documents(doc_ids, Filters(date_from=self.period.date_from,
                                                               date_to=self.period.date_to))
        return [MENTION_BOOST * self.cites(n.get_content()) + DATED_BOOST * (n.metadata.get("doc_id", "") in dated)
                for n in nodes]

    def cites(self, text: str) -> bool:
        # A plain search for the years first: most candidates hold none, and it is ten times cheaper.
        return bool(self.pattern and any(y in text for y in self.period.years) and self.pattern.search(text))


def period_found(store: Store, period: TimeFilter, passages: list[ScoredPassage]) -> bool:
    """Whether a document of ``passages`` speaks of the period: dated in it, or citing one of its years
    anywhere (the answering passage may not repeat a date its heading gives). Documents that never do cannot
    attest an answer for that period (« qui a co-présidé le comité en 2012 ? » over texts of 2017 and 2019).
    An open past (« avant 2020 ») names no year: always found."""
    if not period.years or not passages:
        return True
    doc_ids = list(dict.fromkeys(p.node.metadata.get("doc_id", "") for p in passages))
    if store.visible_documents(doc_ids, Filters(date_from=period.date_from, date_to=period.date_to)):
        return True
    inside = Filters(doc_ids=doc_ids)
    return any(store.documents_with_terms([year], inside) for year in period.years)
