"""`veille audit export`: the audit log (admin only)."""
from __future__ import annotations

import csv
import json
import sys
from datetime import datetime, timedelta
from pathlib import Path

from accounts import accounts_exist, audit, user_for_cli
from cli.console import err
from cli.french_argparse import ACTION_HELP
from veille.config import get_settings
from veille.dates import parse_date
from veille.errors import VeilleError
from veille.numbers import plural

FIELDS = ("id", "date", "login", "event", "question", "doc_ids", "detail")


def _timestamp(value: str | None, end: bool = False) -> float | None:
    if not value:
        return None

    iso = parse_date(value)
    if not iso or len(iso) != 10:
        raise VeilleError(f"Date invalide : « {value} » (attendu AAAA-MM-JJ).")
    day = datetime.fromisoformat(iso)
    return (day + timedelta(days=1) if end else day).timestamp()


def cmd_export(args) -> int:
    settings = get_settings()
    if not accounts_exist(settings):
        err.print("Aucun compte : le journal d'audit n'existe qu'en mode multi-utilisateur (voir « veille users add »).")
        return 2
    admin = user_for_cli(settings, args.as_login)
    if admin is None or not admin.is_admin:
        err.print("[red]Export réservé à un compte admin : passez --as IDENTIFIANT_ADMIN.[/]")
        return 2
    found = audit.rows(settings, since=_timestamp(args.since), until=_timestamp(args.until, end=True),
                       login=args.user, event=args.event)
    audit.record_event(settings, admin.login, "export_audit", detail=f"{len(found)} lignes")
    handle = open(args.output, "w", encoding="utf-8", newline="") if args.output else sys.stdout
    try:
        if args.format == "jsonl":
            for row in found:
                handle.write(json.dumps(row.as_dict(), ensure_ascii=False) + "\n")
        else:
            writer = csv.DictWriter(handle, fieldnames=FIELDS)
            writer.writeheader()
            for row in found:
                writer.writerow({**row.as_dict(), "doc_ids": " ".join(row.doc_ids)})
    finally:
        if args.output:
            handle.close()
    if args.output:
        err.print(f"{plural(len(found), 'ligne écrite', 'lignes écrites')} dans {Path(args.output)}.")
    return 0


def configure(p) -> None:
    actions = p.add_subparsers(dest="audit_command", required=True, metavar="action",
                               help=ACTION_HELP)
    e = actions.add_parser("export", help="exporter le journal (compte admin)")
    e.add_argument("--as", dest="as_login", metavar="IDENTIFIANT", required=True, help="compte admin qui exporte")
    e.add_argument("--since", metavar="DATE", help="depuis ce jour (AAAA-MM-JJ)")
    e.add_argument("--until", metavar="DATE", help="jusqu'à ce jour inclus (AAAA-MM-JJ)")
    e.add_argument("--user", metavar="IDENTIFIANT", help="seulement ce compte")
    e.add_argument("--event", metavar="ÉVÉNEMENT", help="seulement cet événement (question, connexion, connexion_refusee…)")
    e.add_argument("--format", choices=("csv", "jsonl"), default="csv", help="format du fichier (défaut : csv)")
    e.add_argument("-o", "--output", metavar="FICHIER", help="fichier de sortie (défaut : sortie standard)")
    e.set_defaults(func=cmd_export)
