"""The chat tab: filters beside the conversation, streamed answers with clickable citations, the
sources panel, follow-ups, "Nouvelle conversation", export, feedback."""
from __future__ import annotations

import logging
import re
from datetime import datetime

import gradio as gr

from assistant.answering.answer import Answer
from assistant.answering.citations import centred_excerpt
from assistant.conversation.session import Conversation
from veille.dates import DateError, filter_bound
from veille.filters import Filters, source_label
from veille.markup import md_literal
from veille.numbers import plural
from webui.context import UIContext, field_message, ui_error, ui_info, ui_warning
from webui.docx_export import export_files
from webui.feedback import build_feedback_controls
from webui.sources import DOC_TYPE_LABELS, format_date, origin_label, render_sources, safe_url, source_id, source_names

log = logging.getLogger("veille.ui")

EXAMPLES = [
    "Quels sont les pôles de compétitivité normands ?",
    "Qui co-préside le comité stratégique d'intelligence économique territoriale ?",
    "Quelles actions les Régions mènent-elles en intelligence économique ?",
    "Qu'est-ce que l'intelligence territoriale ?",
]

# After an answer: the question just asked at the top of the conversation, its answer below it.
KEEP_QUESTION_IN_VIEW = """() => { const users = document.querySelectorAll('#chat [data-testid="user"]');
  if (users.length) users[users.length - 1].scrollIntoView({block: 'start', behavior: 'instant'}); }"""

# Exchanges a chat keeps (Conversation.max_turns): the server holds every open conversation and redraws it whole
# at each answer, so an endless one would make memory and answer time grow without bound.
CHAT_MAX_TURNS = 20

# --- rendering ------------------------------------------------------------------------------------
# Corpus text and what the user typed go through ``md_literal`` (veille/markup.py), the product's one escape.
def link_citations(escaped: str, turn: int) -> str:
    """Turn the escaped marks ``\\[n\\]`` into links to the sources panel."""
    return re.sub(r"\\\[(\d+)\\\]", lambda m: f'<a href="#{source_id(turn, int(m.group(1)))}" '
                                             f'class="cite" title="Voir la source {m.group(1)}">[{m.group(1)}]</a>',
                  escaped)


def describe_filters(filters: dict) -> str:
    return Filters(**filters).describe() if filters else ""


def refusal_text(answer: Answer) -> str:
    """The refusal as the command line and the JSON say it (``answer.answer``: one text for every channel,
    assistant/answering/answer.py), its first sentence in bold; the active filters are in the footer."""
    head, dot, rest = answer.answer.partition(". ")
    return f"**{md_literal(head + dot.strip())}** {md_literal(rest)}".rstrip()


def render_answer(answer: Answer, turn: int, mode_label: str, partial: str | None = None) -> str:
    lines = []
    if answer.standalone_question:
        lines.append(f"*Question comprise comme : {md_literal(answer.standalone_question)}*\n")
    if answer.notice:
        lines.append(f"⚠️ {md_literal(answer.notice)}\n")
    if getattr(answer, "filter_note", None):
        lines.append(f"*{md_literal(answer.filter_note)}*\n")
    if answer.refused and answer.status == "partial" and partial is None:
        head, _, closest = answer.answer.partition("\n")
        lines.append(f"**{md_literal(head)}**\n\n" + "<br>".join(
            link_citations(md_literal(line), turn) for line in closest.split("\n")))
    elif answer.refused:
        lines.append(refusal_text(answer))
    elif partial is None:
        lines.append(link_citations(marked_span(answer), turn))
    else:
        lines.append(link_citations(md_literal(partial, lines=True), turn))
        if partial != answer.answer:
            lines[-1] += " ▌"
    footer = [f"Mode : {answer.mode if answer.mode else mode_label}"]
    if answer.confidence_label:
        footer.append(f"Confiance : {answer.confidence_label}")
    active = describe_filters(answer.filters)
    footer.append(f"Filtres actifs : {md_literal(active)}" if active else "Filtres : aucun (tout le corpus)")
    if answer.citations and partial is None:
        n = len(answer.citations)
        footer.append(f"{plural(n, 'source')} — cliquez sur [n] pour {'les' if n > 1 else 'la'} voir")
    lines.append("\n<small class='answer-meta'>" + " · ".join(footer) + "</small>")
    return "\n".join(lines)


def marked_span(answer: Answer) -> str:
    """The answer as escaped Markdown, the reader's answer words in bold."""
    span = answer.span
    text = answer.answer
    if not span or not 0 <= span["start"] < span["end"] <= len(text):
        return md_literal(text, lines=True)
    a, b = span["start"], span["end"]
    # The bold marks put in as private-use characters, which the escape leaves as they are.
    return md_literal(f"{text[:a]}\ue001{text[a:b]}\ue001{text[b:]}", lines=True).replace("\ue001", "**")


def render_partial(text: str, turn: int) -> str:
    return link_citations(md_literal(text, lines=True), turn) + " ▌"


def history_of(conv: Conversation | None, mode_label: str) -> list[dict]:
    messages: list[dict] = []
    for i, t in enumerate(conv.turns if conv else []):
        messages.append({"role": "user", "content": md_literal(t.question)})
        messages.append({"role": "assistant", "content": render_answer(t.answer, i, mode_label)})
    return messages


# --- filters --------------------------------------------------------------------------------------
def filter_choices(store, filters: Filters | None = None) -> dict[str, list]:
    """Values present in the corpus (within ``filters``: a user's audience), for the filter pickers."""
    names = source_names(store, filters)
    sources = [(names.get(value) or source_label(value), value) for value, _n in store.count_by("source", filters)
               if value]
    languages = [value for value, _n in sorted(store.count_by("language", filters), key=lambda r: r[0] or "") if value]
    return {"sources": sources, "filieres": store.filieres(filters), "languages": languages}


def make_filters(types, since, until, sources, filieres, languages) -> Filters:
    """The filters chosen in the page, read as the CLI reads its options (``Filters.from_input``); an
    unreadable date raises ``DateError`` (French), shown next to the date fields."""
    return Filters.from_input(doc_types=types, since=since, until=until, sources=sources, filieres=filieres,
                              languages=languages)


def date_problems(since, until) -> str:
    """What is wrong with the « Depuis » / « Jusqu'à » fields, in French, for the message beside them ("" when
    both read: « mars 2019 », « 03/2019 », « 15 mars 2019 », « 2019 »…)."""
    problems = []
    for label, value, end in (("Depuis", since, False), ("Jusqu'à", until, True)):
        try:
            filter_bound(value, end=end)
        except DateError as exc:
            problems.append(f"{label} : {exc}")
    try:
        if not problems and since and until and filter_bound(since, end=False) > filter_bound(until, end=True):
            problems.append("« Depuis » est après « Jusqu'à » : aucune date ne peut convenir.")
    except DateError:
        pass
    return " ".join(problems)


DATE_HINT = "ex. : mars 2019"


# --- export ---------------------------------------------------------------------------------------
def conversation_markdown(conv: Conversation, mode_label: str) -> str:
    """The conversation as Markdown; what the user typed and the corpus said stays text (``md_literal``)."""
    lit = md_literal
    out = [f"# Conversation Veille — {datetime.now().strftime('%d/%m/%Y %H:%M')}", "",
           f"Mode de réponse : {mode_label}", ""]
    if conv.dropped:
        gone = ("Le premier échange n'est plus conservé" if conv.dropped == 1 else
                f"Les {conv.dropped} premiers échanges ne sont plus conservés")
        out += [f"*{gone} (au plus {CHAT_MAX_TURNS} le sont).*", ""]
    for i, t in enumerate(conv.turns, 1):
        a = t.answer
        out += [f"## {i}. {lit(t.question)}", ""]
        if a.standalone_question:
            out += [f"*Question comprise comme : {lit(a.standalone_question)}*", ""]
        if a.filters:
            out += [f"*Filtres actifs : {lit(describe_filters(a.filters))}*", ""]
        if a.notice:
            out += [f"> ⚠️ {lit(a.notice)}", ""]
        out += [lit(a.answer, marks=True), ""]
        if a.citations:
            out += ["**Sources**", ""]
            for c in a.citations:  # one number per document, each cited sentence in its context
                out.append(f"{c.n}. **{lit(c.title or 'Sans titre')}** — {DOC_TYPE_LABELS.get(c.doc_type, c.doc_type)}"
                           f", {format_date(c.date)}, {lit(origin_label(c))}"
                           + (f" — {lit(c.url)}" if safe_url(c.url) else ""))
                excerpts = [centred_excerpt(p.text, sentence) for p in c.passages for sentence in p.sentences]
                for excerpt in excerpts or [c.quote]:
                    out.append(f"   > « {lit(excerpt)} »")
            out.append("")
    return "\n".join(out)


def write_export(conv: Conversation | None, mode_label: str) -> list[str]:
    """The conversation as Markdown and as a Word document (same content, numbered sources)."""
    if not conv or not conv.turns:
        raise ui_error("Rien à exporter : posez d'abord une question.")
    return export_files(conversation_markdown(conv, mode_label), "conversation-veille")


# --- the tab --------------------------------------------------------------------------------------
def build_chat_tab(ctx: UIContext, examples: list[str] | None = None) -> dict:
    """Build the chat tab inside the current ``gr.Blocks``; returns its components (for other tabs)."""
    # Filled at each page load and after an upload (refresh_choices): with accounts they depend on who is logged
    # in; without, a source ingested since the server started appears, and no value (a local file's server path)
    # is written in the app's public description (/gradio_api/info, /config).
    choices = {"sources": [], "filieres": [], "languages": []}
    examples = examples or EXAMPLES
    conv_state = gr.State(None)
    with gr.Row(equal_height=False, elem_id="chat-row"):
        with gr.Column(scale=1, min_width=220, elem_id="filters-panel"):
            gr.Markdown("### Filtres")
            f_types = gr.CheckboxGroup(choices=[(v, k) for k, v in DOC_TYPE_LABELS.items()],
                                       label="Type de document", elem_id="f-types")
            f_since = gr.Textbox(label="Depuis", placeholder=DATE_HINT, elem_id="f-since")
            f_until = gr.Textbox(label="Jusqu'à", placeholder=DATE_HINT, elem_id="f-until")
            dates_msg = gr.Markdown(elem_id="f-dates-msg")  # what is wrong with a date, beside the fields
            f_sources = gr.Dropdown(choices=choices["sources"], multiselect=True, label="Source / site",
                                    elem_id="f-sources")
            f_filieres = gr.Dropdown(choices=choices["filieres"], multiselect=True, label="Filière",
                                     elem_id="f-filieres")
            f_langs = gr.Dropdown(choices=choices["languages"], multiselect=True, label="Langue", elem_id="f-langs")
            clear_filters = gr.Button("Effacer les filtres", size="sm")
        with gr.Column(scale=3, min_width=420, elem_id="chat-column"):
            # No floating label over the first message; no autoscroll: the question asked stays in view.
            chatbot = gr.Chatbot(label="Conversation", show_label=False, autoscroll=False, elem_id="chat", height=560,
                                 sanitize_html=True,
                                 examples=[{"text": q} for q in examples], layout="bubble",
                                 placeholder="**Posez une question sur le corpus de veille.**\n\n"
                                             "Chaque réponse cite ses sources ; cliquez sur un exemple pour commencer.",
                                 buttons=["copy"])
            with gr.Row():
                # The label stays hidden but names the box for screen readers (else « Textbox »).
                question = gr.Textbox(label="Votre question", placeholder="Votre question… (Entrée pour envoyer)",
                                      show_label=False,
                                      scale=5, elem_id="question", autofocus=True, max_lines=4)
                send = gr.Button("Envoyer", variant="primary", scale=1, elem_id="send")
            with gr.Row():
                new_conv = gr.Button("Nouvelle conversation", elem_id="new-conv", size="sm")
                export_btn = gr.Button("Exporter la conversation (Markdown, Word)", elem_id="export", size="sm")
            export_file = gr.File(label="Export", visible=False, elem_id="export-file", interactive=False,
                                  file_count="multiple")
            fb = build_feedback_controls(ctx, chatbot, conv_state)
        with gr.Column(scale=2, min_width=300, elem_id="sources-column"):
            gr.Markdown("### Sources")
            sources = gr.HTML(render_sources([]), elem_id="sources-panel")

    filter_inputs = [f_types, f_since, f_until, f_sources, f_filieres, f_langs]

    def respond(text, conv, types, since, until, srcs, fils, langs, request: gr.Request):
        text = (text or "").strip()
        conv = conv or Conversation(max_turns=CHAT_MAX_TURNS)
        past = history_of(conv, ctx.mode_label)
        # The sources panel is sent again as it stands rather than left with gr.skip(): Gradio makes a new gr.HTML for
        # each such « update » and kept every panel sent before it (≈ 0.2 MB a question, scripts/bench_soak.py).
        panel = render_sources([t.answer for t in conv.turns])
        problem = date_problems(since, until)
        if problem:  # said beside the date fields; the conversation and the question stay as they were
            yield past, conv, panel, text, field_message(problem)
            return
        if not text:
            ui_warning("Écrivez une question avant d'envoyer.")
            yield past, conv, panel, "", ""
            return
        filters = make_filters(types, since, until, srcs, fils, langs)
        turn, dropped_before = len(conv.turns), conv.dropped
        user_msg = {"role": "user", "content": md_literal(text)}
        try:
            for event in ctx.stream_chat(conv, text, filters, request):
                if event.kind == "status":
                    yield (past + [user_msg, {"role": "assistant", "content": f"*{event.text}*"}], conv, panel, "",
                           "")
                elif event.kind == "text":
                    yield (past + [user_msg, {"role": "assistant", "content": render_partial(event.text, turn)}],
                           conv, panel, "", "")
                else:
                    if dropped_before == 0 < conv.dropped:  # said once, when the first exchange goes
                        ui_info(f"Cette conversation ne garde que ses {CHAT_MAX_TURNS} derniers échanges : le plus "
                                "ancien vient d'être retiré. Exportez-la au fil de l'eau pour tout garder, ou ouvrez "
                                "une « Nouvelle conversation ».")
                    answers = [t.answer for t in conv.turns]
                    yield history_of(conv, ctx.mode_label), conv, render_sources(answers), "", ""
        except gr.Error:  # a refused or disabled account: Gradio's error, the session is over
            raise
        except Exception:  # noqa: BLE001 - the user sees a plain message, the log keeps the traceback
            log.exception("question failed: %s", text)
            msg = ("Une erreur interne a empêché de répondre. Réessayez ; si le problème persiste, "
                   "signalez-le à l'administrateur (le détail est dans le journal du serveur).")
            yield past + [user_msg, {"role": "assistant", "content": msg}], conv, panel, text, ""

    outputs = [chatbot, conv_state, sources, question, dates_msg]
    ev_args = dict(fn=respond, inputs=[question, conv_state, *filter_inputs], outputs=outputs,
                   api_name="chat", concurrency_id="chat")
    question.submit(**ev_args).then(None, None, None, js=KEEP_QUESTION_IN_VIEW)
    send.click(**{**ev_args, "api_name": False}).then(None, None, None, js=KEEP_QUESTION_IN_VIEW)
    for field in (f_since, f_until):  # checked as soon as the user leaves the field
        field.blur(lambda a, b: field_message(date_problems(a, b)), [f_since, f_until], dates_msg, api_name=False,
                   show_progress="hidden")

    def pick_example(evt: gr.SelectData):
        return evt.value["text"] if isinstance(evt.value, dict) else str(evt.value)

    chatbot.example_select(pick_example, None, question, api_name=False).then(
        **{**ev_args, "api_name": False}).then(None, None, None, js=KEEP_QUESTION_IN_VIEW)

    def reset(conv):
        return [], Conversation(max_turns=CHAT_MAX_TURNS), render_sources([]), "", gr.update(value=None, visible=False)

    new_conv.click(reset, conv_state, [chatbot, conv_state, sources, question, export_file], api_name="reset")
    chatbot.clear(reset, conv_state, [chatbot, conv_state, sources, question, export_file], api_name=False)

    def do_export(conv):
        return gr.update(value=write_export(conv, ctx.mode_label), visible=True)

    export_btn.click(do_export, conv_state, export_file, api_name="export")
    clear_filters.click(lambda: ([], "", "", [], [], [], ""), None, [*filter_inputs, dates_msg], api_name=False)

    def refresh_choices(request: gr.Request = None):
        c = filter_choices(ctx.assistant.store, ctx.visible(request) if ctx.restricted else None)
        return (gr.update(choices=c["sources"]), gr.update(choices=c["filieres"]), gr.update(choices=c["languages"]))

    return {"chatbot": chatbot, "conversation": conv_state, "sources": sources, "question": question,
            "filters": filter_inputs, "refresh_choices": (refresh_choices, [f_sources, f_filieres, f_langs]),
            **fb}
