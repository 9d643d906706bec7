"""`veille entite NOM`: an entity's timeline (dated mentions with the cited sentence and its source) and the
entities most often mentioned with it; close names are suggested when it is not found."""
from __future__ import annotations

import json

from assistant.entities import Entities, label_name
from cli.console import out
from cli.options import add_entity_scope_args, filters_from_args
from watch.brief import french_date


def cmd_entite(args) -> int:
    timeline = Entities().timeline(" ".join(args.name), filters_from_args(args), limit=args.limit)
    if args.json:
        print(json.dumps(timeline.as_dict(), ensure_ascii=False))
        return 0
    out.print(f"[bold]{timeline.name}[/] ({label_name(timeline.label)}) — {timeline.mentions} mention(s) dans "
              f"{timeline.documents} document(s)", highlight=False)
    for e in timeline.entries:
        where = " · ".join(x for x in (e.doc_type, e.url or e.source) if x)
        out.print(f"\n[bold]{french_date(e.date)}[/] — {e.title} ({where})", highlight=False, markup=True)
        out.print(f"    « {e.sentence} »", markup=False, highlight=False)
    if timeline.total_entries > len(timeline.entries):
        out.print(f"\n[dim]… {len(timeline.entries)} phrases sur {timeline.total_entries} (--limit pour en voir plus).[/]")
    if timeline.co_mentioned:
        out.print("\n[bold]Souvent cité avec :[/] " + ", ".join(f"{n} ({d} doc.)" for n, d in timeline.co_mentioned),
                  highlight=False)
    return 0


def configure(p) -> None:
    p.add_argument("name", nargs="+", metavar="NOM", help="nom de l'entité, par exemple « Région Normandie »")
    p.add_argument("--limit", type=int, default=50, help="mentions affichées au plus (défaut 50)")
    p.add_argument("--json", action="store_true", help="résultat en JSON")
    add_entity_scope_args(p)
    p.set_defaults(func=cmd_entite)
