"""NER quality on the hand-annotated gold set of ``corpus/`` (``eval/data/entities_gold.json``): precision and
recall per type (ORG, PER, LOC), on the dev documents (where the post-filter rules were written) and on the test
documents (measured untouched), for Veille's entity stage and for the raw spaCy model it starts from.

    python -m eval.entities [--json]

A found mention is right when it overlaps a gold mention of the same type with the same name (``entity_key``:
case, accents, articles ignored); mentions overlapping an « ignore » span count neither way.
"""
from __future__ import annotations

import argparse
import json
import re
import time
from collections import defaultdict
from dataclasses import dataclass

from ingestion.entities import EntityExtractor
from ingestion.extract import extract
from ingestion.normalize import clean_text
from ingestion.read import read_file
from veille.config import CORPUS_DIR, REPO_ROOT
from veille.entity_names import DEFAULT_ALIASES, LABELS, AliasBook, clean_surface, entity_key

GOLD = REPO_ROOT / "eval" / "data" / "entities_gold.json"


@dataclass(frozen=True)
class Span:
    start: int
    end: int
    label: str
    key: str


def _pattern(name: str) -> re.Pattern:
    """Any spacing, either apostrophe; whole words only."""
    parts = [re.escape(p) for p in re.split(r"\s+", name.strip())]
    body = re.sub("['’]", "['’]", r"\s+".join(parts))
    return re.compile(rf"(?<![\w@]){body}(?![\w@])")


def gold_spans(text: str, entry: dict) -> tuple[list[Span], list[tuple[int, int]]]:
    """Every occurrence of every listed name, longest names first, never overlapping."""
    names = [(n, label) for label in LABELS for n in entry.get(label, [])] + [(n, "") for n in entry.get("ignore", [])]
    taken: list[tuple[int, int]] = []
    spans, ignored = [], []
    for name, label in sorted(names, key=lambda x: -len(x[0])):
        for m in _pattern(name).finditer(text):
            if any(m.start() < e and s < m.end() for s, e in taken):
                continue
            taken.append((m.start(), m.end()))
            if label:
                spans.append(Span(m.start(), m.end(), label, entity_key(name)))
            else:
                ignored.append((m.start(), m.end()))
    return spans, ignored


def corpus_text(name: str) -> str:
    """The text exactly as ingestion stores it (offsets of mentions point into it)."""
    return clean_text(extract(read_file(CORPUS_DIR / name, 20 * 1024 * 1024)).text)


def score(found: list[Span], gold: list[Span], ignored: list[tuple[int, int]],
          errors: list | None = None) -> dict[str, list[int]]:
    """Per type: [true positives, false positives, false negatives]; ``errors`` collects the wrong ones."""
    counts = {label: [0, 0, 0] for label in LABELS}
    errors = errors if errors is not None else []
    matched: set[int] = set()
    for f in found:
        if any(f.start < e and s < f.end for s, e in ignored):
            continue
        hit = next((i for i, g in enumerate(gold) if i not in matched and g.label == f.label and g.key == f.key
                    and f.start < g.end and g.start < f.end), None)
        if hit is None:
            counts[f.label][1] += 1
            errors.append(("faux", f.label, f.key))
        else:
            matched.add(hit)
            counts[f.label][0] += 1
    for i, g in enumerate(gold):
        if i not in matched:
            counts[g.label][2] += 1
            errors.append(("manqué", g.label, g.key))
    return counts


def raw_model_spans(extractor: EntityExtractor, text: str) -> list[Span]:
    """What the spaCy model says alone (MISC dropped), over the whole text."""
    doc = extractor.nlp(text)
    return [Span(e.start_char, e.end_char, e.label_, entity_key(clean_surface(e.text)))
            for e in doc.ents if e.label_ in LABELS]


def evaluate(book: AliasBook | None = None, show_errors: str | None = None) -> dict:
    gold = json.loads(GOLD.read_text(encoding="utf-8"))["documents"]
    extractor = EntityExtractor(book or AliasBook.parse(DEFAULT_ALIASES))
    t0 = time.perf_counter()
    extractor.nlp  # noqa: B018 - load before timing the reading
    load_s = time.perf_counter() - t0
    totals: dict[str, dict[str, dict[str, list[int]]]] = defaultdict(lambda: defaultdict(lambda: {l: [0, 0, 0] for l in LABELS}))
    tokens = 0
    read_s = 0.0
    for name, entry in gold.items():
        text = corpus_text(name)
        spans, ignored = gold_spans(text, entry)
        t0 = time.perf_counter()
        found = extractor.find([text])[0]
        read_s += time.perf_counter() - t0
        tokens += len(text.split())
        book = extractor.book  # the ignore list applies, as everywhere entities are shown
        ours = [Span(f.start, f.end, f.label, entity_key(f.surface)) for f in found
                if book.canonical(entity_key(f.surface))]
        for system, predicted in (("veille", ours), ("spacy_brut", raw_model_spans(extractor, text))):
            errors: list = []
            for split in (entry["split"], "tout"):
                for label, c in score(predicted, spans, ignored, errors).items():
                    acc = totals[system][split][label]
                    for i in range(3):
                        acc[i] += c[i]
            if show_errors == entry["split"] and system == "veille":
                print(name, sorted(set(errors)))
    return {"systems": {s: {split: {label: _prf(c) for label, c in by.items()} | {"toutes": _prf(_sum(by))}
                              for split, by in splits.items()} for s, splits in totals.items()},
            "model_load_s": round(load_s, 2), "words_per_s": round(tokens / read_s) if read_s else None}


def _sum(by: dict[str, list[int]]) -> list[int]:
    return [sum(c[i] for c in by.values()) for i in range(3)]


def _prf(c: list[int]) -> dict:
    tp, fp, fn = c
    p = tp / (tp + fp) if tp + fp else 0.0
    r = tp / (tp + fn) if tp + fn else 0.0
    return {"precision": round(p, 3), "rappel": round(r, 3), "f1": round(2 * p * r / (p + r), 3) if p + r else 0.0,
            "vrais": tp, "faux": fp, "manqués": fn}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m eval.entities", description=__doc__.split("\n\n")[0])
    parser.add_argument("--json", action="store_true", help="résultat en JSON")
    parser.add_argument("--erreurs", choices=["dev", "test"], help="lister les erreurs d'une partie")
    args = parser.parse_args(argv)
    result = evaluate(show_errors=args.erreurs)
    if args.json:
        print(json.dumps(result, ensure_ascii=False, indent=2))
        return 0
    print(f"Modèle chargé en {result['model_load_s']} s ; lecture {result['words_per_s']} mots/s")
    for system, splits in result["systems"].items():
        print(f"\n== {system}")
        print(f"{'partie':6} {'type':7} {'précision':>9} {'rappel':>7} {'F1':>6} {'vrais':>6} {'faux':>5} {'manqués':>8}")
        for split in ("dev", "test", "tout"):
            for label, m in splits.get(split, {}).items():
                print(f"{split:6} {label:7} {m['precision']:9.3f} {m['rappel']:7.3f} {m['f1']:6.3f} {m['vrais']:6d} "
                      f"{m['faux']:5d} {m['manqués']:8d}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
