"""The « Documents » tab: what the corpus holds, document by document.

A searchable, sortable list (title, type, date, source, filières); a row opens the document: its metadata,
its full extracted text and the passages it was cut into, a link to the original page for a web document
and a download of the original file for a user allowed to read it. Its date says its evidence (« date lue dans le
texte »), and the admin (anyone in single-user mode) corrects it there, as ``veille date`` does. With accounts, only the documents in the
session's audience are listed and opened (``accounts.readable_document``: a document absent and a document
forbidden get the same answer). Titles are shown, never a server path."""
from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

import gradio as gr
import pandas as pd

from accounts import readable_document
from ingestion.dating import corrected_date
from veille.dates import date_with_source
from veille.errors import VeilleError
from veille.filters import Filters, source_label
from veille.numbers import decimal
from veille.text import fold, slug, tokens
from webui.auth import request_is_admin
from webui.context import UIContext
from webui.sources import DOC_TYPE_LABELS, esc, safe_url, sanitize

COLUMNS = ["n°", "Titre", "Type", "Date", "Source", "Filières", "Passages"]
ORDERS = {"Date (récents d'abord)": "date", "Titre": "title", "Type": "doc_type", "Source": "source",
          "Ajout (récents d'abord)": "ingested"}
NOT_FOUND = "Document introuvable, ou réservé à d'autres comptes."


def origin(doc: dict) -> str:
    """Where a document comes from, as a user reads it: the site of a web page, else « fichier local »."""
    if doc.get("site"):
        return doc["site"]
    if safe_url(doc.get("url")):
        return source_label(doc["url"])
    return "fichier local"


def title_of(doc: dict) -> str:
    return doc.get("title") or "Sans titre"


def list_documents(store, filters: Filters | None, text: str = "", types=(), order: str = "date") -> list[dict]:
    """The documents ``filters`` lets through (a session's audience), of ``types``, whose title or text
    holds every word of ``text`` (accents and case ignored), in ``order``."""
    filters = filters or Filters()
    if types:
        filters = Filters(**{**filters.as_dict(), "doc_types": list(types)})
    docs = store.documents(filters, limit=5000, order=order)
    text = (text or "").strip()
    if not text:
        return docs
    words = fold(text).split()
    in_text = store.documents_with_terms(tokens(text), filters) if tokens(text) else set()
    return [d for d in docs if d["doc_id"] in in_text or all(w in fold(d.get("title") or "") for w in words)]


def table(docs: list[dict]) -> pd.DataFrame:
    rows = [[i, title_of(d), DOC_TYPE_LABELS.get(d.get("doc_type"), "Autre"), d.get("date") or "—", origin(d),
             ", ".join(d.get("filieres") or []) or "—", d.get("n_chunks") or 0] for i, d in enumerate(docs, 1)]
    return pd.DataFrame(rows, columns=COLUMNS)


def render_document(store, doc: dict) -> str:
    """The document as a page: title, metadata, link to the original, full text, its passages."""
    passages = store.document_passages(doc["doc_id"])
    url = safe_url(doc.get("url"))
    meta = [DOC_TYPE_LABELS.get(doc.get("doc_type"), "Autre"),
            date_with_source(doc.get("date"), (doc.get("extra") or {}).get("date_source"), always=True), origin(doc)]
    if doc.get("author"):
        meta.append(f"auteur : {doc['author']}")
    if doc.get("filieres"):
        meta.append("filières : " + ", ".join(doc["filieres"]))
    if doc.get("language"):
        meta.append(f"langue : {doc['language']}")
    n = len(passages)
    meta.append(f"{n} passage{'s' if n > 1 else ''} · {decimal(len(doc.get('text') or ''), 0)} caractères")
    parts = [f'<div class="doc-page" id="doc-{esc(doc["doc_id"])}"><h3>{esc(title_of(doc))}</h3>',
             f'<div class="src-meta">{esc(" · ".join(meta))}</div>']
    if url:
        parts.append(f'<p><a href="{esc(url)}" target="_blank">Voir la page d\'origine ↗</a></p>')
    parts.append(f'<h4>Texte extrait</h4><div class="doc-text">{esc(doc.get("text") or "")}</div>')
    blocks = "".join(f'<div class="doc-passage"><div class="src-meta">Passage {i}'
                     f'{" — " + esc(p["heading"]) if p["heading"] else ""}</div>{esc(p["text"])}</div>'
                     for i, p in enumerate(passages, 1))
    indexed = "Le passage indexé" if n == 1 else f"Les {n} passages indexés"
    parts.append(f'<details class="doc-passages"><summary>{indexed} (ce que Veille cite)</summary>'
                 f"{blocks}</details></div>")
    return sanitize("".join(parts))


def correct_date(store, doc: dict, typed: str) -> str:
    """A person's date for ``doc`` (« aucune »: undated), stored as such; what the page says of it, in French."""
    iso = corrected_date(typed)
    store.set_date(doc["doc_id"], iso, "user")
    return f"Date enregistrée : {date_with_source(iso, 'user', always=True)}."


def original_copy(store, doc: dict) -> str | None:
    """A copy of the original file, named after the title (« plan-regional-hydrogene.md »), for download;
    None for a web page or a file no longer on disk."""
    for source in store.document_sources(doc["doc_id"]):
        path = Path(source)
        if "://" in source or not path.is_file():
            continue
        folder = Path(tempfile.mkdtemp(prefix="veille-original-"))
        dest = folder / f"{slug(title_of(doc))[:80] or 'document'}{path.suffix.lower()}"
        shutil.copyfile(path, dest)
        return str(dest)
    return None


def build_documents_tab(ctx: UIContext) -> dict:
    gr.Markdown("### Documents du corpus\nCherchez un document par son titre ou par les mots de son texte ; "
                "cliquez sur une ligne pour le lire en entier, avec les passages que Veille cite.")
    with gr.Row(equal_height=True):
        search = gr.Textbox(label="Rechercher (titre ou texte)", placeholder="ex. : comité stratégique", scale=3,
                            elem_id="docs-search")
        types = gr.Dropdown(choices=[(v, k) for k, v in DOC_TYPE_LABELS.items()], multiselect=True,
                            label="Type de document", scale=2, elem_id="docs-types")
        order = gr.Dropdown(choices=list(ORDERS), value="Date (récents d'abord)", label="Trier par", scale=2,
                            elem_id="docs-order")
    count = gr.Markdown(elem_id="docs-count")
    listing = gr.Dataframe(value=pd.DataFrame(columns=COLUMNS), headers=COLUMNS, interactive=False, wrap=True,
                           max_height=420, elem_id="docs-table", column_widths=["6%", "38%", "10%", "11%", "15%",
                                                                                  "13%", "7%"])
    ids = gr.State([])
    # Opened from a source link (« Lire le document »): the page script writes the id here (hidden by CSS).
    opener = gr.Textbox(elem_id="doc-open", elem_classes=["veille-hidden"], show_label=False, container=False)
    with gr.Row(equal_height=False):
        with gr.Column(scale=3):
            view = gr.HTML(sanitize("<p><small>Choisissez un document dans la liste.</small></p>"), elem_id="doc-view")
        with gr.Column(scale=1, min_width=220):
            download = gr.File(label="Fichier d'origine", visible=False, interactive=False, elem_id="doc-download")
            opened = gr.State("")
            date_box = gr.Textbox(label="Date du document", placeholder="2025-11-03, 3 novembre 2025, aucune",
                                  elem_id="doc-date")
            date_save = gr.Button("Corriger la date", elem_id="doc-date-save")
            date_note = gr.Markdown(elem_id="doc-date-note")

    def refresh(text, chosen_types, chosen_order, request: gr.Request = None):
        docs = list_documents(ctx.assistant.store, ctx.visible(request) if ctx.restricted else None, text,
                              chosen_types or [], ORDERS.get(chosen_order, "date"))
        n = len(docs)
        summary = (f"**{n}** document{'s' if n > 1 else ''}" + (f" pour « {esc(text.strip())} »" if (text or "").strip()
                                                                else "") if n else
                   "Aucun document ne correspond : essayez d'autres mots ou retirez le type choisi.")
        return table(docs), [d["doc_id"] for d in docs], summary

    def open_document(doc_id: str, request: gr.Request = None):
        user = ctx.user(request)
        doc = readable_document(ctx.assistant.store, doc_id, user) if doc_id else None
        if doc is None:
            return sanitize(f"<p>{esc(NOT_FOUND)}</p>"), gr.update(value=None, visible=False), "", "", ""
        copy = original_copy(ctx.assistant.store, doc)
        return (render_document(ctx.assistant.store, doc), gr.update(value=copy, visible=copy is not None),
                doc["doc_id"], doc.get("date") or "", "")

    def save_date(doc_id: str, typed: str, text, chosen_types, chosen_order, request: gr.Request = None):
        """The date a person gives the opened document; the page and the list show it at once."""
        unchanged = (gr.skip(),) * 3
        if not request_is_admin(ctx.settings, request):
            return gr.skip(), "Seul l'administrateur corrige la date d'un document.", *unchanged
        doc = readable_document(ctx.assistant.store, doc_id, ctx.user(request)) if doc_id else None
        if doc is None:
            return gr.skip(), "Ouvrez d'abord un document dans la liste.", *unchanged
        try:
            said = correct_date(ctx.assistant.store, doc, typed)
        except VeilleError as exc:
            return gr.skip(), str(exc), *unchanged
        for hook in ctx.on_corpus_change:
            hook()
        return (render_document(ctx.assistant.store, ctx.assistant.store.document(doc_id)), said,
                *refresh(text, chosen_types, chosen_order, request))

    def on_select(doc_ids, evt: gr.SelectData, request: gr.Request = None):
        row = evt.row_value or []
        try:  # the « n° » column, not the displayed position: the user may have sorted the table
            index = int(row[0]) - 1
        except (TypeError, ValueError, IndexError):
            return (gr.skip(),) * 5
        if not 0 <= index < len(doc_ids):
            return (gr.skip(),) * 5
        return open_document(doc_ids[index], request)

    inputs = [search, types, order]
    outputs = [listing, ids, count]
    search.submit(refresh, inputs, outputs, api_name=False)
    search.change(refresh, inputs, outputs, api_name=False, trigger_mode="always_last", show_progress="hidden")
    types.change(refresh, inputs, outputs, api_name=False)
    order.change(refresh, inputs, outputs, api_name=False)
    opened_outputs = [view, download, opened, date_box, date_note]
    listing.select(on_select, ids, opened_outputs, api_name=False)
    date_inputs, date_outputs = [opened, date_box, *inputs], [view, date_note, *outputs]
    date_save.click(save_date, date_inputs, date_outputs, api_name=False)
    date_box.submit(save_date, date_inputs, date_outputs, api_name=False)
    def from_link(value: str, request: gr.Request = None):
        doc_id = (value or "").split(" ")[0]  # « <doc_id> <click time> »: each click is a change
        return open_document(doc_id, request) if doc_id else (gr.skip(),) * 5

    opener.change(from_link, opener, opened_outputs, api_name=False)
    return {"documents": (refresh, inputs, outputs)}

