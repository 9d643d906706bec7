"""`veille ask`: answered by a running `veille serve` when there is one (``assistant.ask_socket``), else here.

Everything imported here is light (tests/test_layers.py keeps torch, llama-index and Chroma inside the functions
that need them): the model loads and the store opens (seconds) only once no server has answered, when
``get_assistant`` is called. Importing ``assistant.service`` itself costs ~0.07 s of the served path."""
from __future__ import annotations

import sys

from assistant.ask_socket import AskClient
from assistant.generation.llm import llm_configured
from assistant.service import get_assistant
from cli.console import err, out
from cli.options import add_filter_args, filters_from_args
from cli.render import emit_answer
from veille.config import get_settings


def cmd_ask(args) -> int:
    filters = filters_from_args(args)  # --as checked here, on both paths: a disabled account never gets further
    questions = [" ".join(args.question)] if args.question else [l.strip() for l in sys.stdin if l.strip()]
    if not questions:
        err.print("Aucune question : passez-la en argument ou une par ligne sur l'entrée standard.")
        return 2
    settings = get_settings()
    server = AskClient(settings, warn=lambda text: err.print(text, markup=False, highlight=False),
                       skip=args.local)
    assistant = None
    # Generative mode: the answer is streamed (tokens shown as they come in a terminal). A streamed request
    # stays alive while the server sends anything, where a plain one times out during a long prompt.
    streamed = llm_configured(settings) and not args.json
    for question in questions:
        answer = None if streamed else server.ask(question, filters)
        if answer is None:
            assistant = assistant or get_assistant(settings)  # loads the model, opens the store
            if streamed:
                answer = _streamed(assistant, question, filters)
            else:
                answer = assistant.ask(question, filters)
        emit_answer(answer, args.json)
    return 0


def _streamed(assistant, question: str, filters):
    stream = assistant.ask_stream(question, filters)
    shown = False
    for delta in stream:
        if out.is_terminal and assistant.generator is not None:
            out.print(delta, end="", style="dim", markup=False, highlight=False)
            shown = True
    if shown:
        out.print("\n")
    return stream.answer


def configure(p) -> None:
    p.add_argument("question", nargs="*", help="la question (sinon une par ligne sur l'entrée standard)")
    p.add_argument("--json", action="store_true", help="un objet JSON par question")
    p.add_argument("--local", action="store_true",
                   help="répondre dans ce processus même si un « veille serve » tourne (VEILLE_ASK_SERVER=off : toujours)")
    add_filter_args(p)
    p.set_defaults(func=cmd_ask)
