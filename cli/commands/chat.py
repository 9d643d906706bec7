"""`veille chat`: a conversation in the terminal (one question per line on standard input).

Follow-up questions are rewritten into standalone ones (``assistant.conversation.session``); filters given as
options hold for the whole conversation. Works non-interactively: ``veille chat < questions.txt``.
"""
from __future__ import annotations

import sys
from contextlib import nullcontext

from assistant.conversation.session import Conversation
from assistant.service import get_assistant
from cli.console import err, out
from cli.options import add_filter_args, filters_from_args
from cli.render import emit_answer

HELP = ("Commandes : /nouveau (nouvelle conversation), /sources (sources de la dernière réponse), "
        "/aide, /quitter. Les questions de suite (« Et en 2018 ? », « Qui le préside ? ») reprennent le sujet.")


def cmd_chat(args) -> int:
    assistant = get_assistant()
    filters = filters_from_args(args)
    conversation = Conversation(filters=filters)
    interactive = sys.stdin.isatty() and not args.json
    if interactive:
        generator = assistant.generator
        mode = generator.mode if generator else "extractif (sans modèle de langage)"
        out.print(f"[bold]Veille[/] — conversation, mode {mode}. {HELP}", highlight=False)
    while True:
        if interactive:
            out.print("[bold cyan]Vous ›[/] ", end="")
        line = sys.stdin.readline()
        if not line:
            break
        text = line.strip()
        if not text:
            continue
        command = text.lower()
        if command in ("/quitter", "/q", "/exit", "/quit"):
            break
        if command in ("/nouveau", "/reset"):
            conversation.reset()
            conversation.filters = filters
            if not args.json:
                out.print("[dim]Nouvelle conversation.[/]")
            continue
        if command in ("/aide", "/help", "/?"):
            out.print(HELP)
            continue
        if command == "/sources":
            text = "Donne-moi les sources"
        elif command.startswith("/"):
            err.print(f"Commande inconnue : {text}. {HELP}")
            continue
        # The first answer of a process loads the model (~12 s): say so instead of a silent wait.
        with err.status("Recherche dans le corpus…") if interactive else nullcontext():
            stream = conversation.ask_stream(assistant, text, stream=interactive)
        for delta in stream:
            if interactive and assistant.generator is not None:
                out.print(delta, end="", style="dim", markup=False, highlight=False)
        if interactive and assistant.generator is not None:
            out.print("\n")
        emit_answer(stream.answer, args.json)
    return 0


def configure(p) -> None:
    p.add_argument("--json", action="store_true", help="un objet JSON par réponse (usage non interactif)")
    add_filter_args(p)
    p.set_defaults(func=cmd_chat)
