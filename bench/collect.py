"""Collection throughput against a loopback site (the pages of ../shared/html_fr, or a folder given),
politeness delay zero, with the time split per stage (fetch, extract, embed, store), then a second
run that must cost only conditional requests.

Run: ``python -m bench.collect [--folder DIR] [--copies N]``.
"""
from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
import time
from pathlib import Path

from rich.console import Console
from rich.table import Table

from bench.site import Site
from ingestion.collect import Collector, Source
from veille.config import get_settings
from veille.embeddings import get_embedder

SHARED = Path(__file__).resolve().parents[2] / "shared" / "html_fr" / "html"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Débit de la collecte sur un site local (127.0.0.1).")
    parser.add_argument("--folder", type=Path, default=SHARED, help="dossier de pages HTML à servir")
    parser.add_argument("--copies", type=int, default=1,
                        help="servir chaque page N fois sous des adresses distinctes (contenu dédoublonné)")
    parser.add_argument("--concurrency", type=int, default=8)
    args = parser.parse_args(argv)
    if not args.folder.is_dir():
        print(f"Dossier absent : {args.folder} (../shared/html_fr/html)", file=sys.stderr)
        return 2


    base = get_settings()
    home = Path(tempfile.mkdtemp(prefix="veille-bench-collect-"))
    settings = base.with_(home=home, models_path=base.models_dir, collect_delay=0.0,
                          collect_allow_hosts=("127.0.0.1",), collect_concurrency=args.concurrency,
                          collect_per_host=args.concurrency)
    console = Console()
    t0 = time.perf_counter()
    embedder = get_embedder(settings)
    embedder.embed_passages(["préchauffage"])
    console.print(f"Modèle chargé en {time.perf_counter() - t0:.1f} s (hors mesure).")
    site = Site.from_folder(args.folder)
    if args.copies > 1:
        site.pages = {f"{name}-{i}": body for name, body in site.pages.items() for i in range(args.copies)}
    try:
        with site:
            source = Source("banc", "sitemap", [f"{site.base}/sitemap.xml"])
            first = Collector(settings, embedder=embedder, progress=False).run([source])
            site.log.clear()
            second = Collector(settings, embedder=embedder, progress=False).run([source])
            conditional = sum(1 for h in site.log if h.headers.get("If-None-Match") or h.headers.get("If-Modified-Since"))
            not_modified = sum(1 for h in site.log if h.status == 304)
    finally:
        shutil.rmtree(home, ignore_errors=True)

    c = first.counts()
    chunks = first.ingest.chunks_written if first.ingest else 0
    table = Table(title=f"Collecte de {len(site.pages)} pages sur 127.0.0.1 (délai de politesse 0, "
                        f"{args.concurrency} requêtes en parallèle)")
    for col in ("étape", "secondes", "part", "débit"):
        table.add_column(col, justify="right" if col != "étape" else "left")
    total = first.seconds
    rates = {"fetch": f"{c['fetched'] / max(first.timings['fetch'], 1e-9):.0f} pages/s",
             "extract": f"{c['fetched'] / max(first.timings['extract'], 1e-9):.1f} pages/s",
             "embed": f"{chunks / max(first.timings['embed'], 1e-9):.1f} passages/s",
             "store": f"{chunks / max(first.timings['store'], 1e-9):.0f} passages/s"}
    labels = {"fetch": "téléchargement (async)", "extract": "extraction (trafilatura/pypdf)",
              "embed": "vectorisation (e5-small)", "store": "préparation + écriture (découpage, Chroma, SQLite)"}
    for key in ("fetch", "extract", "embed", "store"):
        table.add_row(labels[key], f"{first.timings[key]:.2f}", f"{100 * first.timings[key] / total:.0f} %", rates[key])
    table.add_row("[bold]total[/]", f"[bold]{total:.2f}[/]", "100 %",
                  f"{c['fetched'] / total:.2f} pages/s · {chunks / total:.1f} passages/s")
    console.print(table)
    console.print(f"Premier passage : {c['fetched']} téléchargées, {c['new']} nouvelles, {c['unchanged']} inchangées "
                  f"(doublons), {c['skipped']} ignorées, {c['failed']} en échec ; {chunks} passages ; "
                  f"{first.requests} requêtes.")
    s = second.counts()
    console.print(f"Second passage : {second.requests} requêtes dont {conditional} conditionnelles, {not_modified} "
                  f"réponses 304, {s['unchanged']} inchangées, rien d'écrit ({'oui' if second.ingest is None else 'NON'}) "
                  f"en {second.seconds:.2f} s.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
