"""`veille entites`: the most mentioned organisations, people and places, with their trend over the period;
`veille entites NOM`: that entity's timeline (dated mentions with the cited sentence and its source) and the
entities most often mentioned with it; close names are suggested when it is not found."""
from __future__ import annotations

import json

from rich.table import Table

from assistant.entities import Entities, EntityError, label_name
from cli.console import out
from cli.options import add_entity_scope_args, filters_from_args
from veille.numbers import plural
from watch.brief import french_date

BARS = "▁▂▃▄▅▆▇█"
LIST_LIMIT, TIMELINE_LIMIT = 20, 50  # entities listed, mentions shown


def sparkline(values: list[int]) -> str:
    top = max(values, default=0)
    return "".join(BARS[min(len(BARS) - 1, round(v / top * (len(BARS) - 1)))] if top else BARS[0] for v in values)


def cmd_entites(args) -> int:
    if args.name:
        if args.label:
            raise EntityError("--type trie la liste des entités : il ne s'emploie pas avec un nom.")
        return _timeline(args)
    found = Entities().top(filters_from_args(args), label=args.label, limit=args.limit or LIST_LIMIT)
    if args.json:
        print(json.dumps([e.as_dict() for e in found], ensure_ascii=False))
        return 0
    if not found:
        out.print("Aucune entité dans les documents consultables pour ces filtres.")
        return 0
    span = f" ({found[0].trend[0][0]} → {found[0].trend[-1][0]})" if found[0].trend else ""
    table = Table(title="Entités les plus citées")
    for col in ("n°", "entité", "type", "documents", "mentions", f"tendance{span}"):
        table.add_column(col, overflow="fold")
    for i, e in enumerate(found, 1):
        table.add_row(str(i), e.name, label_name(e.label), str(e.documents), str(e.mentions),
                      sparkline([n for _, n in e.trend]))
    out.print(table)
    return 0


def _timeline(args) -> int:
    timeline = Entities().timeline(" ".join(args.name), filters_from_args(args), limit=args.limit or TIMELINE_LIMIT)
    if args.json:
        print(json.dumps(timeline.as_dict(), ensure_ascii=False))
        return 0
    counts = f"{plural(timeline.mentions, 'mention')} dans {plural(timeline.documents, 'document')}"
    out.print(f"[bold]{timeline.name}[/] ({label_name(timeline.label)}) — {counts}", highlight=False)
    for e in timeline.entries:
        where = " · ".join(x for x in (e.doc_type, e.url or e.source) if x)
        out.print(f"\n[bold]{french_date(e.date)}[/] — {e.title} ({where})", highlight=False, markup=True)
        out.print(f"    « {e.sentence} »", markup=False, highlight=False)
    if timeline.total_entries > len(timeline.entries):
        out.print(f"\n[dim]… {len(timeline.entries)} phrases sur {timeline.total_entries} "
                  "(--limit pour en voir plus).[/]")
    if timeline.co_mentioned:
        out.print("\n[bold]Souvent cité avec :[/] " + ", ".join(f"{n} ({d} doc.)" for n, d in timeline.co_mentioned),
                  highlight=False)
    return 0


def configure(p) -> None:
    p.add_argument("name", nargs="*", metavar="NOM",
                   help="nom d'une entité, par exemple « Région Normandie » : sa chronologie (mentions datées, "
                        "phrases citées, entités co-citées) ; sans nom, les entités les plus citées")
    p.add_argument("--type", dest="label", type=str.upper, choices=["ORG", "PER", "LOC"],
                   help="liste seulement : organisations (ORG), personnes (PER) ou lieux (LOC)")
    p.add_argument("--limit", type=int, default=None, metavar="N",
                   help=f"entités listées (défaut {LIST_LIMIT}) ou mentions affichées d'une entité (défaut "
                        f"{TIMELINE_LIMIT})")
    p.add_argument("--json", action="store_true", help="résultat en JSON")
    add_entity_scope_args(p)
    p.set_defaults(func=cmd_entites)
