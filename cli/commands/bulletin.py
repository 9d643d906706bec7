"""`veille bulletin`: the watch bulletin of a period, per rubrique, for an audience (HTML for e-mail, DOCX, Markdown)."""
from __future__ import annotations

import json
from pathlib import Path

from assistant.service import get_assistant
from cli.console import err, out
from cli.options import filters_from_args
from veille.store import get_store
from watch.bulletin import BulletinError, build_bulletin
from watch.bulletin_render import to_markdown, write


def cmd_bulletin(args) -> int:
    introduction = args.introduction or ""
    if args.introduction_file:
        try:
            introduction = Path(args.introduction_file).read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise BulletinError(f"Introduction illisible : « {args.introduction_file} » ({exc}).") from None
    period, rubriques = args.period, args.rubriques
    if args.name and (not period or not rubriques):  # a stored draft: its period and rubriques
        row = get_store().bulletin_row(args.name)
        if row is None:
            raise BulletinError(f"Aucun bulletin « {args.name} » enregistré : donnez --periode et --rubrique.")
        period = period or row["period"]
        rubriques = rubriques or [f"{r['name']}: {', '.join(r['terms'])}" for r in json.loads(row["rubriques"])]
        introduction = introduction or row["introduction"]
    if not period or not rubriques:
        raise BulletinError("Donnez la période et au moins une rubrique, par exemple : veille bulletin --periode "
                            "2026-T3 --rubrique \"Cybersécurité: cybersécurité, rançongiciel\" -o bulletin.html")
    with err.status("Sélection des éléments de la période…"):
        bulletin = build_bulletin(get_assistant(), period, rubriques, filters_from_args(args), introduction,
                                  title=args.title, per_rubrique=args.items, name=args.name)
    if args.output:
        kind = write(bulletin, Path(args.output))
        out.print(f"Bulletin écrit dans [bold]{args.output}[/] ({kind.upper()}, {bulletin.item_count} éléments, "
                  f"{len(bulletin.sources)} sources).", highlight=False)
    else:
        print(to_markdown(bulletin), end="")
    for section in bulletin.sections:
        if section.note:
            err.print(f"[yellow]{section.rubrique.name} : {section.note}[/]", highlight=False)
    return 0


def configure(p) -> None:
    p.add_argument("--periode", dest="period", metavar="PÉRIODE",
                   help="2026-T3 (trimestre), 2026-S1, 2026-07, 2026 ou 2026-07-01..2026-09-15")
    p.add_argument("--rubrique", dest="rubriques", action="append", default=[], metavar="« NOM: TERMES »",
                   help="« Cybersécurité: cybersécurité, rançongiciel » ; répétable, dans l'ordre du bulletin")
    p.add_argument("-o", "--output", metavar="FICHIER", help="fichier à écrire : .html (courriel), .docx ou .md (sinon Markdown sur "
                                          "la sortie standard)")
    p.add_argument("--introduction", help="texte de l'introduction éditoriale")
    p.add_argument("--introduction-fichier", dest="introduction_file", metavar="FICHIER",
                   help="introduction éditoriale lue dans un fichier texte")
    p.add_argument("--titre", dest="title", metavar="TITRE", help="titre du bulletin")
    p.add_argument("--nom", dest="name", metavar="NOM", help="bulletin enregistré (choix et commentaires de l'onglet Bulletin)")
    p.add_argument("--elements", dest="items", type=int, default=8, metavar="N", help="éléments par rubrique au plus (défaut 8)")
    p.add_argument("--filiere", dest="filieres", action="append", default=[], metavar="FILIERE", help="filière ; répétable")
    p.add_argument("--type", dest="doc_types", action="append", default=[], metavar="TYPE", help="type de document")
    p.add_argument("--source", dest="sources", action="append", default=[], metavar="SOURCE", help="site ou source")
    p.add_argument("--as", dest="as_login", metavar="IDENTIFIANT",
                   help="construire le bulletin pour ce compte : seuls les documents de son audience y figurent")
    p.set_defaults(func=cmd_bulletin, since=None, until=None, regions=[], languages=[], entities=[])
