"""`veille ingest`."""
from __future__ import annotations

import json
from pathlib import Path

from rich.table import Table

from assistant.watches import after_ingestion
from cli.console import out
from cli.render import count_table, plural, print_watch_summary
from ingestion.pipeline import ingest
from veille.numbers import decimal, seconds


def cmd_ingest(args) -> int:
    paths = [Path(p) for p in args.paths]
    report = ingest(paths, prune=args.prune, progress=not args.json)
    if args.json:
        print(json.dumps(report.as_dict(), ensure_ascii=False))
    else:
        print_ingest_report(report)
    if report.documents_written:  # saved watches look at what just arrived
        counts, warning = after_ingestion()
        if not args.json:
            print_watch_summary(counts, warning)
    return 0 if report.count("failed") == 0 else 1


def print_ingest_report(report) -> None:
    # Short headers, light borders: the table fits an 80-column terminal without cutting a word.
    table = count_table("Ingestion terminée", ["ajoutés", "modifiés", "inchangés", "ignorés", "échecs", "retirés",
                                               "passages", "durée"])
    table.add_row(*(str(report.count(s)) for s in ("added", "updated", "unchanged", "skipped", "failed", "removed")),
                  str(report.chunks_written), seconds(report.seconds))
    out.print(table)
    if report.recovered:
        out.print(f"[yellow]{plural(report.recovered, 'document')} d'une ingestion interrompue "
                  f"{'nettoyé puis repris' if report.recovered == 1 else 'nettoyés puis repris'}.[/]")
    problems = [o for o in report.outcomes if o.status in ("skipped", "failed")]
    if problems:
        detail = Table(title="Fichiers ignorés ou en échec", show_header=True)
        detail.add_column("fichier", overflow="fold")
        detail.add_column("statut", no_wrap=True)
        detail.add_column("raison", overflow="fold")
        for o in problems:
            detail.add_row(o.source, "ignoré" if o.status == "skipped" else "échec", o.reason)
        out.print(detail)
    if report.documents_written and report.embed_seconds > 0:
        out.print(f"Débit : {decimal(report.documents_written / report.seconds, 2)} documents/s, "
                  f"{decimal(report.chunks_written / report.seconds, 1)} passages/s")
    if report.reused:
        out.print(f"Vecteurs repris du stockage (texte déjà vectorisé) : {plural(report.reused, 'passage')} ; "
                  f"passages vectorisés : {report.embedded}.")




def configure(p) -> None:
    p.add_argument("paths", nargs="+", metavar="chemin", help="fichiers ou dossiers")
    p.add_argument("--prune", action="store_true", help="retirer les documents dont le fichier a disparu")
    p.add_argument("--json", action="store_true", help="résumé en JSON")
    p.set_defaults(func=cmd_ingest)
