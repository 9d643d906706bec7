"""The « Bulletin » tab: choose the period and the rubriques, review the proposed items (one per near-duplicate
cluster), pin or drop items and comment them — choices and comments are stored with their author, so several
advisors build one bulletin together — then export it (HTML for e-mail, Word, Markdown), as ``veille bulletin``.

Built from the session's audience only (``UIContext.session_filters``). Corpus text is escaped."""
from __future__ import annotations

import logging
import tempfile
from pathlib import Path

import gradio as gr

from veille.errors import VeilleError
from veille.filters import Filters
from veille.numbers import plural
from watch.bulletin import Bulletin, build_bulletin
from watch.bulletin_render import write
from webui.context import UIContext
from webui.sources import esc, safe_url, sanitize

log = logging.getLogger("veille.ui")
CHOICE_LABELS = {"pinned": "épinglé", "dropped": "écarté", "": ""}
EXAMPLE_RUBRIQUES = "Cybersécurité: cybersécurité, rançongiciel\nIntelligence artificielle: IA, intelligence artificielle"


def author_of(request) -> str:
    return getattr(request, "username", None) or "local"


def review_html(b: Bulletin) -> str:
    """The draft for review: every proposed item with its state, comment and author; dropped ones at the end."""
    parts = [f"<h3>{esc(b.title)}</h3><p class='src-meta'>{esc(b.period.description)} · "
             f"{plural(b.item_count, 'élément')} · audience : {esc(b.audience)}</p>"]
    if b.note:
        parts.append(f"<p><em>{esc(b.note)}</em></p>")
    for section in b.sections:
        parts.append(f"<h4>{esc(section.rubrique.name)}</h4>")
        if section.note:
            parts.append(f"<p><em>{esc(section.note)}</em></p>")
        for item in section.items + section.dropped:
            url = safe_url(item.url)
            title = esc(item.title or item.source)
            link = f'<a href="{esc(url)}" target="_blank">{title}</a>' if url else title
            state = CHOICE_LABELS.get(item.choice, "")
            badge = f" <strong>[{state}]</strong>" if state else ""
            copies = f" · repris par {item.sources_count} sources" if item.sources_count > 1 else ""
            body = "".join(f"<blockquote class='src-quote'>« {esc(t)} » [{n}]</blockquote>" for t, n in item.sentences)
            if item.summary:
                body = f"<p><strong>Résumé</strong> : {esc(item.summary)}</p>" + body
            chips = " ".join(f"<code>{esc(n)}</code>" for n, _ in item.entities)
            note = (f"<p><strong>Commentaire</strong> ({esc(item.author)}) : {esc(item.comment)}</p>"
                    if item.comment else "")
            style = " style='opacity:0.55'" if item.choice == "dropped" else ""
            parts.append(f"<div class='src'{style}><div>{link}{badge} <span class='src-meta'>"
                         f"{esc(item.date_label)} · {esc(item.source)}{copies}</span></div>{body}"
                         f"<div>{chips}</div>{note}</div>")
    return sanitize("".join(parts))


def item_choices(b: Bulletin | None) -> list[tuple[str, str]]:
    if b is None:
        return []
    return [(f"{s.rubrique.name} — {(i.title or i.source)[:90]}", f"{s.rubrique.name}\x1f{i.cluster}")
            for s in b.sections for i in s.items + s.dropped]


def build_bulletin_tab(ctx: UIContext) -> dict:
    gr.Markdown("### Bulletin de veille\nLa période et les rubriques (une par ligne, « Nom: termes ») : Veille "
                "propose un élément par information (les reprises sont regroupées), avec ses phrases citées. "
                "Épinglez, écartez, commentez — les choix sont enregistrés avec leur auteur — puis exportez.")
    with gr.Row():
        name = gr.Textbox(label="Nom du bulletin", placeholder="bulletin-2026-T3", scale=1, elem_id="bulletin-name")
        period = gr.Textbox(label="Période", placeholder="2026-T3, 2026-S1, 2026-07, 2026", scale=1,
                            elem_id="bulletin-period")
    rubriques = gr.Textbox(label="Rubriques", lines=3, value=EXAMPLE_RUBRIQUES, elem_id="bulletin-rubriques")
    introduction = gr.Textbox(label="Introduction éditoriale", lines=2, elem_id="bulletin-intro")
    propose = gr.Button("Proposer les éléments", variant="primary", elem_id="bulletin-propose")
    state = gr.State(None)
    board = gr.HTML(elem_id="bulletin-review")
    with gr.Row():
        item = gr.Dropdown(label="Élément", choices=[], scale=3, elem_id="bulletin-item")
        pin = gr.Button("Épingler", size="sm", elem_id="bulletin-pin")
        drop = gr.Button("Écarter", size="sm", elem_id="bulletin-drop")
        reset = gr.Button("Rétablir", size="sm", elem_id="bulletin-reset")
    with gr.Row():
        comment = gr.Textbox(label="Commentaire sur l'élément", scale=3, elem_id="bulletin-comment")
        save_comment = gr.Button("Enregistrer le commentaire", size="sm", elem_id="bulletin-save-comment")
    export = gr.Button("Exporter (HTML pour courriel, Word, Markdown)", elem_id="bulletin-export")
    files = gr.File(label="Bulletin", file_count="multiple", visible=False, interactive=False, elem_id="bulletin-files")

    def make(name_, period_, rubriques_, intro_, request: gr.Request = None) -> Bulletin:
        lines = [line.strip() for line in (rubriques_ or "").splitlines() if line.strip()]
        draft = (name_ or "").strip() or f"bulletin-{(period_ or '').strip()}"
        try:
            return build_bulletin(ctx.assistant, period_ or "", lines, ctx.session_filters(Filters(), request),
                                  intro_ or "", name=draft, author=author_of(request))
        except VeilleError as exc:
            raise gr.Error(str(exc)) from None

    def on_propose(name_, period_, rubriques_, intro_, request: gr.Request = None):
        b = make(name_, period_, rubriques_, intro_, request)
        return b, review_html(b), gr.update(choices=item_choices(b), value=None), b.name

    def choose(choice: str | None, comment_: str | None, value: str | None, name_, period_, rubriques_, intro_,
               request):
        """Store one advisor's choice or comment on the selected item, then show the draft again."""
        b = make(name_, period_, rubriques_, intro_, request)
        if not value or value not in {v for _, v in item_choices(b)}:
            raise gr.Error("Choisissez d'abord un élément dans la liste.")
        rubrique, cluster = value.split("\x1f", 1)
        draft = ctx.assistant.store.bulletin_row(b.name)["id"]
        ctx.assistant.store.set_bulletin_item(draft, cluster, rubrique, author_of(request), choice=choice,
                                              comment=comment_)
        b = make(name_, period_, rubriques_, intro_, request)
        return b, review_html(b), gr.update(choices=item_choices(b), value=value)

    def on_pin(value, *fields, request: gr.Request = None):
        return choose("pinned", None, value, *fields, request)

    def on_drop(value, *fields, request: gr.Request = None):
        return choose("dropped", None, value, *fields, request)

    def on_reset(value, *fields, request: gr.Request = None):
        return choose("", None, value, *fields, request)

    def on_comment(value, text, *fields, request: gr.Request = None):
        return choose(None, (text or "").strip(), value, *fields, request)

    def on_export(name_, period_, rubriques_, intro_, request: gr.Request = None):
        b = make(name_, period_, rubriques_, intro_, request)
        folder = Path(tempfile.mkdtemp(prefix="veille-bulletin-"))
        stem = "".join(c if c.isalnum() or c in "-_" else "-" for c in b.name or "bulletin")
        paths = []
        for suffix in (".html", ".docx", ".md"):
            try:
                write(b, folder / f"{stem}{suffix}")
                paths.append(str(folder / f"{stem}{suffix}"))
            except VeilleError as exc:
                log.warning("bulletin export %s failed: %s", suffix, exc)
        return gr.update(value=paths, visible=True)

    fields = [name, period, rubriques, introduction]
    outputs = [state, board, item]
    propose.click(on_propose, fields, [state, board, item, name], api_name=False)
    pin.click(on_pin, [item, *fields], outputs, api_name=False)
    drop.click(on_drop, [item, *fields], outputs, api_name=False)
    reset.click(on_reset, [item, *fields], outputs, api_name=False)
    save_comment.click(on_comment, [item, comment, *fields], outputs, api_name=False)
    export.click(on_export, fields, [files], api_name=False)
    return {"bulletin_board": board}
