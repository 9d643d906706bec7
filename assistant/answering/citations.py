"""Citations: the one place passages become numbered sources ``[n]``, in order of first citation.

One number per document: a second passage or sentence of a document already cited joins its ``Citation``
(``passages``), so « [1][2][3] » never names one document three times. A citation's ``quote`` is centred on
the sentences the answer relies on; the passages stay whole in ``context``."""
from __future__ import annotations

from bisect import bisect_right
from typing import TYPE_CHECKING

from assistant.answering.answer import Citation, CitedPassage
from veille.store import Store

if TYPE_CHECKING:  # annotations only
    from veille.passage import ScoredPassage

QUOTE_WIDTH = 320  # characters of a quote around one cited sentence, context included


def centred_excerpt(text: str, sentence: str, width: int = QUOTE_WIDTH) -> str:
    """``sentence`` with the words around it in ``text`` up to about ``width`` characters, « … » where cut;
    the beginning of ``text`` when the sentence cannot be found."""
    flat = " ".join(text.split())
    target = " ".join(sentence.split())
    start = flat.find(target) if target else -1
    if start < 0:
        return flat[:width].rsplit(" ", 1)[0] + ("…" if len(flat) > width else "")
    end = start + len(target)
    if len(target) >= width:
        return target
    room = (width - len(target)) // 2
    left = flat[max(0, start - room):start]
    right = flat[end:end + room + max(0, room - start)]
    if start - room > 0:
        left = left.split(" ", 1)[1] if " " in left else ""
    if end + len(right) < len(flat):
        right = right.rsplit(" ", 1)[0] if " " in right else ""
    head = "… " if start - len(left) > 0 else ""
    tail = " …" if end + len(right) < len(flat) else ""
    return f"{head}{left}{target}{right}{tail}".replace("  ", " ")


def quote_of(passages: list[CitedPassage]) -> str:
    """Every cited sentence centred in its context, joined by « … » (the passage's start when none)."""
    parts = [centred_excerpt(p.text, s) for p in passages for s in p.sentences]
    return " […] ".join(parts) if parts else centred_excerpt(passages[0].text, "") if passages else ""


def _flat(sentence: str) -> str:
    """A sentence on one line (as quoted): the passage keeps its own line breaks."""
    return " ".join((sentence or "").split())


def _passage(passage: ScoredPassage, sentence: str) -> CitedPassage:
    node = passage.node
    return CitedPassage(chunk_id=node.node_id, text=node.get_content(), sentences=[_flat(sentence)] if _flat(sentence)
                        else [], char_start=node.start_char_idx, char_end=node.end_char_idx)


def sentence_pages(store: Store, doc: dict, passage: ScoredPassage, sentence: str) -> tuple[int | None, int | None]:
    """The page(s) of the cited sentence (« p. 3 », not the « p. 1-3 » of a passage running over three pages),
    from where each page starts in the document; the passage's pages when the sentence cannot be placed (no
    sentence, a store written before page starts were kept)."""
    node = passage.node
    starts = (doc.get("extra") or {}).get("page_starts")
    at = node.get_content().find(sentence) if sentence and starts and node.start_char_idx is not None else -1
    if at < 0:
        return store.chunk_pages(node.node_id)
    start = node.start_char_idx + at
    first, last = bisect_right(starts, start), bisect_right(starts, start + max(len(sentence) - 1, 0))
    return first, last


def make_citation(store: Store, n: int, passage: ScoredPassage, sentence: str = "") -> Citation:
    """Citation ``[n]`` of a passage, with its document's title, type, date and origin."""
    node = passage.node
    doc = store.document(node.metadata.get("doc_id", "")) or {}
    cited = _passage(passage, sentence)
    page, page_end = sentence_pages(store, doc, passage, sentence)
    return Citation(n=n, doc_id=doc.get("doc_id", "") or node.metadata.get("doc_id", ""), chunk_id=node.node_id,
                    title=doc.get("title") or "", doc_type=doc.get("doc_type") or "autre", date=doc.get("date"),
                    source=doc.get("url") or doc.get("source") or "", quote=quote_of([cited]),
                    score=round(float(passage.score or 0.0), 4), url=doc.get("url"), site=doc.get("site"),
                    sentence=_flat(sentence), char_start=node.start_char_idx, char_end=node.end_char_idx,
                    context=node.get_content(), passages=[cited], page=page, page_end=page_end,
                    ocr=bool(doc.get("extra", {}).get("ocr")), date_source=(doc.get("extra") or {}).get("date_source"))


def add_passage(citation: Citation, passage: ScoredPassage, sentence: str = "") -> None:
    """Another passage or sentence of an already cited document: grouped under its number."""
    sentence = _flat(sentence)
    known = next((p for p in citation.passages if p.chunk_id == passage.node.node_id), None)
    if known is None:
        citation.passages.append(_passage(passage, sentence))
        citation.context = "\n…\n".join(p.text for p in citation.passages)
    elif sentence and sentence not in known.sentences:
        known.sentences.append(sentence)
    if not citation.sentence and sentence:
        citation.sentence = sentence
    citation.score = max(citation.score, round(float(passage.score or 0.0), 4))
    citation.quote = quote_of(citation.passages)


class CitationNumbering:
    """``numbering(i, sentence)`` gives passage ``i``'s document its number, the next free one the first time
    it is cited; ``citations`` lists the sources (one per document) in that order."""

    def __init__(self, store: Store, passages: list[ScoredPassage]):
        self.store, self.passages = store, passages
        self.numbers: dict[str, int] = {}  # doc_id -> n
        self.citations: list[Citation] = []

    def __call__(self, index: int, sentence: str = "") -> int:
        passage = self.passages[index]
        doc_id = passage.node.metadata.get("doc_id", "") or passage.node.node_id
        if doc_id not in self.numbers:
            self.numbers[doc_id] = len(self.numbers) + 1
            self.citations.append(make_citation(self.store, self.numbers[doc_id], passage, sentence))
        else:
            citation = self.citations[self.numbers[doc_id] - 1]
            first_sentence = not citation.sentence and sentence.strip()
            add_passage(citation, passage, sentence)
            if first_sentence:  # the page shown is that of the first sentence cited
                citation.page, citation.page_end = sentence_pages(self.store, self.store.document(doc_id) or {},
                                                                  passage, sentence)
        return self.numbers[doc_id]

    def marks(self, cited) -> str:
        """« [1][3] » for the ``(passage index, supporting sentence)`` pairs one sentence cites, each
        document once."""
        return "".join(f"[{n}]" for n in dict.fromkeys(self(i, sentence) for i, sentence in cited))

    def cite(self, sentences) -> str:
        """« sentence [n] » for each of ``sentences`` (ScoredSentence: ``passage`` index and ``text``)."""
        return " ".join(f"{_flat(s.text)} [{self(s.passage, s.text)}]" for s in sentences)

