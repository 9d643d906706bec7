"""How an answer reads in the terminal (and as JSON lines for scripts)."""
from __future__ import annotations

import json

from assistant.answer import Answer
from cli.console import err, out
from veille.filters import Filters


def emit_answer(answer: Answer, as_json: bool) -> None:
    """One JSON object per line (scripts), or the readable French rendering."""
    if as_json:
        print(json.dumps(answer.as_json(), ensure_ascii=False), flush=True)
    else:
        print_answer(answer)


def print_answer(answer: Answer) -> None:
    out.print(f"[bold]Question :[/] {answer.question}")
    if answer.standalone_question:
        out.print(f"[dim]Compris comme : {answer.standalone_question}[/]", highlight=False)
    if answer.mode != "extractif":
        out.print(f"[dim]Mode : {answer.mode}[/]", highlight=False)
    if answer.filter_note:
        out.print(f"[dim]Filtre tiré de la question : {answer.filter_note}[/]")
    if answer.filters:
        described = Filters(**answer.filters).describe()
        if described:
            out.print(f"[dim]Filtres appliqués : {described}[/]")
    if answer.notice:
        out.print(f"[yellow]{answer.notice}[/]")
    out.print()
    out.print(answer.answer, markup=False, highlight=False)
    if answer.citations:
        out.print("\n[bold]Sources[/]")
        for c in answer.citations:
            meta = " · ".join(x for x in (c.doc_type, c.date or "", c.pages_label(), c.link() or c.source) if x)
            out.print(f"[{c.n}] [bold]{c.title}[/] ({meta})", highlight=False)
            quote = c.quote.replace("\n", " ")
            out.print(f"    « {quote[:400]}{'…' if len(quote) > 400 else ''} »", markup=False, highlight=False)
    out.print()


def print_watch_summary(counts: dict[str, int], warning: str | None = None) -> None:
    """What the saved watches found in the documents that just arrived (after ingest, collect, watch run)."""
    if warning:
        err.print(f"[yellow]{warning}[/]", highlight=False)
    for name, n in counts.items():
        if n:
            out.print(f"[bold green]Veille « {name} » :[/] {plural(n, 'nouveau document', 'nouveaux documents')} "
                      "(veille watch news pour les lire)", highlight=False)


def plural(n: int, one: str, many: str | None = None) -> str:
    """« 1 document », « 2 documents »: French plurals instead of « document(s) »."""
    return f"{n} {one if n == 1 else (many or one + 's')}"
