"""`veille feedback`: the 👍/👎 collected by the web interface."""
from __future__ import annotations

import json
import sys
from pathlib import Path

from rich.table import Table

from accounts.feedback import FeedbackStore, export_pairs, feedback_path
from cli.console import err, out
from cli.french_argparse import ACTION_HELP
from veille.config import get_settings
from veille.numbers import plural


def _store():
    return FeedbackStore(feedback_path(get_settings()))


def cmd_export(args) -> int:
    pairs = export_pairs(_store(), only=args.only)
    lines = "".join(json.dumps(p, ensure_ascii=False) + "\n" for p in pairs)
    if args.output:
        Path(args.output).write_text(lines, encoding="utf-8")
        err.print(f"{plural(len(pairs), 'paire candidate écrite', 'paires candidates écrites')} dans {args.output} "
                  f"({sum(p['needs_review'] for p in pairs)} à relire).")
    else:
        sys.stdout.write(lines)
    return 0


def cmd_list(args) -> int:
    records = _store().all()
    if not records:
        out.print("Aucun avis enregistré pour l'instant.")
        return 0
    table = Table(title=f"Avis des utilisateurs ({len(records)})")
    for col in ("n°", "avis", "question", "commentaire", "sources"):
        table.add_column(col, overflow="fold")
    for r in records[-args.last:]:
        table.add_row(str(r.id), "👍" if r.rating > 0 else "👎", r.question[:80], r.comment[:60],
                      str(len(r.citations)))
    out.print(table)
    return 0


def configure(p) -> None:
    fsub = p.add_subparsers(dest="feedback_command", required=True, metavar="action",
                            help=ACTION_HELP)
    e = fsub.add_parser("export", help="exporter les avis en paires d'évaluation candidates (JSONL)")
    e.add_argument("-o", "--output", metavar="FICHIER", help="fichier JSONL (défaut : sortie standard)")
    e.add_argument("--only", choices=["positive", "negative"], help="seulement les avis positifs ou négatifs")
    e.set_defaults(func=cmd_export)
    ls = fsub.add_parser("list", help="derniers avis")
    ls.add_argument("--last", type=int, default=20, metavar="N", help="les N derniers avis (défaut : 20)")
    ls.set_defaults(func=cmd_list)
