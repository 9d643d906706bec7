"""Answers: the data a user gets back (``Answer`` and its ``Citation``s), whatever produced them."""
from __future__ import annotations

from dataclasses import asdict, dataclass, field

from veille.dates import DATE_SOURCES, WEAK_DATE_SOURCES
from veille.filters import source_label


@dataclass
class CitedPassage:
    """One passage of a cited document, with the sentences of it that the answer relies on."""
    chunk_id: str
    text: str
    sentences: list[str] = field(default_factory=list)
    char_start: int | None = None  # offsets in the document text
    char_end: int | None = None


@dataclass
class Copy:
    """Another member of a cited document's near-duplicate cluster (the same text on another site)."""
    doc_id: str
    title: str
    source: str  # the site, or a local file's label: never a server path
    url: str | None
    date: str | None


@dataclass
class Citation:
    """Source ``[n]``: one document, whatever the number of its passages the answer cites."""
    n: int
    doc_id: str
    chunk_id: str  # the first cited passage
    title: str
    doc_type: str
    date: str | None
    source: str
    quote: str  # the cited sentences, each centred in a little of its context (« … »)
    score: float
    url: str | None = None
    site: str | None = None
    sentence: str = ""  # the first sentence that supports the answer
    char_start: int | None = None  # first passage's offsets in the document text
    char_end: int | None = None
    context: str = ""  # the cited passages in full
    passages: list[CitedPassage] = field(default_factory=list)
    page: int | None = None  # first page of the passage (paged formats: PDF, multi-page scans)
    page_end: int | None = None
    ocr: bool = False  # the text was read from a scan by OCR
    date_source: str | None = None  # the evidence of the date (ingestion/dating.py: text, properties, file…)
    copies: list[Copy] = field(default_factory=list)  # its cluster's other members the asker may see
    entities: list[list[str]] = field(default_factory=list)  # [name, type] of its most mentioned entities

    def date_evidence(self) -> str:
        """« date lue dans le texte » when the date rests on weak evidence, to be said next to it; else ""."""
        return DATE_SOURCES[self.date_source] if self.date and self.date_source in WEAK_DATE_SOURCES else ""

    @property
    def sources_count(self) -> int:
        """Distinct sources carrying the document (itself included): « repris par N sources » when above 1."""
        return len({self.site or source_label(self.source)} | {c.source for c in self.copies})

    def copies_label(self) -> str:
        n = self.sources_count
        return f"repris par {n} sources" if n > 1 else ""

    @property
    def sentences(self) -> list[str]:
        return [s for p in self.passages for s in p.sentences]

    def pages_label(self) -> str:
        """« p. 12 », « p. 12-13 », and « (OCR) » for text read from a scan; empty when unpaged."""
        pages = "" if not self.page else f"p. {self.page}" + (
            f"-{self.page_end}" if self.page_end and self.page_end != self.page else "")
        return " ".join(x for x in (pages, "(OCR)" if self.ocr else "") if x)

    def link(self) -> str | None:
        """The original online, opened at the passage's page (``#page=12``, read by browsers' PDF viewers)."""
        url = next((u for u in (self.url, self.source) if u and u.startswith(("http://", "https://"))), None)
        if url and self.page and "#" not in url:
            return f"{url}#page={self.page}"
        return url


@dataclass
class Answer:
    question: str
    answer: str
    refused: bool
    citations: list[Citation] = field(default_factory=list)
    timings_ms: dict[str, float] = field(default_factory=dict)
    standalone_question: str | None = None
    filters: dict = field(default_factory=dict)
    mode: str = "extractif"
    notice: str | None = None
    confidence: float = 0.0
    evidence: dict = field(default_factory=dict)  # the answerability features behind ``confidence``
    filter_note: str | None = None  # French: how a period named in the question was used (assistant/search/period.py)
    flagged: list[dict] = field(default_factory=list)  # generated sentences whose citations failed verification
    # "answer", "partial" (no passage states the answer; ``related`` lists the citations of what comes
    # closest) or "none" (nothing relevant).
    status: str = "answer"
    span: dict | None = None  # the answer's words in ``answer``: {"start", "end", "text"} (offsets in ``answer``)
    related: list[int] = field(default_factory=list)

    def __post_init__(self) -> None:
        if self.refused and self.status == "answer":  # every refusal made without a status found nothing
            self.status = "none"

    @property
    def confidence_label(self) -> str:
        """The confidence said in words, as users read it."""
        if self.refused:
            return ""
        return "réponse sûre" if self.confidence >= SURE else "à vérifier"

    def as_json(self) -> dict:
        data = asdict(self)
        data["timings_ms"] = {k: round(v, 2) for k, v in self.timings_ms.items()}
        return data

    @classmethod
    def from_json(cls, data: dict) -> "Answer":
        """The inverse of ``as_json`` (an answer computed by another process: ``assistant/ask_socket.py``)."""
        citations = [Citation(**{**c, "passages": [CitedPassage(**p) for p in c.get("passages", [])],
                                 "copies": [Copy(**k) for k in c.get("copies", [])]})
                     for c in data.get("citations", [])]
        return cls(**{**data, "citations": citations})


SURE = 0.8  # calibrated probability from which an answer is said « réponse sûre »

REFUSAL = ("Le corpus ne contient pas d'information permettant de répondre à cette question. "
           "Essayez d'autres termes, élargissez la période ou retirez des filtres.")
# The same refusal when no filter is active: nothing to remove.
REFUSAL_UNFILTERED = ("Le corpus ne contient pas d'information permettant de répondre à cette question. "
                      "Essayez d'autres termes (noms d'organismes, de dispositifs, de lieux).")
