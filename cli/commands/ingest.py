"""`veille ingest`."""
from __future__ import annotations

import json
from pathlib import Path

from rich.table import Table

from cli.console import err, out
from cli.render import count_table, print_watch_summary
from ingestion.pipeline import ingest
from veille.numbers import decimal, plural, seconds
from watch.watches import after_ingestion


def cmd_ingest(args) -> int:
    paths = [Path(p) for p in args.paths]
    missing = [p for p in paths if not p.expanduser().exists() and not p.expanduser().is_symlink()]
    if missing:  # a typo in a path: said before anything is read, and nothing is changed
        for path in missing:
            err.print(f"Chemin introuvable : {path}", markup=False, highlight=False, soft_wrap=True)
        return 2
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
    problems = [(o.source, "ignoré" if o.status == "skipped" else "échec", o.reason)
                for o in report.outcomes if o.status in ("skipped", "failed")]
    _detail("Fichiers ignorés ou en échec", ["fichier", "statut", "raison"], problems)
    cut = [(o.source, o.reason) for o in report.outcomes if o.status in ("added", "updated") and o.reason]
    _detail("Documents lus en partie", ["fichier", "ce qui manque"], cut)
    # « inchangés » alone would hide an attachment folded into a file of the same batch: each one is said.
    _detail("Textes déjà présents (gardés une fois)", ["fichier", "identique à"],
            [(o.source, o.reason) for o in report.duplicates()])
    if report.documents_written and report.embed_seconds > 0:
        out.print(f"Débit : {decimal(report.documents_written / report.seconds, 2)} documents/s, "
                  f"{decimal(report.chunks_written / report.seconds, 1)} passages/s")
    if report.reused:
        out.print(f"Vecteurs repris du stockage (texte déjà vectorisé) : {plural(report.reused, 'passage')} ; "
                  f"passages vectorisés : {report.embedded}.")




def _detail(title: str, columns: list[str], rows: list[tuple]) -> None:
    """A table in a terminal; in a file or a pipe, one line per row (a table folded at 80 columns cuts the
    reasons that a log is searched for)."""
    if not rows:
        return
    if not out.is_terminal:
        out.print(f"{title} :", soft_wrap=True)
        for row in rows:
            out.print("- " + " — ".join(row), soft_wrap=True, markup=False, highlight=False)
        return
    table = Table(title=title, show_header=True)
    for column in columns:
        table.add_column(column, overflow="fold", no_wrap=column == "statut")
    for row in rows:
        table.add_row(*row)
    out.print(table)


def configure(p) -> None:
    p.add_argument("paths", nargs="+", metavar="chemin", help="fichiers ou dossiers")
    p.add_argument("--prune", action="store_true", help="retirer les documents dont le fichier a disparu")
    p.add_argument("--json", action="store_true", help="résumé en JSON")
    p.set_defaults(func=cmd_ingest)
