"""Extraction quality benchmark on ../shared/html_fr (trafilatura's own evaluation protocol).

A ``with`` snippet found in the extracted text is a true positive, a ``without`` snippet found is a
false positive (leak). Run: ``python -m bench.extraction [--options]``.
"""
from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

from rich.console import Console
from rich.table import Table

from ingestion.extract import extract_html
from ingestion.read import decode_text

SHARED = Path(__file__).resolve().parents[2] / "shared" / "html_fr"


def _norm(text: str) -> str:
    # Markdown emphasis markers (include_formatting) are layout, not content.
    return " ".join(text.replace("\u00a0", " ").replace("’", "'").replace("*", "").split())


def evaluate(root: Path, extract) -> dict:
    found = total_with = leaked = total_without = pages = 0
    misses, leaks = [], []
    seconds = 0.0
    for line in (root / "gold.jsonl").read_text(encoding="utf-8").splitlines():
        gold = json.loads(line)
        if not gold.get("with") and not gold.get("without"):
            continue
        data = (root / gold["file"]).read_bytes()
        t0 = time.perf_counter()
        try:
            text = _norm(extract(data, gold.get("url")))
        except Exception as exc:  # noqa: BLE001 - a page that fails counts as all misses
            text = ""
            misses.append((gold["file"], f"échec : {exc}"))
        seconds += time.perf_counter() - t0
        pages += 1
        for snippet in gold.get("with", []):
            total_with += 1
            if _norm(snippet) in text:
                found += 1
            else:
                misses.append((gold["file"], snippet))
        for snippet in gold.get("without", []):
            total_without += 1
            if _norm(snippet) in text:
                leaked += 1
                leaks.append((gold["file"], snippet))
    return {"pages": pages, "with_recall": found / max(1, total_with), "without_leaked": leaked / max(1, total_without),
            "with": total_with, "without": total_without, "seconds": seconds, "misses": misses, "leaks": leaks}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Qualité d'extraction HTML (extraits « with » / « without »).")
    parser.add_argument("--root", type=Path, default=SHARED, help="dossier html_fr (gold.jsonl + html/)")
    parser.add_argument("--compare", action="store_true",
                        help="comparer aussi les réglages trafilatura par défaut, précision et rappel")
    parser.add_argument("--details", action="store_true", help="lister les extraits manqués ou fuités")
    args = parser.parse_args(argv)
    if not (args.root / "gold.jsonl").is_file():
        print(f"Données absentes : {args.root} (../shared/html_fr)", file=sys.stderr)
        return 2


    variants = {"veille (ingestion.extract.extract_html)": lambda d, u: extract_html(d, u).text}
    if args.compare:
        import trafilatura


        def raw(**opts):
            return lambda d, u: trafilatura.extract(decode_text(d, html=True), url=u, **opts) or ""

        variants["trafilatura par défaut"] = raw()
        variants["trafilatura favor_precision"] = raw(favor_precision=True)
        variants["trafilatura favor_recall"] = raw(favor_recall=True)
    table = Table(title=f"Extraction sur {args.root}")
    for col in ("variante", "pages", "rappel with (≥ 0,90)", "fuites without (≤ 0,10)", "ms/page"):
        table.add_column(col, justify="right" if col != "variante" else "left")
    results = {}
    for name, fn in variants.items():
        r = evaluate(args.root, fn)
        results[name] = r
        table.add_row(name, str(r["pages"]), f"{r['with_recall']:.3f} ({r['with']})",
                      f"{r['without_leaked']:.3f} ({r['without']})", f"{1000 * r['seconds'] / max(1, r['pages']):.0f}")
    console = Console()
    console.print(table)
    if args.details:
        for name, r in results.items():
            console.print(f"[bold]{name}[/]")
            for f, s in r["misses"]:
                console.print(f"  manqué  {f} : {s!r}", markup=False)
            for f, s in r["leaks"]:
                console.print(f"  fuité   {f} : {s!r}", markup=False)
    return 0


if __name__ == "__main__":
    sys.exit(main())
