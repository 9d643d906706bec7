"""argparse speaking French: its own strings (« usage », « options », errors) translated.

argparse looks its messages up through the module-level ``_``/``ngettext`` it imported from gettext; no
French catalogue ships with Python, so the few strings it uses are given here and installed once."""
from __future__ import annotations

import argparse

MESSAGES = {
    "usage: ": "usage : ",
    "positional arguments": "arguments",
    "options": "options",
    "optional arguments": "options",
    "show this help message and exit": "afficher cette aide et quitter",
    "%(prog)s: error: %(message)s\n": "%(prog)s : erreur : %(message)s\n",
    "the following arguments are required: %s": "arguments obligatoires manquants : %s",
    "unrecognized arguments: %s": "arguments non reconnus : %s",
    "invalid choice: %(value)r (choose from %(choices)s)": "choix invalide : %(value)r (possibles : %(choices)s)",
    "invalid %(type)s value: %(value)r": "valeur invalide (%(type)s) : %(value)r",
    "expected one argument": "une valeur attendue",
    "expected at most one argument": "au plus une valeur attendue",
    "expected at least one argument": "au moins une valeur attendue",
    "not allowed with argument %s": "incompatible avec l'argument %s",
    "ignored explicit argument %r": "argument explicite ignoré : %r",
    "ambiguous option: %(option)s could match %(matches)s": "option ambiguë : %(option)s peut désigner %(matches)s",
    "argument %(argument_name)s: %(message)s": "argument %(argument_name)s : %(message)s",
    "one of the arguments %s is required": "l'un de ces arguments est obligatoire : %s",
    "show program's version number and exit": "afficher la version et quitter",
    "subcommands": "commandes",
}
PLURALS = {"expected %s argument": ("%s valeur attendue", "%s valeurs attendues")}


def _gettext(message: str) -> str:
    return MESSAGES.get(message, message)


def _ngettext(singular: str, plural: str, n: int) -> str:
    if singular in PLURALS:
        one, many = PLURALS[singular]
        return one if n == 1 else many
    return singular if n == 1 else plural


def install() -> None:
    argparse._ = _gettext  # type: ignore[attr-defined]
    argparse.ngettext = _ngettext  # type: ignore[attr-defined]


class FrenchHelpFormatter(argparse.HelpFormatter):
    """Section titles start with a capital and take a space before their colon, as in French typography
    (« Options : »)."""

    def start_section(self, heading):
        super().start_section(f"{heading[:1].upper()}{heading[1:]} " if heading else heading)


class FrenchSubParsers(argparse._SubParsersAction):
    """Sub-commands get the French parser, and their one-line help as description."""

    def add_parser(self, name, **kwargs):
        text = kwargs.get("help")
        if text and "description" not in kwargs:
            kwargs["description"] = text[:1].upper() + text[1:] + "."
        kwargs.setdefault("formatter_class", FrenchHelpFormatter)
        return super().add_parser(name, **kwargs)


ACTION_HELP = "une action ; ajoutez --help après elle pour ses options"
TYPE_NAMES = {"int": "un nombre entier", "float": "un nombre"}


class FrenchArgumentParser(argparse.ArgumentParser):
    """An ArgumentParser whose help, errors and sub-commands (at every depth) read in French."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("formatter_class", FrenchHelpFormatter)
        super().__init__(*args, **kwargs)
        self.register("action", "parsers", FrenchSubParsers)

    def _get_value(self, action, arg_string):
        """« --port abc » : « un nombre entier attendu » rather than argparse's « invalid int value »."""
        try:
            return super()._get_value(action, arg_string)
        except argparse.ArgumentError:
            name = getattr(action.type, "__name__", "")
            if name in TYPE_NAMES:
                raise argparse.ArgumentError(action, f"{TYPE_NAMES[name]} attendu, pas « {arg_string} »") from None
            raise
