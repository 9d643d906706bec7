"""The briefing tab: topic + period + filters → the *note de synthèse* of ``veille brief``
(``assistant.brief``), rendered, downloadable as Markdown and .docx."""
from __future__ import annotations

import importlib
import inspect
import logging
import re
import tempfile
from pathlib import Path

import gradio as gr

from assistant.ui.context import UIContext
from assistant.ui.sources import DOC_TYPE_LABELS

log = logging.getLogger("veille.ui")

UNAVAILABLE = ("Les notes de synthèse ne sont pas disponibles dans cette installation "
               "(module `assistant.brief` absent). Le chat et l'export de conversation restent utilisables.")


def brief_function():
    """The briefing entry point of ``assistant.brief``, or None while that module is not installed."""
    try:
        module = importlib.import_module("assistant.brief")
    except ImportError:
        return None
    for name in ("brief", "make_brief", "build_brief", "write_brief"):
        fn = getattr(module, name, None)
        if callable(fn) and not inspect.isclass(fn):
            return fn
    return None


def brief_markdown(result) -> str:
    if isinstance(result, str):
        return result
    for attr in ("markdown", "as_markdown", "to_markdown", "render_markdown", "render"):
        value = getattr(result, attr, None)
        if callable(value):
            value = value()
        if isinstance(value, str):
            return value
    return str(result)


def run_brief(ctx: UIContext, topic: str, filters, request=None) -> str:
    fn = brief_function()
    if fn is None:
        raise LookupError(UNAVAILABLE)
    filters = ctx.session_filters(filters, request)
    params = inspect.signature(fn).parameters
    kwargs = {}
    for name, value in (("filters", filters), ("assistant", ctx.assistant), ("settings", ctx.settings)):
        if name in params:
            kwargs[name] = value
    return brief_markdown(fn(topic, **kwargs))


def markdown_to_docx(markdown: str, path: Path) -> Path:
    """A plain .docx from the note's Markdown: headings, bullet lists, paragraphs, bold runs."""
    from docx import Document

    doc = Document()
    for raw in markdown.splitlines():
        line = raw.rstrip()
        if not line.strip():
            continue
        m = re.match(r"^(#{1,6})\s+(.*)$", line)
        if m:
            doc.add_heading(_plain(m.group(2)), level=min(len(m.group(1)) - 1, 3))
            continue
        m = re.match(r"^\s*(?:[-*+]|\d+[.)])\s+(.*)$", line)
        para = doc.add_paragraph(style="List Bullet" if m else None)
        text = m.group(1) if m else line.lstrip("> ")
        for i, part in enumerate(re.split(r"\*\*(.+?)\*\*", text)):
            run = para.add_run(_plain(part))
            run.bold = i % 2 == 1
    doc.save(str(path))
    return path


def _plain(text: str) -> str:
    return re.sub(r"(\*\*|__|`)", "", text)


def build_briefing_tab(ctx: UIContext) -> dict:
    from assistant.ui.chat import make_filters

    available = brief_function() is not None
    gr.Markdown("### Note de synthèse\nUn thème, une période et des filtres : Veille rédige une note de synthèse "
                "citée à partir du corpus (comme `veille brief`).")
    if not available:
        gr.Markdown(f"⚠️ {UNAVAILABLE}", elem_id="brief-unavailable")
    with gr.Row():
        topic = gr.Textbox(label="Thème", placeholder="ex. : intelligence économique en Normandie", scale=3,
                           elem_id="brief-topic")
        since = gr.Textbox(label="Depuis", placeholder="AAAA, AAAA-MM ou AAAA-MM-JJ", scale=1)
        until = gr.Textbox(label="Jusqu'à", placeholder="AAAA, AAAA-MM ou AAAA-MM-JJ", scale=1)
    with gr.Row():
        types = gr.CheckboxGroup(choices=[(v, k) for k, v in DOC_TYPE_LABELS.items()], label="Type de document")
        go = gr.Button("Rédiger la note", variant="primary", elem_id="brief-go", interactive=available)
    note = gr.Markdown(elem_id="brief-note", sanitize_html=True)
    files = gr.File(label="Télécharger la note", file_count="multiple", visible=False, interactive=False,
                    elem_id="brief-files")

    def on_brief(text, since_, until_, types_, request: gr.Request):
        text = (text or "").strip()
        if not text:
            raise gr.Error("Indiquez un thème pour la note.")
        filters = make_filters(types_, since_, until_, [], [], [])
        try:
            markdown = run_brief(ctx, text, filters, request)
        except LookupError as exc:
            raise gr.Error(str(exc)) from None
        except Exception:  # noqa: BLE001
            log.exception("briefing failed: %s", text)
            raise gr.Error("La note n'a pas pu être rédigée (erreur interne, voir le journal du serveur).") from None
        folder = Path(tempfile.mkdtemp(prefix="veille-note-"))
        md_path = folder / "note-de-synthese.md"
        md_path.write_text(markdown, encoding="utf-8")
        paths = [str(md_path)]
        try:
            paths.append(str(markdown_to_docx(markdown, folder / "note-de-synthese.docx")))
        except Exception:  # noqa: BLE001 - the Markdown download still works
            log.exception("docx export failed")
        return markdown, gr.update(value=paths, visible=True)

    go.click(on_brief, [topic, since, until, types], [note, files], api_name="brief")
    return {"brief_note": note}
