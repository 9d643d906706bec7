"""`veille collect`: fetch web pages (URLs or a sources file) into the corpus, then run the watches."""
from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

from rich.table import Table

from cli.console import err, out
from cli.render import count_table, print_watch_summary
from ingestion.collect import Collector, load_sources, sources_from_urls
from ingestion.collect.state import CollectState
from veille.config import get_settings
from veille.numbers import plural, seconds
from watch.watches import after_ingestion

COLUMNS = (("fetched", "reçues"), ("new", "nouvelles"), ("changed", "modifiées"), ("unchanged", "inchangées"),
           ("skipped", "ignorées"), ("failed", "échecs"))


def cmd_collect(args) -> int:
    settings = get_settings()
    if args.status:
        return print_status(settings, args.json)
    collector = Collector(settings, progress=not args.json)
    if args.reextract:
        names = None
        if args.sources:
            names = [s.name for s in load_sources(Path(args.sources))]
        report = collector.reextract(names)
    else:
        sources = load_sources(Path(args.sources)) if args.sources else []
        if args.urls:
            meta = {k: v for k, v in {"doc_type": args.doc_type, "filieres": args.filieres, "region": args.region,
                                      "tags": args.tags}.items() if v}
            sources += sources_from_urls(args.urls, meta)
        if not sources:
            err.print("Rien à collecter : donnez des adresses (veille collect URL…) ou un fichier "
                      "(--sources sources.yaml ; modèle : corpus/sources.example.yaml).")
            return 2
        report = collector.run(sources)

    watch_summary, warning = after_ingestion(settings, collector.embedder)
    if args.json:
        print(json.dumps({**report.as_dict(), "watches": watch_summary}, ensure_ascii=False))
    else:
        print_report(report)
        print_watch_summary(watch_summary, warning)
    return 0 if report.counts()["failed"] == 0 else 1


def print_report(report) -> None:
    table = count_table("Collecte terminée (pages)", ["source", *(label for _, label in COLUMNS)], first_is_label=True)
    table.columns[0].no_wrap, table.columns[0].overflow = False, "fold"
    for name in report.sources:
        counts = report.counts(name)
        table.add_row(name, *(str(counts[k]) for k, _ in COLUMNS))
    if len(report.sources) > 1:
        counts = report.counts()
        table.add_row("[bold]total[/]", *(f"[bold]{counts[k]}[/]" for k, _ in COLUMNS))
    out.print(table)
    problems = [p for p in report.pages if p.status in ("skipped", "failed")]
    if problems:
        detail = Table(title="Pages ignorées ou en échec")
        for col in ("adresse", "source", "statut", "raison"):
            detail.add_column(col, overflow="fold")
        for p in problems:
            detail.add_row(p.url, p.source, "ignorée" if p.status == "skipped" else "échec", p.reason)
        out.print(detail)
    t = report.timings
    out.print(f"{plural(report.requests, 'requête HTTP', 'requêtes HTTP')} dont "
              f"{plural(report.conditional_requests, 'conditionnelle')} · durée {seconds(report.seconds)} "
              f"(téléchargement {seconds(t.get('fetch', 0))}, extraction {seconds(t.get('extract', 0))}, "
              f"vectorisation {seconds(t.get('embed', 0))}, écriture {seconds(t.get('store', 0))})")


def print_status(settings, as_json: bool) -> int:
    rows = CollectState(settings).rows(kind="page")
    per: dict[str, dict] = {}
    for r in rows:
        s = per.setdefault(r["source_name"], {"pages": 0, "documents": 0, "new": 0, "changed": 0, "unchanged": 0,
                                              "skipped": 0, "failed": 0, "fetched": 0, "last_fetch": 0.0,
                                              "last_change": 0.0, "last_error": ""})
        s["pages"] += 1
        s["documents"] += 1 if r["doc_id"] else 0
        s[r["status"]] = s.get(r["status"], 0) + 1
        s["last_fetch"] = max(s["last_fetch"], r["last_fetch"] or 0)
        s["last_change"] = max(s["last_change"], r["last_change"] or 0)
        if r["status"] == "failed" and r["error"]:
            s["last_error"] = f"{r['url']} : {r['error']}"
    if as_json:
        print(json.dumps(per, ensure_ascii=False))
        return 0
    if not per:
        out.print("Aucune collecte pour l'instant (veille collect URL… ou --sources FICHIER).")
        return 0

    def when(ts: float) -> str:
        return dt.datetime.fromtimestamp(ts).strftime("%d/%m/%Y %H:%M") if ts else "–"

    table = Table(title="État de la collecte par source")
    for col in ("source", "pages", "documents", "dernier passage", "dernier changement", "inchangées",
                "ignorées", "en échec", "dernière erreur"):
        table.add_column(col, justify="right" if col in ("pages", "documents", "inchangées", "ignorées", "en échec")
                         else "left", overflow="fold")
    for name, s in per.items():
        table.add_row(name, str(s["pages"]), str(s["documents"]), when(s["last_fetch"]), when(s["last_change"]),
                      str(s["unchanged"]), str(s["skipped"]), str(s["failed"]), s["last_error"] or "–")
    out.print(table)
    return 0


def configure(p) -> None:
    p.add_argument("urls", nargs="*", metavar="adresse", help="adresses http(s) à collecter")
    p.add_argument("--sources", metavar="FICHIER", help="fichier YAML de sources (voir corpus/sources.example.yaml)")
    p.add_argument("--status", action="store_true", help="état de la collecte par source")
    p.add_argument("--reextract", action="store_true",
                   help="ré-extraire depuis les copies locales, sans retélécharger")
    p.add_argument("--type", dest="doc_type", metavar="TYPE", help="type des documents collectés (adresses en argument)")
    p.add_argument("--filiere", dest="filieres", action="append", default=[], metavar="FILIERE", help="filière ; répétable")
    p.add_argument("--region", metavar="REGION", help="région")
    p.add_argument("--tag", dest="tags", action="append", default=[], metavar="ÉTIQUETTE", help="étiquette ; répétable")
    p.add_argument("--json", action="store_true", help="résumé en JSON")
    p.set_defaults(func=cmd_collect)
