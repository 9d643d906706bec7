"""The ``veille`` command line. Messages are in French; the work is done by ingestion/ and assistant/."""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from rich.console import Console
from rich.table import Table

out = Console()
err = Console(stderr=True)


# --- ingest -------------------------------------------------------------------------------------
def cmd_ingest(args) -> int:
    from ingestion.pipeline import ingest

    paths = [Path(p) for p in args.paths]
    report = ingest(paths, prune=args.prune, progress=not args.json)
    if args.json:
        print(json.dumps(report.as_dict(), ensure_ascii=False))
    else:
        print_ingest_report(report)
    return 0 if report.count("failed") == 0 else 1


def print_ingest_report(report) -> None:
    table = Table(title="Ingestion terminée", show_header=True)
    for col in ("ajoutés", "mis à jour", "inchangés", "ignorés", "en échec", "retirés", "passages écrits", "durée"):
        table.add_column(col, justify="right")
    table.add_row(*(str(report.count(s)) for s in ("added", "updated", "unchanged", "skipped", "failed", "removed")),
                  str(report.chunks_written), f"{report.seconds:.1f} s")
    out.print(table)
    if report.recovered:
        out.print(f"[yellow]{report.recovered} document(s) d'une ingestion interrompue nettoyé(s) puis repris.[/]")
    problems = [o for o in report.outcomes if o.status in ("skipped", "failed")]
    if problems:
        detail = Table(title="Fichiers ignorés ou en échec", show_header=True)
        detail.add_column("fichier")
        detail.add_column("statut")
        detail.add_column("raison")
        for o in problems:
            detail.add_row(o.source, "ignoré" if o.status == "skipped" else "échec", o.reason)
        out.print(detail)
    if report.documents_written and report.embed_seconds > 0:
        out.print(f"Débit : {report.documents_written / report.seconds:.2f} documents/s, "
                  f"{report.chunks_written / report.seconds:.1f} passages/s")


# --- ask ------------------------------------------------------------------------------------------
def add_filter_args(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--type", dest="doc_types", action="append", default=[],
                        help="type de document (article, rapport, bulletin, autre) ; répétable")
    parser.add_argument("--since", help="date de début (AAAA, AAAA-MM ou AAAA-MM-JJ)")
    parser.add_argument("--until", help="date de fin (AAAA, AAAA-MM ou AAAA-MM-JJ)")
    parser.add_argument("--source", dest="sources", action="append", default=[], help="site ou source ; répétable")
    parser.add_argument("--filiere", dest="filieres", action="append", default=[], help="filière ; répétable")
    parser.add_argument("--region", dest="regions", action="append", default=[], help="région ; répétable")
    parser.add_argument("--lang", dest="languages", action="append", default=[], help="langue (fr, en…) ; répétable")


def filters_from_args(args):
    from assistant.filters import Filters
    from ingestion.metadata import date_number, parse_date, slug

    def bound(value, end: bool):
        if not value:
            return None
        iso = parse_date(value)
        if not iso:
            raise SystemExit(f"Date invalide : « {value} » (attendu AAAA, AAAA-MM ou AAAA-MM-JJ).")
        parts = iso.split("-")
        if end:  # an open end covers the whole year or month
            parts += ["12", "31"][len(parts) - 1:] if len(parts) < 3 else []
            if len(parts) == 2:
                parts.append("31")
        return date_number("-".join(parts))

    return Filters(doc_types=[slug(t) for t in args.doc_types], date_from=bound(args.since, False),
                   date_to=bound(args.until, True), sources=args.sources,
                   filieres=[slug(f) for f in args.filieres], regions=args.regions, languages=args.languages)


def cmd_ask(args) -> int:
    from assistant.service import get_assistant

    assistant = get_assistant()
    filters = filters_from_args(args)
    questions = [" ".join(args.question)] if args.question else [l.strip() for l in sys.stdin if l.strip()]
    if not questions:
        err.print("Aucune question : passez-la en argument ou une par ligne sur l'entrée standard.")
        return 2
    for question in questions:
        answer = assistant.ask(question, filters)
        if args.json:
            print(json.dumps(answer.as_json(), ensure_ascii=False), flush=True)
        else:
            print_answer(answer)
    return 0


def print_answer(answer) -> None:
    out.print(f"[bold]Question :[/] {answer.question}")
    if answer.filters:
        out.print(f"[dim]Filtres appliqués : {answer.filters}[/]")
    if answer.notice:
        out.print(f"[yellow]{answer.notice}[/]")
    out.print()
    out.print(answer.answer, markup=False, highlight=False)
    if answer.citations:
        out.print("\n[bold]Sources[/]")
        for c in answer.citations:
            meta = " · ".join(x for x in (c.doc_type, c.date or "", c.source) if x)
            out.print(f"[{c.n}] [bold]{c.title}[/] ({meta})", highlight=False)
            quote = c.quote.replace("\n", " ")
            out.print(f"    « {quote[:400]}{'…' if len(quote) > 400 else ''} »", markup=False, highlight=False)
    out.print()


# --- status ---------------------------------------------------------------------------------------
def cmd_status(args) -> int:
    from veille.config import get_settings
    from veille.store import get_store

    settings = get_settings()
    store = get_store(settings)
    db = store.db
    docs = db.execute("SELECT count(*) FROM documents WHERE state='done'").fetchone()[0]
    chunks = db.execute("SELECT count(*) FROM chunks").fetchone()[0]
    vectors = store.collection.count()
    types = dict(db.execute("SELECT doc_type, count(*) FROM documents WHERE state='done' GROUP BY doc_type").fetchall())
    langs = dict(db.execute("SELECT language, count(*) FROM documents WHERE state='done' GROUP BY language").fetchall())
    last = db.execute("SELECT finished_at FROM ingestions ORDER BY id DESC LIMIT 1").fetchone()
    info = {"documents": docs, "chunks": chunks, "vectors": vectors, "types": types, "languages": langs,
            "model": settings.embedder, "collection": settings.collection_name, "store": store.location,
            "database": str(settings.db_path), "home": str(settings.home),
            "last_ingestion": last[0] if last else None}
    if args.json:
        print(json.dumps(info, ensure_ascii=False))
        return 0
    table = Table(title="État du corpus Veille", show_header=False)
    table.add_column("", style="bold")
    table.add_column("")
    import datetime as _dt

    rows = [("Documents", str(docs)), ("Passages", str(chunks)), ("Vecteurs (Chroma)", str(vectors)),
            ("Types", ", ".join(f"{k} : {v}" for k, v in types.items()) or "–"),
            ("Langues", ", ".join(f"{k} : {v}" for k, v in langs.items()) or "–"),
            ("Modèle d'embedding", settings.embedder), ("Collection", settings.collection_name),
            ("Stockage", store.location), ("Données", str(settings.home)),
            ("Dernière ingestion", _dt.datetime.fromtimestamp(last[0]).strftime("%d/%m/%Y %H:%M") if last else "jamais")]
    for k, v in rows:
        table.add_row(k, v)
    out.print(table)
    if vectors != chunks:
        out.print("[yellow]Attention : le nombre de vecteurs diffère du nombre de passages ; "
                  "relancez « veille ingest » pour réparer.[/]")
    return 0


# --- build-model -----------------------------------------------------------------------------------
def cmd_build_model(args) -> int:
    from veille.config import get_settings
    from veille.embeddings import get_embedder

    embedder = get_embedder(get_settings())
    out.print(f"Modèle « {embedder.name} » prêt (dimension {embedder.dim}).")
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="veille", description="Veille : assistant de veille économique territoriale.")
    sub = parser.add_subparsers(dest="command", required=True, metavar="commande")

    p = sub.add_parser("ingest", help="ingérer des fichiers ou dossiers dans le corpus")
    p.add_argument("paths", nargs="+", help="fichiers ou dossiers")
    p.add_argument("--prune", action="store_true", help="retirer les documents dont le fichier a disparu")
    p.add_argument("--json", action="store_true", help="résumé en JSON")
    p.set_defaults(func=cmd_ingest)

    p = sub.add_parser("ask", help="poser une question (ou une par ligne sur l'entrée standard)")
    p.add_argument("question", nargs="*")
    p.add_argument("--json", action="store_true", help="un objet JSON par question")
    add_filter_args(p)
    p.set_defaults(func=cmd_ask)

    p = sub.add_parser("status", help="ce que contient le corpus")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_status)

    p = sub.add_parser("build-model", help="construire le modèle d'embedding hors ligne")
    p.set_defaults(func=cmd_build_model)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return args.func(args)
    except KeyboardInterrupt:
        err.print("Interrompu. Relancez la même commande : le travail reprend proprement.")
        return 130


if __name__ == "__main__":
    sys.exit(main())
