"""The Gradio app: ``build_app`` assembles the tabs listed in ``TABS`` inside one ``gr.Blocks``.

The list is explicit: the app ``veille serve`` starts has exactly these tabs (a tab registered as a side
effect of an import once existed only in tests). An extension passes ``build_app(..., extra_tabs=[Tab(...)])``.
A tab's ``build(ctx, shared)`` is called inside the Blocks with the UIContext and the components of the tabs
built before it (``shared``), and may return more components to share. Login/audience: pass ``restrict=``
(see UIContext.session_filters).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import gradio as gr

from assistant.service import get_assistant
from veille.config import Settings
from webui.auth import LOGIN_MESSAGE, gradio_auth, ui_restriction
from webui.briefing import build_briefing_tab
from webui.bulletin import build_bulletin_tab
from webui.chat import build_chat_tab
from webui.context import UIContext
from webui.corpus import build_corpus_tab
from webui.documents import build_documents_tab
from webui.entities import build_entities_tab
from webui.i18n import DOM_TRANSLATIONS, gradio_i18n
from webui.watches import build_watches_tab


@dataclass
class Tab:
    name: str
    build: Callable[[UIContext, dict], dict | None]
    order: int = 100
    elem_id: str | None = None


def _chat(ctx: UIContext, shared: dict) -> dict:
    return build_chat_tab(ctx, shared.get("examples"))


TABS: list[Tab] = [
    Tab("Questions", _chat, order=0, elem_id="tab-chat"),
    Tab("Note de synthèse", lambda ctx, shared: build_briefing_tab(ctx), order=20, elem_id="tab-brief"),
    Tab("Veilles", lambda ctx, shared: build_watches_tab(ctx), order=25, elem_id="tab-watches"),
    Tab("Bulletin", lambda ctx, shared: build_bulletin_tab(ctx), order=27, elem_id="tab-bulletin"),
    Tab("Entités", lambda ctx, shared: build_entities_tab(ctx), order=28, elem_id="tab-entities"),
    Tab("Documents", lambda ctx, shared: build_documents_tab(ctx), order=29, elem_id="tab-docs"),
    Tab("Corpus", lambda ctx, shared: build_corpus_tab(ctx), order=30, elem_id="tab-corpus"),
]


CSS = """
.src-pane .src { border: 1px solid var(--border-color-primary); border-radius: 8px; padding: 6px 10px; margin: 6px 0; }
.src-pane .src summary { cursor: pointer; }
.src-pane .src-n { color: var(--color-accent); font-weight: 600; }
.src-pane .src-meta { color: var(--body-text-color-subdued); font-size: 0.85em; margin: 4px 0; }
.src-pane .src-quote { font-size: 0.9em; margin: 6px 0; padding-left: 8px; border-left: 3px solid var(--border-color-primary); white-space: pre-wrap; }
.src-pane mark { background: #ffe58a; color: inherit; padding: 0 2px; }
.src-pane .src-active { outline: 3px solid var(--color-accent); }
.src-pane .src-turn { margin: 10px 0 4px; font-size: 0.95em; }
.src-pane .src-links { font-size: 0.85em; margin-top: 4px; }
.src-pane .entity-chip { display: inline-block; font-size: 0.8em; padding: 0 6px; margin: 0 4px 2px 0; border-radius: 10px; border: 1px solid var(--border-color-primary); }
.src-pane .src-copies { font-size: 0.85em; } .src-pane .src-copies ul { margin: 2px 0 2px 18px; }
#sources-panel, #brief-sources { max-height: 640px; overflow-y: auto; }
#chat a.cite, #brief-note a.cite { font-weight: 600; text-decoration: none; }
.answer-meta { color: var(--body-text-color-subdued); }
.field-error { color: var(--error-text-color, #b91c1c); font-size: 0.9em; }
.veille-hidden { display: none !important; }
#doc-view .doc-text { white-space: pre-wrap; max-height: 520px; overflow-y: auto; border: 1px solid
  var(--border-color-primary); border-radius: 8px; padding: 8px 12px; }
#doc-view .doc-passage { border-left: 3px solid var(--border-color-primary); padding-left: 8px; margin: 8px 0;
  white-space: pre-wrap; font-size: 0.9em; }
/* Below 1 100 px the filters go above, in a band, so that the answer and its sources stay side by side. */
@media (max-width: 1100px) {
  #chat-row { flex-wrap: wrap; }
  #filters-panel { flex: 1 1 100% !important; min-width: 100% !important; flex-direction: row !important;
    flex-wrap: wrap; gap: 8px; align-items: flex-start; }
  #filters-panel > * { margin: 0 !important; }
  #filters-panel > .form { flex: 1 1 100% !important; flex-direction: row !important; flex-wrap: wrap; }
  #filters-panel > .form > * { flex: 1 1 190px !important; min-width: 190px !important; }
  #filters-panel > .form > #f-dates-msg { flex-basis: 100% !important; }
  #chat-column { flex: 3 1 0 !important; min-width: 380px !important; }
  #sources-column { flex: 2 1 0 !important; min-width: 260px !important; }
}
"""

# Citations [n] in the chat open and highlight the matching source in the sources panel; « Lire le
# document » opens it in the Documents tab (through the hidden #doc-open box); Gradio's untranslated strings.
HEAD = """<script>
document.addEventListener('click', function (e) {
  const doc = e.target.closest ? e.target.closest('a[href^="#doc-"]') : null;
  if (doc) {
    e.preventDefault(); e.stopPropagation();
    const tab = [...document.querySelectorAll('button[role="tab"]')].find(b => b.innerText.trim() === 'Documents');
    if (tab) tab.click();
    const id = doc.getAttribute('href').slice(5);
    let tries = 0;
    const fill = () => {  // the tab's components appear once it is shown
      const box = document.querySelector('#doc-open textarea, #doc-open input');
      if (!box) { if (++tries < 50) setTimeout(fill, 100); return; }
      box.value = id + ' ' + Date.now();  // a new value each click: Gradio sends a change
      box.dispatchEvent(new Event('input', {bubbles: true}));
    };
    setTimeout(fill, 50);
    return;
  }
  const a = e.target.closest ? e.target.closest('a[href^="#src-"]') : null;
  if (!a) return;
  e.preventDefault(); e.stopPropagation();
  const el = document.getElementById(a.getAttribute('href').slice(1));
  if (!el) return;
  el.open = true;
  document.querySelectorAll('.src-pane .src-active').forEach(x => x.classList.remove('src-active'));
  el.classList.add('src-active');
  el.scrollIntoView({behavior: 'smooth', block: 'center'});
}, true);
""" + DOM_TRANSLATIONS + "</script>"


def theme() -> gr.themes.Base:
    # System fonts only: no request to a font CDN (the app runs offline).
    return gr.themes.Soft(primary_hue="blue", font=["system-ui", "Segoe UI", "Roboto", "Helvetica", "Arial",
                                                    "sans-serif"],
                          font_mono=["ui-monospace", "SFMono-Regular", "Menlo", "monospace"])


def launch_options(settings: Settings) -> dict:
    """Arguments for ``Blocks.launch`` (Gradio 6 takes theme, CSS and head there)."""
    return {"theme": theme(), "css": CSS, "head": HEAD, "share": False, "footer_links": [],
            "max_file_size": 4 * settings.max_file_bytes, "show_error": False, "i18n": gradio_i18n()}


def build_app(assistant=None, settings: Settings | None = None, extra_tabs: list[Tab] | None = None,
              examples: list[str] | None = None, **context_options) -> gr.Blocks:
    """The whole page. ``context_options`` go to UIContext (allow_upload, restrict, stream_delay…)."""
    if assistant is None:
        assistant = get_assistant(settings)
    restriction = ui_restriction(settings or assistant.settings)  # accounts exist: login + audiences
    if restriction is not None and "restrict" not in context_options:
        context_options["restrict"] = restriction
    ctx = UIContext.create(assistant, settings, **context_options)
    tabs = sorted(TABS + list(extra_tabs or []), key=lambda t: t.order)
    with gr.Blocks(title="Veille — assistant de veille économique", fill_width=True, analytics_enabled=False) as app:
        gr.Markdown(f"## Veille · assistant de veille économique territoriale\n"
                    f"<small>Mode de réponse : **{ctx.mode_label}** · chaque affirmation renvoie à ses sources.</small>",
                    elem_id="header")
        shared: dict = {"examples": examples, "ctx": ctx}
        with gr.Tabs():
            for tab in tabs:
                with gr.Tab(tab.name, elem_id=tab.elem_id) as block:
                    shared.update(tab.build(ctx, shared) or {})
                shared[f"tab:{tab.elem_id}"] = block
        _wire_corpus_refresh(app, shared)
    app.veille_context = ctx
    app.veille_launch_options = launch_options(ctx.settings)
    if restriction is not None:
        app.veille_launch_options.update(auth=gradio_auth(ctx.settings), auth_message=LOGIN_MESSAGE)
    return app


def _wire_corpus_refresh(app: gr.Blocks, shared: dict) -> None:
    """On page load: fresh corpus statistics and filter choices; after an upload, and on coming back to the
    chat tab (a source ingested meanwhile from the command line): fresh filter choices."""
    if "stats" in shared:
        fn, outputs = shared["stats"]
        app.load(fn, None, outputs, api_name=False)
    if "refresh_choices" in shared:  # the filter values of now (and of this user, with accounts), at page load
        fn, outputs = shared["refresh_choices"]
        app.load(fn, None, outputs, api_name=False)
    if "documents" in shared:  # the list of documents, within the session's audience
        fn, inputs, outputs = shared["documents"]
        app.load(fn, inputs, outputs, api_name=False)
        if "upload_event" in shared:
            shared["upload_event"].then(fn, inputs, outputs, api_name=False)
    if "refresh_choices" in shared:
        fn, outputs = shared["refresh_choices"]
        if "upload_event" in shared:
            shared["upload_event"].then(fn, None, outputs, api_name=False)
        if "tab:tab-chat" in shared:
            shared["tab:tab-chat"].select(fn, None, outputs, api_name=False, show_progress="hidden")
