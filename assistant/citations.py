"""Citations: the one place passages become numbered sources ``[n]``, in order of first citation."""
from __future__ import annotations

from llama_index.core.schema import NodeWithScore

from assistant.answer import Citation
from veille.store import Store


def make_citation(store: Store, n: int, passage: NodeWithScore, sentence: str = "") -> Citation:
    """Citation ``[n]`` of a passage, with its document's title, type, date and origin."""
    node = passage.node
    doc = store.document(node.metadata.get("doc_id", "")) or {}
    page, page_end = store.chunk_pages(node.node_id)
    return Citation(n=n, doc_id=doc.get("doc_id", ""), chunk_id=node.node_id, title=doc.get("title") or "",
                    doc_type=doc.get("doc_type") or "autre", date=doc.get("date"),
                    source=doc.get("url") or doc.get("source") or "", quote=node.get_content(),
                    score=round(float(passage.score or 0.0), 4), url=doc.get("url"), site=doc.get("site"),
                    sentence=sentence, char_start=node.start_char_idx, char_end=node.end_char_idx,
                    page=page, page_end=page_end, ocr=bool(doc.get("extra", {}).get("ocr")))


class CitationNumbering:
    """``numbering(i, sentence)`` gives passage ``i`` its number, the next free one the first time it is cited;
    ``citations`` lists the sources in that order."""

    def __init__(self, store: Store, passages: list[NodeWithScore]):
        self.store, self.passages = store, passages
        self.numbers: dict[int, int] = {}
        self.citations: list[Citation] = []

    def __call__(self, index: int, sentence: str = "") -> int:
        if index not in self.numbers:
            self.numbers[index] = len(self.numbers) + 1
            self.citations.append(make_citation(self.store, self.numbers[index], self.passages[index], sentence))
        return self.numbers[index]

    def cite(self, sentences) -> str:
        """« sentence [n] » for each of ``sentences`` (ScoredSentence: ``passage`` index and ``text``)."""
        return " ".join(f"{s.text.strip()} [{self(s.passage, s.text)}]" for s in sentences)
