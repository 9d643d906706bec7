"""Does spaCy's French NER tell the sentence that answers from the one a composer would quote without it, better
than Veille's regular expressions? Measured on PIAF *training* questions only (issue 12, item 3).

    python -m eval.answer_types [--per-kind 250]

For « qui », « où » and « quel(le) <noun> » questions (the noun read by spaCy's parser: entreprise → ORG,
pays → LOC, président → PER…), over the PIAF store with Veille's own hybrid search and sentence candidates:
- *answer*: the candidate sentence of the gold passage that holds the answer span;
- *present*: the best-scored candidate that does not hold it (gold still retrieved);
- *removed*: the best-scored candidate outside the gold passage, in the same search (the gold-removal case,
  approached without a second store).
Each detector says whether a sentence holds the expected kind of answer: the regular expressions of
``assistant/answering/question.py`` (``expected_type_found``; they know « qui » only), or an entity of the expected
spaCy label (PER, ORG, LOC) not already named in the question. A useful detector fires on *answer* and not on
*removed*: the table gives both rates and their gap.
"""
from __future__ import annotations

import argparse
import random
import sys

from rich.console import Console
from rich.table import Table

from assistant.answering.compose import sentence_candidates
from assistant.answering.question import WHO_QUESTION, expected_type_found
from assistant.search.retrieve import Search
from eval.datasets import load_bench, load_training_questions
from eval.stores import CachedEmbedder, bench_store
from veille.config import get_settings
from veille.embeddings import get_embedder
from veille.filters import Filters
from veille.store import Store
from veille.text import fold

NOUN_TYPES = {
    "ORG": {"entreprise", "société", "groupe", "organisation", "organisme", "association", "institution", "parti",
            "club", "équipe", "marque", "compagnie", "firme", "université", "école", "journal", "banque"},
    "LOC": {"pays", "ville", "région", "lieu", "endroit", "département", "commune", "continent", "île", "fleuve",
            "rivière", "capitale", "province", "état", "territoire", "quartier", "montagne"},
    "PER": {"personne", "homme", "femme", "président", "auteur", "roi", "reine", "empereur", "architecte",
            "peintre", "écrivain", "fondateur", "ministre", "joueur", "entraîneur", "pape", "compositeur"},
}
KIND_NAMES = {"ORG": "organisation", "LOC": "lieu", "PER": "personne"}
_INTERROGATIVES = {"quel", "quelle", "quels", "quelles"}


def expected_labels(doc) -> tuple[str, set[str]] | None:
    """(kind, spaCy labels) the question asks for, from its parse; None when it asks for no entity."""
    words = [t.lower_ for t in doc]
    if words and (words[0] == "qui" or "qui" in words[:3]) and WHO_QUESTION.search(doc.text):
        return "qui", {"PER", "ORG"}
    if "où" in words:
        return "où", {"LOC"}
    for token in doc:
        if token.lower_ in _INTERROGATIVES:
            noun = token.head if token.dep_ == "det" else next(
                (t for t in token.head.children if t.pos_ == "NOUN" and t.i > token.i), None)
            if noun is not None:
                for label, nouns in NOUN_TYPES.items():
                    if noun.lemma_.lower() in nouns or noun.lower_ in nouns:
                        return f"quel + {KIND_NAMES[label]}", {label}
    return None


def entity_found(nlp_doc, labels: set[str], question: str) -> bool:
    asked = fold(question)
    return any(e.label_ in labels and fold(e.text) not in asked for e in nlp_doc.ents)


def main() -> int:
    import spacy

    parser = argparse.ArgumentParser(description="Types de réponse : NER de spaCy contre les expressions "
                                                 "régulières, sur les questions d'entraînement de PIAF.")
    parser.add_argument("--per-kind", type=int, default=250, help="au plus N questions par sorte")
    args = parser.parse_args()

    nlp = spacy.load("fr_core_news_md")
    base = get_settings()
    embedder = CachedEmbedder.of(get_embedder(base, "e5-small"), base)
    info = bench_store(load_bench("piaf", full=True), base, "e5-small", embedder, progress=False)
    store = Store(info.settings)
    idf = store.term_stats()
    search = Search(store, embedder)
    gold_doc = {key: doc for doc, keys in info.passages_of_doc.items() for key in keys}

    questions = load_training_questions()
    random.Random(7).shuffle(questions)
    by_kind: dict[str, list] = {}
    parsed = nlp.pipe((q.question for q in questions), batch_size=64)
    for q, doc in zip(questions, parsed):
        kind = expected_labels(doc)
        if kind and len(by_kind.setdefault(kind[0], [])) < args.per_kind:
            by_kind[kind[0]].append((q, kind[1]))
        if by_kind and all(len(v) >= args.per_kind for v in by_kind.values()) and len(by_kind) >= 5:
            break

    rows = {}
    for kind, cases in sorted(by_kind.items()):
        counts = {k: [0, 0, 0] for k in ("regex", "spacy")}
        n = 0
        for q, labels in cases:
            gold_docs = {gold_doc[g] for g in q.gold_ids if g in gold_doc}
            passages = search(q.question, Filters(), 8).passages
            candidates = sentence_candidates(q.question, passages, idf)
            answer_key = fold(q.answer)
            in_gold = [c for c in candidates if passages[c.passage].node.metadata.get("doc_id") in gold_docs]
            answering = [c for c in in_gold if answer_key and answer_key in fold(c.text)]
            others = sorted((c for c in candidates if not (answer_key and answer_key in fold(c.text))),
                            key=lambda c: c.score, reverse=True)
            removed = sorted((c for c in candidates
                              if passages[c.passage].node.metadata.get("doc_id") not in gold_docs),
                             key=lambda c: c.score, reverse=True)
            if not answering or not others or not removed:
                continue
            n += 1
            sentences = [answering[0].text, others[0].text, removed[0].text]
            for i, (sentence, spacy_doc) in enumerate(zip(sentences, nlp.pipe(sentences))):
                counts["regex"][i] += expected_type_found(q.question, [sentence]) == 1.0
                counts["spacy"][i] += entity_found(spacy_doc, labels, q.question)
        rows[kind] = (n, counts)

    table = Table(title="Type de réponse attendu trouvé dans la phrase (PIAF train)")
    for column in ("sorte", "questions", "détecteur", "phrase qui répond", "meilleure autre (réf. là)",
                   "meilleure sans la réf.", "écart réponse − sans réf."):
        table.add_column(column, justify="right")
    for kind, (n, counts) in rows.items():
        for name, (answer, present, removed) in counts.items():
            if n:
                table.add_row(kind, str(n), name, f"{answer / n:.3f}", f"{present / n:.3f}", f"{removed / n:.3f}",
                              f"{(answer - removed) / n:+.3f}")
    Console().print(table)
    return 0


if __name__ == "__main__":
    sys.exit(main())
