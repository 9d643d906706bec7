"""`veille entites`: the most mentioned organisations, people and places, with their trend over the period."""
from __future__ import annotations

import json

from rich.table import Table

from assistant.entities import Entities, label_name
from cli.console import out
from cli.options import add_entity_scope_args, filters_from_args

BARS = "▁▂▃▄▅▆▇█"


def sparkline(values: list[int]) -> str:
    top = max(values, default=0)
    return "".join(BARS[min(len(BARS) - 1, round(v / top * (len(BARS) - 1)))] if top else BARS[0] for v in values)


def cmd_entites(args) -> int:
    found = Entities().top(filters_from_args(args), label=args.label, limit=args.limit)
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


def configure(p) -> None:
    p.add_argument("--type", dest="label", type=str.upper, choices=["ORG", "PER", "LOC"],
                   help="organisations (ORG), personnes (PER) ou lieux (LOC)")
    p.add_argument("--limit", type=int, default=20, help="nombre d'entités (défaut 20)")
    p.add_argument("--json", action="store_true", help="résultat en JSON")
    add_entity_scope_args(p)
    p.set_defaults(func=cmd_entites)
