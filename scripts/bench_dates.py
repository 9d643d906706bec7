"""Dates found against true dates, on real files of every format read (bench/dated.py): what ingestion/dating.py
finds and which evidence it names, next to the date the format alone gave before (python-docx's template
stamp, htmldate's extensive search).

    python scripts/bench_dates.py            # the table, then the counts
    python scripts/bench_dates.py --json     # one object per file
"""
from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.dated import write_samples  # noqa: E402
from ingestion.dating import date_document  # noqa: E402
from ingestion.extract import EXTRACTORS, extract  # noqa: E402
from ingestion.metadata import read_sidecar  # noqa: E402
from ingestion.pipeline import documents_of, prepare  # noqa: E402
from ingestion.read import decode_text, read_file  # noqa: E402
from veille.config import get_settings  # noqa: E402
from veille.dates import DATE_SOURCES, parse_date  # noqa: E402


def _before(path: Path, extracted) -> str | None:
    """The date ingestion kept before dating weighed the evidence: the format's own (trafilatura with its
    default, extensive date search for a page)."""
    if path.suffix == ".html":
        import trafilatura

        doc = trafilatura.bare_extraction(decode_text(path.read_bytes(), html=True), with_metadata=True,
                                          favor_precision=True, output_format="python")
        return parse_date(doc.date) if doc else None
    return parse_date(extracted.meta.get("date"))


def _ms(seconds: float) -> str:
    return f"{1000 * seconds:.1f} ms".replace(".", ",")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    settings = get_settings()
    rows, seconds = [], []
    with tempfile.TemporaryDirectory() as folder:
        for sample, path in write_samples(Path(folder)):
            assert path.suffix in EXTRACTORS
            raw = read_file(path, settings.max_file_bytes)
            extracted = extract(raw)
            source, document, _, extra = next(iter(documents_of(str(path), extracted, read_sidecar(path))))
            doc = prepare(source, document, extra, settings, file_time=raw.mtime)
            t0 = time.perf_counter()  # the dating alone, once more (dateparser is loaded by then)
            date_document(doc.text, document.meta, extra, raw.mtime)
            seconds.append(time.perf_counter() - t0)
            found, evidence = doc.meta.get("date"), doc.meta.get("date_source")
            rows.append({"file": sample.name, "case": sample.case, "true": sample.true_date,
                         "before": _before(path, document), "found": found, "evidence": evidence,
                         "right": found == sample.true_date, "right_before": _before(path, document) == sample.true_date,
                         "expected_evidence": sample.evidence})
    if args.json:
        for row in rows:
            print(json.dumps(row, ensure_ascii=False))
        return 0
    print(f"| Fichier | Ce qu'il contient | Vraie date | Avant | Trouvée | Preuve |")
    print("|---|---|---|---|---|---|")
    for r in rows:
        mark = "✓" if r["right"] else "✗"
        before = (r["before"] or "aucune") + (" ✓" if r["right_before"] else " ✗")
        print(f"| {r['file']} | {r['case']} | {r['true']} | {before} | {r['found'] or 'aucune'} {mark} | "
              f"{DATE_SOURCES.get(r['evidence'], 'aucune')} |")
    right, before = sum(r["right"] for r in rows), sum(r["right_before"] for r in rows)
    named = sum(r["evidence"] == r["expected_evidence"] for r in rows)
    print(f"\nDates justes : {right}/{len(rows)} (avant : {before}/{len(rows)}) ; preuve attendue nommée : "
          f"{named}/{len(rows)} ; datation : {_ms(statistics.median(seconds))} par document (médiane), "
          f"{_ms(max(seconds))} au plus.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
