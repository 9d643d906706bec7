"""`veille users`: accounts (roles, filières) for the shared app and `--as`."""
from __future__ import annotations

import getpass
import json
import sys
from datetime import datetime

from rich.table import Table

from accounts import ROLES, add_user, audience_for, get_user, list_users, update_user
from cli.console import err, out
from cli.french_argparse import ACTION_HELP
from veille.config import get_settings
from veille.errors import VeilleError


def _password(args, confirm: bool = True) -> str:
    """From stdin (``--password-stdin``, for scripts) or a hidden prompt typed twice."""
    if args.password_stdin:
        return sys.stdin.readline().rstrip("\r\n")
    if not sys.stdin.isatty():
        raise VeilleError("Pas de terminal pour saisir le mot de passe : utilisez --password-stdin.")
    first = getpass.getpass("Mot de passe : ")
    if confirm and getpass.getpass("Confirmez le mot de passe : ") != first:
        raise VeilleError("Les deux saisies diffèrent : rien n'a été modifié.")
    return first


def _run(action) -> int:
    action()  # an AccessError (a VeilleError) is printed in French by the CLI, exit code 2
    return 0


def cmd_add(args) -> int:
    def action():
        user = add_user(get_settings(), args.login, _password(args), args.role, args.filieres)
        out.print(f"Compte « {user.login} » créé ({user.role}"
                  f"{', filières : ' + ', '.join(user.filieres) if user.filieres else ''}).")
    return _run(action)


def cmd_list(args) -> int:
    users = list_users(get_settings())
    if args.json:
        for u in users:
            print(json.dumps({"login": u.login, "role": u.role, "filieres": list(u.filieres), "active": u.active,
                              "audience": audience_for(u) or "tout"}, ensure_ascii=False))
        return 0
    if not users:
        out.print("Aucun compte : Veille fonctionne en mode local mono-utilisateur (sans connexion).")
        return 0
    table = Table(title="Comptes")
    for col in ("identifiant", "rôle", "filières", "actif", "voit", "créé le"):
        table.add_column(col, overflow="fold")  # wrapped, never cut, in an 80-column terminal
    for u in users:
        table.add_row(u.login, u.role, ", ".join(u.filieres) or "–", "oui" if u.active else "[red]non[/]",
                      ", ".join(audience_for(u) or ["tout le corpus"]),
                      datetime.fromtimestamp(u.created_at).strftime("%d/%m/%Y"))
    out.print(table)
    return 0


def _update(args, **changes) -> int:
    def action():
        user = update_user(get_settings(), args.login, **changes)
        state = "actif" if user.active else "désactivé"
        out.print(f"Compte « {user.login} » mis à jour ({user.role}, {state}"
                  f"{', filières : ' + ', '.join(user.filieres) if user.filieres else ''}).")
    return _run(action)


def cmd_disable(args) -> int:
    return _update(args, active=False)


def cmd_enable(args) -> int:
    return _update(args, active=True)


def cmd_set_password(args) -> int:
    if get_user(get_settings(), args.login) is None:  # before prompting for nothing
        err.print(f"[red]Compte inconnu : « {args.login} ».[/]")
        return 2
    return _update(args, password=_password(args))


def cmd_modify(args) -> int:
    if args.role is None and args.filieres is None:
        err.print("Rien à modifier : indiquez --role et/ou --filiere.")
        return 2
    return _update(args, role=args.role, filieres=args.filieres)


def configure(p) -> None:
    users = p.add_subparsers(dest="users_command", required=True, metavar="action",
                             help=ACTION_HELP)

    a = users.add_parser("add", help="créer un compte")
    a.add_argument("login", metavar="identifiant", help="identifiant du compte")
    a.add_argument("--role", choices=ROLES, required=True, help="rôle du compte")
    a.add_argument("--filiere", dest="filieres", action="append", default=[], metavar="FILIERE", help="filière du compte ; répétable")
    a.add_argument("--password-stdin", action="store_true", help="lire le mot de passe sur l'entrée standard")
    a.set_defaults(func=cmd_add)

    ls = users.add_parser("list", help="lister les comptes et ce que chacun voit")
    ls.add_argument("--json", action="store_true", help="un objet JSON par compte")
    ls.set_defaults(func=cmd_list)

    for name, func, text in (("disable", cmd_disable, "désactiver un compte (effet immédiat, sessions comprises)"),
                             ("enable", cmd_enable, "réactiver un compte")):
        d = users.add_parser(name, help=text)
        d.add_argument("login", metavar="identifiant", help="identifiant du compte")
        d.set_defaults(func=func)

    s = users.add_parser("set-password", help="changer le mot de passe (lève un blocage de connexion)")
    s.add_argument("login", metavar="identifiant", help="identifiant du compte")
    s.add_argument("--password-stdin", action="store_true", help="lire le mot de passe sur l'entrée standard")
    s.set_defaults(func=cmd_set_password)

    m = users.add_parser("modify", help="changer le rôle ou les filières d'un compte")
    m.add_argument("login", metavar="identifiant", help="identifiant du compte")
    m.add_argument("--role", choices=ROLES, help="nouveau rôle")
    m.add_argument("--filiere", dest="filieres", action="append", default=None, metavar="FILIERE",
                   help="nouvelles filières (remplacent les anciennes) ; répétable")
    m.set_defaults(func=cmd_modify)
