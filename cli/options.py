"""Options shared by several commands: the search filters and ``--as`` (act as an account)."""
from __future__ import annotations

import argparse

from accounts import restrict, user_for_cli
from assistant.entities import Entities
from veille.config import get_settings
from veille.dates import DATE_FORMATS
from veille.filters import Filters


def add_filter_args(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--type", dest="doc_types", action="append", default=[], metavar="TYPE",
                        help="type de document (article, rapport, bulletin, autre) ; répétable")
    parser.add_argument("--since", metavar="DATE", help=f"date de début ({DATE_FORMATS})")
    parser.add_argument("--until", metavar="DATE", help="date de fin, incluse (mêmes formes ; « mars 2019 » va jusqu'au 31 mars)")
    parser.add_argument("--source", dest="sources", action="append", default=[], metavar="SOURCE", help="site ou source ; répétable")
    parser.add_argument("--filiere", dest="filieres", action="append", default=[], metavar="FILIERE", help="filière ; répétable")
    parser.add_argument("--region", dest="regions", action="append", default=[], metavar="REGION", help="région ; répétable")
    parser.add_argument("--lang", dest="languages", action="append", default=[], metavar="LANGUE", help="langue (fr, en…) ; répétable")
    parser.add_argument("--entite", dest="entities", action="append", default=[], metavar="NOM",
                        help="documents qui citent cette entité (veille entites pour les voir) ; répétable : toutes")
    parser.add_argument("--as", dest="as_login", metavar="IDENTIFIANT",
                        help="agir en tant que ce compte : seuls les documents de son audience sont cherchés")


def add_entity_scope_args(parser: argparse.ArgumentParser) -> None:
    """The filters of the entity commands (``--type`` there is the entity's type, not the document's)."""
    parser.add_argument("--since", metavar="DATE", help=f"documents datés à partir de ({DATE_FORMATS})")
    parser.add_argument("--until", metavar="DATE", help="documents datés jusqu'à (incluse)")
    parser.add_argument("--filiere", dest="filieres", action="append", default=[], metavar="FILIERE", help="filière ; répétable")
    parser.add_argument("--source", dest="sources", action="append", default=[], metavar="SOURCE", help="site ou source ; répétable")
    parser.add_argument("--as", dest="as_login", metavar="IDENTIFIANT",
                        help="agir en tant que ce compte : seuls les documents de son audience comptent")
    parser.set_defaults(doc_types=[], regions=[], languages=[], entities=[])


def filters_from_args(args) -> Filters:
    """The filters of the command line, narrowed to the ``--as`` account's audience (DateError, AccessError
    and an unknown ``--entite`` are VeilleErrors: the CLI prints them in French)."""
    filters = Filters.from_input(doc_types=args.doc_types, since=args.since, until=args.until,
                                 sources=args.sources, filieres=args.filieres, regions=args.regions,
                                 languages=args.languages)
    login = getattr(args, "as_login", None)
    filters = restrict(filters, user_for_cli(get_settings(), login)) if login else filters
    names = getattr(args, "entities", None)
    if names:  # resolved within what the asker may see: an alias gives its canonical name
        filters.entities = Entities().canonical_names(names, filters)
    return filters
