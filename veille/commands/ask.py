"""`veille ask`."""
from __future__ import annotations

import argparse
import json
import sys

from veille.console import err, out


def add_filter_args(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--type", dest="doc_types", action="append", default=[],
                        help="type de document (article, rapport, bulletin, autre) ; répétable")
    parser.add_argument("--since", help="date de début (AAAA, AAAA-MM ou AAAA-MM-JJ)")
    parser.add_argument("--until", help="date de fin (AAAA, AAAA-MM ou AAAA-MM-JJ)")
    parser.add_argument("--source", dest="sources", action="append", default=[], help="site ou source ; répétable")
    parser.add_argument("--filiere", dest="filieres", action="append", default=[], help="filière ; répétable")
    parser.add_argument("--region", dest="regions", action="append", default=[], help="région ; répétable")
    parser.add_argument("--lang", dest="languages", action="append", default=[], help="langue (fr, en…) ; répétable")
    parser.add_argument("--as", dest="as_login", metavar="IDENTIFIANT",
                        help="agir en tant que ce compte : seuls les documents de son audience sont cherchés")


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

    filters = Filters(doc_types=[slug(t) for t in args.doc_types], date_from=bound(args.since, False),
                      date_to=bound(args.until, True), sources=args.sources,
                      filieres=[slug(f) for f in args.filieres], regions=args.regions, languages=args.languages)
    return _as_user(filters, getattr(args, "as_login", None))


def _as_user(filters, login: str | None):
    """``--as LOGIN``: that account's audience narrows the filters (see assistant/access.py)."""
    if not login:
        return filters
    from assistant.access import AccessError, restrict, user_for_cli
    from veille.config import get_settings

    try:
        return restrict(filters, user_for_cli(get_settings(), login))
    except AccessError as exc:
        raise SystemExit(str(exc)) from None


def cmd_ask(args) -> int:
    from assistant.service import get_assistant

    assistant = get_assistant()
    filters = filters_from_args(args)
    questions = [" ".join(args.question)] if args.question else [l.strip() for l in sys.stdin if l.strip()]
    if not questions:
        err.print("Aucune question : passez-la en argument ou une par ligne sur l'entrée standard.")
        return 2
    for question in questions:
        emit_answer(assistant.ask(question, filters), args.json)
    return 0


def emit_answer(answer, as_json: bool) -> None:
    """One JSON object per line (scripts), or the readable French rendering."""
    if as_json:
        print(json.dumps(answer.as_json(), ensure_ascii=False), flush=True)
    else:
        print_answer(answer)


def print_answer(answer) -> None:
    out.print(f"[bold]Question :[/] {answer.question}")
    if getattr(answer, "standalone_question", None):
        out.print(f"[dim]Compris comme : {answer.standalone_question}[/]", highlight=False)
    if answer.mode != "extractif":
        out.print(f"[dim]Mode : {answer.mode}[/]", highlight=False)
    if answer.filter_note:
        out.print(f"[dim]Filtre tiré de la question : {answer.filter_note}[/]")
    if answer.filters:
        from assistant.filters import Filters

        described = Filters(**answer.filters).describe()
        if described:
            out.print(f"[dim]Filtres appliqués : {described}[/]")
    if answer.notice:
        out.print(f"[yellow]{answer.notice}[/]")
    out.print()
    out.print(answer.answer, markup=False, highlight=False)
    if answer.citations:
        out.print("\n[bold]Sources[/]")
        for c in answer.citations:
            meta = " · ".join(x for x in (c.doc_type, c.date or "", c.pages_label(), c.link() or c.source) if x)
            out.print(f"[{c.n}] [bold]{c.title}[/] ({meta})", highlight=False)
            quote = c.quote.replace("\n", " ")
            out.print(f"    « {quote[:400]}{'…' if len(quote) > 400 else ''} »", markup=False, highlight=False)
    out.print()




def register(sub) -> None:
    p = sub.add_parser("ask", help="poser une question (ou une par ligne sur l'entrée standard)")
    p.add_argument("question", nargs="*")
    p.add_argument("--json", action="store_true", help="un objet JSON par question")
    add_filter_args(p)
    p.set_defaults(func=cmd_ask)
