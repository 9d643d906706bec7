"""The briefing tab: topic + period + filters → the *note de synthèse* of ``veille brief``
(``watch.brief``), rendered, downloadable as Markdown and .docx."""
from __future__ import annotations

import logging
import re

import gradio as gr

from veille.errors import VeilleError
from watch.brief import make_brief
from webui.chat import DATE_HINT, date_problems, make_filters
from webui.context import UIContext, field_message
from webui.docx_export import export_files
from webui.sources import DOC_TYPE_LABELS, render_citation, sanitize, source_id

log = logging.getLogger("veille.ui")

def run_brief(ctx: UIContext, topic: str, filters, request=None):
    """The Briefing object of ``veille brief`` for this session's filters."""
    return make_brief(ctx.assistant, topic, ctx.session_filters(filters, request))


def note_for_display(markdown: str) -> str:
    """The note's Markdown (its corpus text already literal: ``Briefing.markdown``) with Veille's marks ``[n]``
    linked to their source in the panel beside it (an escaped ``\\[n\\]`` from a document stays text)."""
    return re.sub(r"(?<!\\)\[(\d+)\]", lambda m: f'<a href="#{source_id("note", int(m.group(1)))}" class="cite">'
                                          f'[{m.group(1)}]</a>', markdown)


def note_sources(briefing) -> str:
    if not briefing.sources:
        return sanitize("<small>Aucune source retenue.</small>")
    return sanitize('<div class="src-pane">' + "".join(render_citation("note", c) for c in briefing.sources) + "</div>")


def build_briefing_tab(ctx: UIContext) -> dict:
    gr.Markdown("### Note de synthèse\nUn thème, une période et des filtres : Veille rédige une note de synthèse "
                "citée à partir du corpus (comme `veille brief`).")
    with gr.Row():
        topic = gr.Textbox(label="Thème", placeholder="ex. : intelligence économique en Normandie", scale=3,
                           elem_id="brief-topic")
        since = gr.Textbox(label="Depuis", placeholder=DATE_HINT, scale=1, elem_id="brief-since")
        until = gr.Textbox(label="Jusqu'à", placeholder=DATE_HINT, scale=1, elem_id="brief-until")
    message = gr.Markdown(elem_id="brief-msg")  # what is wrong with the request, beside its fields
    with gr.Row():
        types = gr.CheckboxGroup(choices=[(v, k) for k, v in DOC_TYPE_LABELS.items()], label="Type de document")
        go = gr.Button("Rédiger la note", variant="primary", elem_id="brief-go")
    with gr.Row(equal_height=False):
        with gr.Column(scale=3):
            note = gr.Markdown(elem_id="brief-note", sanitize_html=True)
            files = gr.File(label="Télécharger la note (Markdown, Word)", file_count="multiple", visible=False,
                            interactive=False, elem_id="brief-files")
        with gr.Column(scale=2):
            gr.Markdown("### Sources de la note")
            panel = gr.HTML(elem_id="brief-sources", elem_classes=["sources-panel"])

    def on_brief(text, since_, until_, types_, request: gr.Request):
        text = (text or "").strip()
        problem = date_problems(since_, until_)
        if problem or not text:  # the note and its sources stay as they were
            return gr.skip(), gr.skip(), gr.skip(), field_message(problem or "Indiquez un thème pour la note.")
        try:
            briefing = run_brief(ctx, text, make_filters(types_, since_, until_, [], [], []), request)
        except (VeilleError, gr.Error) as exc:  # a refused account: said in French, beside the request
            return gr.skip(), gr.skip(), gr.skip(), field_message(getattr(exc, "message", None) or str(exc))
        except Exception:  # noqa: BLE001
            log.exception("briefing failed: %s", text)
            return (gr.skip(), gr.skip(), gr.skip(),
                    field_message("La note n'a pas pu être rédigée (erreur interne, voir le journal du serveur)."))
        markdown = briefing.markdown()
        paths = export_files(markdown, "note-de-synthese")
        return note_for_display(markdown), gr.update(value=paths, visible=True), note_sources(briefing), ""

    go.click(on_brief, [topic, since, until, types], [note, files, panel, message], api_name="brief")
    return {"brief_note": note}
