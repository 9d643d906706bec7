"""`veille ask`."""
from __future__ import annotations

import sys

from assistant.service import get_assistant
from cli.console import err
from cli.options import add_filter_args, filters_from_args
from cli.render import emit_answer


def cmd_ask(args) -> int:
    filters = filters_from_args(args)
    assistant = get_assistant()
    questions = [" ".join(args.question)] if args.question else [l.strip() for l in sys.stdin if l.strip()]
    if not questions:
        err.print("Aucune question : passez-la en argument ou une par ligne sur l'entrée standard.")
        return 2
    for question in questions:
        emit_answer(assistant.ask(question, filters), args.json)
    return 0


def configure(p) -> None:
    p.add_argument("question", nargs="*", help="la question (sinon une par ligne sur l'entrée standard)")
    p.add_argument("--json", action="store_true", help="un objet JSON par question")
    add_filter_args(p)
    p.set_defaults(func=cmd_ask)
