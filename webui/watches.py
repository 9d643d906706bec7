"""The "Veilles" tab: saved watches and what each found in newly ingested or collected documents
(``watch.watches``), the same as ``veille watch news`` with cited snippets.

Listed in ``webui.app.TABS``; with accounts, a user sees only the findings in their
audience, and only an administrator adds or removes watches.
"""
from __future__ import annotations

import datetime as dt

import gradio as gr

from ingestion.metadata import slug
from veille.filters import Filters, readable_source, source_label
from veille.numbers import decimal, plural
from watch.news import whats_new
from watch.watches import WatchError, add_watch, apply_to_existing, list_watches, news, remove_watch
from webui.context import UIContext, field_message
from webui.sources import DOC_TYPE_LABELS, esc, format_date, safe_url, sanitize


def render_news(ctx: UIContext, request=None) -> str:
    """HTML of every watch and its findings (read ones included, newest first). Corpus text is escaped."""
    watches = {w.name: w for w in list_watches(ctx.settings)}
    if not watches:
        return sanitize("<p>Aucune veille enregistrée. Créez-en une ci-dessous ou en ligne de commande : "
                        "<code>veille watch add \"cybersécurité PME\" --filiere numerique</code>.</p>")
    restrict = ctx.visible(request) if ctx.restricted else None
    blocks = []
    for name, hits in news(ctx.settings, include_seen=True, mark_seen=False, restrict=restrict).items():
        w = watches[name]
        described = Filters(**w.filters).describe()
        last = dt.datetime.fromtimestamp(w.last_run).strftime("%d/%m/%Y %H:%M")
        blocks.append(f'<div class="watch"><h4>{esc(name)}</h4><div class="src-meta">Requête : {esc(w.query)}'
                      f'{" · " + esc(described) if described else ""} · dernier passage : {last}</div>')
        if not hits:
            blocks.append("<p><small>Rien de trouvé pour l'instant dans les nouveaux documents.</small></p>")
        for h in hits:
            url = safe_url(h.url)
            title = esc(h.title or source_label(h.url))
            link = f'<a href="{esc(url)}" target="_blank">{title}</a>' if url else title
            badge = " <strong>non lu</strong>" if not h.seen else ""  # as « Tout marquer comme lu » says
            blocks.append(f'<details class="src"><summary>{link}{badge} <span class="src-meta">'
                          f'{DOC_TYPE_LABELS.get(h.doc_type, "Autre")} · {format_date(h.date)} · '
                          f'pertinence {decimal(h.score, 2)}</span></summary><blockquote class="src-quote">'
                          f'« {esc(h.snippet)} »</blockquote><div class="src-links"><a href="#doc-{esc(h.doc_id)}" '
                          f'class="doc-link">Lire le document</a></div></details>')
        blocks.append("</div>")
    return sanitize("".join(blocks))


def nothing_new(ctx: UIContext, request=None) -> str:
    """What to say when no document arrived since the visit concerns the user: « Rien de nouveau » only when
    no finding of the watches is unread either (one such finding is listed just below, marked « non lu »)."""
    restrict = ctx.visible(request) if ctx.restricted else None
    unread = sum(len(hits) for hits in news(ctx.settings, mark_seen=False, restrict=restrict).values())
    if not unread:
        return "Rien de nouveau qui concerne vos veilles, entités suivies ou filières."
    return ("Aucun document arrivé depuis votre dernière visite ne concerne vos veilles, entités suivies ou "
            f"filières ; les veilles ont {plural(unread, 'résultat non lu', 'résultats non lus')}, ci-dessous.")


def render_since_visit(ctx: UIContext, request=None) -> str:
    """« Nouveautés depuis votre dernière visite » for the session's user (escaped corpus text)."""
    found = whats_new(ctx.assistant, ctx.session_filters(Filters(), request) if ctx.restricted else Filters())
    since = dt.datetime.fromtimestamp(found.since).strftime("%d/%m/%Y %H:%M")
    title = ("Première visite : nouveautés des 7 derniers jours" if found.first_visit
             else f"Nouveautés depuis votre dernière visite ({since})")
    parts = [f"<h4>{esc(title)}</h4>"]
    if not found.items:
        parts.append(f"<p><small>{esc(nothing_new(ctx, request))}</small></p>")
    for item in found.items:
        url = safe_url(item.url)
        label = esc(item.title or item.source)
        link = f'<a href="{esc(url)}" target="_blank">{label}</a>' if url else label
        copies = f" · {item.copies_label()}" if item.copies_label() else ""
        quotes = "".join(f'<blockquote class="src-quote">« {esc(t)} »</blockquote>' for t in item.sentences)
        if item.copies:
            quotes += "<ul>" + "".join(f"<li>aussi : {esc(readable_source(k.source))} — {esc(k.title or 'Sans titre')}</li>"
                                       for k in item.copies) + "</ul>"
        parts.append(f'<details class="src" open><summary>{link} <span class="src-meta">'
                     f'{DOC_TYPE_LABELS.get(item.doc_type, "Autre")} · {esc(item.date_label)}{copies} · pour : '
                     f'{esc(", ".join(item.reasons))}</span></summary>{quotes}</details>')
    return sanitize("".join(parts))


def build_watches_tab(ctx: UIContext) -> dict:
    gr.Markdown("### Veilles enregistrées\nChaque veille est passée sur les documents arrivés depuis son dernier "
                "passage (après chaque ingestion ou collecte) ; seuls les documents pertinents sont retenus, avec "
                "les phrases qui répondent à la requête.")
    def initial() -> str:  # called by Gradio at each page load (no request: sessions with accounts click)
        if ctx.restricted:
            return sanitize("<p>Cliquez sur « Actualiser » pour voir les veilles.</p>")
        return render_news(ctx)

    def initial_visit() -> str:
        if ctx.restricted:
            return sanitize("<p>Cliquez sur « Actualiser » pour voir vos nouveautés.</p>")
        return render_since_visit(ctx)

    since_visit = gr.HTML(value=initial_visit, elem_id="watches-since-visit")
    board = gr.HTML(value=initial, elem_id="watches-news")
    with gr.Row():
        refresh = gr.Button("Actualiser", size="sm", elem_id="watches-refresh")
        mark = gr.Button("Tout marquer comme lu", size="sm", elem_id="watches-mark")
    with gr.Accordion("Ajouter ou supprimer une veille (administrateur)", open=False):
        with gr.Row():
            query = gr.Textbox(label="Requête", placeholder="cybersécurité PME", elem_id="watch-query")
            name = gr.Textbox(label="Nom (facultatif)", elem_id="watch-name")
            filiere = gr.Textbox(label="Filière (facultatif)", placeholder="numerique", elem_id="watch-filiere")
        existing = gr.Checkbox(label="Appliquer aussi aux documents déjà présents", value=True,
                               elem_id="watch-existing")
        with gr.Row():
            add = gr.Button("Enregistrer la veille", variant="primary", elem_id="watch-add")
            remove = gr.Button("Supprimer la veille nommée", elem_id="watch-remove")
        message = gr.Markdown(elem_id="watch-message")  # the outcome, or what is wrong, beside the buttons

    def show(request: gr.Request = None):
        return render_news(ctx, request)

    def show_since_visit(request: gr.Request = None):
        return render_since_visit(ctx, request)

    def mark_read(request: gr.Request = None):
        news(ctx.settings, mark_seen=True)
        return render_news(ctx, request), render_since_visit(ctx, request)

    def on_add(q, n, f, apply_existing, request: gr.Request = None):
        if not ctx.is_admin(request):
            return field_message("Création de veilles réservée aux administrateurs."), gr.skip(), gr.skip()
        try:
            w = add_watch(q, Filters(filieres=[slug(f)] if f and f.strip() else []), name=n or None,
                          settings=ctx.settings)
        except WatchError as exc:
            return field_message(str(exc)), gr.skip(), gr.skip()
        done = f"Veille « {w.name} » enregistrée."
        if apply_existing:  # « appliquer aux documents déjà présents »
            hits = apply_to_existing(w, ctx.settings, assistant=ctx.assistant)
            done += f" Documents déjà présents : {plural(len(hits), 'document pertinent', 'documents pertinents')}."
        # The panel above says whether anything is new: it follows the board (findings just made are unread).
        return done, render_news(ctx, request), render_since_visit(ctx, request)

    def on_remove(n, request: gr.Request = None):
        if not ctx.is_admin(request):
            return field_message("Suppression de veilles réservée aux administrateurs."), gr.skip(), gr.skip()
        try:
            w = remove_watch((n or "").strip(), ctx.settings)
        except WatchError as exc:
            return field_message(str(exc)), gr.skip(), gr.skip()
        return f"Veille « {w.name} » supprimée.", render_news(ctx, request), render_since_visit(ctx, request)

    refresh.click(show, None, board, api_name=False)
    refresh.click(show_since_visit, None, since_visit, api_name=False)
    mark.click(mark_read, None, [board, since_visit], api_name=False)
    add.click(on_add, [query, name, filiere, existing], [message, board, since_visit], api_name=False)
    remove.click(on_remove, [name], [message, board, since_visit], api_name=False)
    return {"watches_board": (show, board)}

