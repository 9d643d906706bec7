"""How an answer reads in the terminal (and as JSON lines for scripts)."""
from __future__ import annotations

import json

from rich import box
from rich.markup import escape
from rich.table import Table
from rich.text import Text

from assistant.answering.answer import Answer, Citation
from assistant.answering.citations import centred_excerpt
from cli.console import err, out
from veille.filters import Filters, readable_source, source_label
from veille.numbers import plural


def emit_answer(answer: Answer, as_json: bool) -> None:
    """One JSON object per line (scripts), or the readable French rendering."""
    if as_json:
        print(json.dumps(answer.as_json(), ensure_ascii=False), flush=True)
    else:
        print_answer(answer)


def print_answer(answer: Answer) -> None:
    out.print(f"[bold]Question :[/] {answer.question}")
    if answer.standalone_question:
        out.print(f"[dim]Question comprise comme : {escape(answer.standalone_question)}[/]", highlight=False)
    if answer.mode != "extractif":
        out.print(f"[dim]Mode : {answer.mode}[/]", highlight=False)
    if answer.filter_note:
        out.print(f"[dim]{escape(answer.filter_note)}[/]", highlight=False)
    if answer.filters:
        described = Filters(**answer.filters).describe()
        if described:
            out.print(f"[dim]Filtres appliqués : {described}[/]")
    if answer.notice:
        out.print(f"[yellow]{answer.notice}[/]")
    out.print()
    out.print(answer_text(answer), highlight=False)
    if answer.confidence_label:
        out.print(f"[dim]Confiance : {answer.confidence_label}[/]", highlight=False)
    if answer.citations:
        out.print("\n[bold]Sources[/]")
        for c in answer.citations:
            print_citation(c)
    out.print()


def answer_text(answer: Answer) -> Text:
    """The answer as rich text: the reader's answer words in bold, the first line of a partial answer too."""
    text = Text(answer.answer)
    span = answer.span
    if span and 0 <= span["start"] < span["end"] <= len(answer.answer):
        text.stylize("bold", span["start"], span["end"])
    if answer.status == "partial":
        text.stylize("bold", 0, answer.answer.find("\n") if "\n" in answer.answer else len(answer.answer))
    return text


def print_citation(c: Citation) -> None:
    """« [n] Titre (type · date · site) », then each cited sentence centred in its context: one number per
    document, its passages under it; a local file by its title, never by a server path."""
    dated = (c.date or "") + (f" ({c.date_evidence()})" if c.date_evidence() else "")
    meta = " · ".join(x for x in (c.doc_type, dated, c.pages_label(), c.site or source_label(c.source)) if x)
    out.print(f"\\[{c.n}] [bold]{escape(c.title or source_label(c.source))}[/] ({escape(meta)})", highlight=False)
    excerpts = [centred_excerpt(p.text, s) for p in c.passages for s in p.sentences] or [c.quote]
    for excerpt in excerpts:
        out.print(f"    « {excerpt} »", markup=False, highlight=False)
    if c.entities:
        out.print("    Entités : " + ", ".join(name for name, _ in c.entities), markup=False, highlight=False)
    if c.copies:
        out.print(f"    {c.copies_label() or 'Autre version du même texte'} :", markup=False, highlight=False)
        for k in c.copies:
            out.print(f"      - {readable_source(k.source)} — {k.title or 'Sans titre'}" + (f" ({k.date})" if k.date else ""),
                      markup=False, highlight=False)


def print_watch_summary(counts: dict[str, int], warning: str | None = None) -> None:
    """What the saved watches found in the documents that just arrived (after ingest, collect, watch run)."""
    if warning:
        err.print(f"[yellow]{warning}[/]", highlight=False)
    for name, n in counts.items():
        if n:
            out.print(f"[bold green]Veille « {name} » :[/] {plural(n, 'nouveau document', 'nouveaux documents')} "
                      "(veille watch news pour les lire)", highlight=False)


def count_table(title: str, columns: list[str], first_is_label: bool = False) -> Table:
    """A table of counts that fits 80 columns: light borders, headers never cut (short French labels,
    right-aligned numbers)."""
    table = Table(title=title, box=box.SIMPLE_HEAD, pad_edge=False, padding=(0, 1), collapse_padding=True)
    for i, col in enumerate(columns):
        table.add_column(col, justify="left" if i == 0 and first_is_label else "right", no_wrap=True,
                         min_width=len(col))
    return table
