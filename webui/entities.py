"""The « Entités » tab: the most mentioned organisations, people and places of the session's audience with their
trend (a plot), and one entity's timeline (dated mentions, cited sentence, source; entities mentioned with it;
close names when it is unknown) — the same as ``veille entites [NOM]``. Corpus text is escaped."""
from __future__ import annotations

import gradio as gr
import pandas as pd

from assistant.entities import Entities, label_name
from veille.errors import VeilleError
from veille.filters import Filters
from veille.numbers import plural
from watch.brief import french_date
from webui.context import UIContext
from webui.sources import esc, safe_url, sanitize

TYPES = [("Toutes", ""), ("Organisations", "ORG"), ("Personnes", "PER"), ("Lieux", "LOC")]
TOP_COLUMNS = ["entité", "type", "documents", "mentions"]
TREND_COLUMNS = ["période", "documents", "entité"]


def top_table(ctx: UIContext, label: str, since: str, request=None):
    """(rows for the table, long-form rows for the trend plot) of the 20 most mentioned entities."""
    try:
        filters = ctx.session_filters(Filters.from_input(since=since or None), request)
        found = Entities(ctx.settings, ctx.assistant.store).top(filters, label=label or None, limit=20)
    except VeilleError as exc:
        raise gr.Error(str(exc)) from None
    table = pd.DataFrame([(e.name, label_name(e.label), e.documents, e.mentions) for e in found],
                         columns=TOP_COLUMNS)
    trend = pd.DataFrame([(period, n, e.name) for e in found[:5] for period, n in e.trend],
                         columns=TREND_COLUMNS)
    return table, trend


def timeline_html(ctx: UIContext, name: str, request=None) -> str:
    try:
        t = Entities(ctx.settings, ctx.assistant.store).timeline(name, ctx.session_filters(Filters(), request),
                                                                   limit=60)
    except VeilleError as exc:  # unknown name: the close names are in the message
        return sanitize(f"<p>{esc(str(exc))}</p>")
    parts = [f"<h4>{esc(t.name)} ({esc(label_name(t.label))}) — {plural(t.mentions, 'mention')} dans "
             f"{plural(t.documents, 'document')}</h4>"]
    for e in t.entries:
        url = safe_url(e.url)
        title = f'<a href="{esc(url)}" target="_blank">{esc(e.title)}</a>' if url else esc(e.title)
        parts.append(f'<div class="src"><strong>{esc(french_date(e.date))}</strong> — {title} '
                     f'<span class="src-meta">{esc(e.source)}</span><blockquote class="src-quote">« '
                     f'{esc(e.sentence)} »</blockquote></div>')
    if t.co_mentioned:
        parts.append("<p><strong>Souvent cité avec :</strong> " +
                     ", ".join(f"{esc(n)} ({d} doc.)" for n, d in t.co_mentioned) + "</p>")
    return sanitize("".join(parts))


def build_entities_tab(ctx: UIContext) -> dict:
    gr.Markdown("### Entités\nLes organisations, personnes et lieux les plus cités dans les documents que vous "
                "pouvez consulter, leur tendance, et la chronologie d'une entité (comme `veille entites` et "
                "`veille entites NOM`). Variantes et noms à ignorer : fichier `entites.yaml` du dossier de données.")
    with gr.Row():
        label = gr.Radio(choices=TYPES, value="", label="Type", elem_id="entities-type")
        since = gr.Textbox(label="Depuis", placeholder="AAAA, AAAA-MM ou AAAA-MM-JJ", elem_id="entities-since")
        show = gr.Button("Afficher", variant="primary", elem_id="entities-show")
    with gr.Row(equal_height=False):
        # Its real headers from the start (Gradio shows « 1 2 3 » over an empty table), filled on « Afficher ».
        table = gr.Dataframe(pd.DataFrame(columns=TOP_COLUMNS), label="Les plus citées", interactive=False,
                             elem_id="entities-table")
        plot = gr.LinePlot(x="période", y="documents", color="entité", title="Tendance (documents datés)",
                           elem_id="entities-trend")
    with gr.Row():
        name = gr.Textbox(label="Entité", placeholder="Région Normandie", scale=3, elem_id="entity-name")
        go = gr.Button("Chronologie", elem_id="entity-go")
    timeline = gr.HTML(elem_id="entity-timeline")

    def on_show(label_, since_, request: gr.Request = None):
        return top_table(ctx, label_, since_, request)

    def on_timeline(name_, request: gr.Request = None):
        return timeline_html(ctx, name_, request)

    show.click(on_show, [label, since], [table, plot], api_name=False)
    go.click(on_timeline, [name], [timeline], api_name=False)
    name.submit(on_timeline, [name], [timeline], api_name=False)
    return {}
