"""The ``veille`` command line: the sub-commands of ``cli.commands.COMMANDS``, in French.

Every ``VeilleError`` (the one user-facing error type, French message) is caught here, once: its message on
stderr, exit code 2. Anything else is a bug and keeps its traceback."""
from __future__ import annotations

import argparse
import importlib
import sys

from cli.commands import COMMANDS
from cli.console import err
from cli.french_argparse import FrenchArgumentParser, install
from veille.errors import VeilleError


def build_parser(argv: list[str] | None = None) -> argparse.ArgumentParser:
    """The parser; only the sub-command named in ``argv`` is loaded (all of them when ``argv`` is None)."""
    install()
    parser = FrenchArgumentParser(prog="veille", description="Veille : assistant de veille économique territoriale.")
    sub = parser.add_subparsers(dest="command", required=True, metavar="commande", title="commandes",
                                help="une commande ; « veille COMMANDE --help » pour ses options")
    wanted = None if argv is None else next((a for a in argv if not a.startswith("-")), "")
    for name, command in COMMANDS.items():
        p = sub.add_parser(name, help=command.help)
        if wanted is None or name == wanted:
            importlib.import_module(command.module).configure(p)
    return parser


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    args = build_parser(argv).parse_args(argv)
    try:
        return args.func(args) or 0
    except VeilleError as exc:
        err.print(str(exc), markup=False, highlight=False)
        return exc.exit_code
    except KeyboardInterrupt:
        err.print("Interrompu. Relancez la même commande : le travail reprend proprement.")
        return 130


if __name__ == "__main__":
    sys.exit(main())
