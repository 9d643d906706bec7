"""The ``veille`` command line: sub-commands are the modules of ``veille.commands``."""
from __future__ import annotations

import argparse
import importlib
import pkgutil
import sys

from veille import commands
from veille.console import err


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="veille",
                                     description="Veille : assistant de veille économique territoriale.")
    sub = parser.add_subparsers(dest="command", required=True, metavar="commande")
    for info in sorted(pkgutil.iter_modules(commands.__path__), key=lambda m: m.name):
        importlib.import_module(f"veille.commands.{info.name}").register(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return args.func(args) or 0
    except KeyboardInterrupt:
        err.print("Interrompu. Relancez la même commande : le travail reprend proprement.")
        return 130


if __name__ == "__main__":
    sys.exit(main())
