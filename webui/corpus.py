"""The corpus tab: what is indexed (per type, month, source; last ingestions) and, for an admin, an
upload of files ingested exactly as ``veille ingest`` does (same checks, same summary)."""
from __future__ import annotations

import re
import shutil
from collections import Counter, defaultdict
from datetime import datetime
from pathlib import Path, PurePath, PureWindowsPath
from urllib.parse import urlparse

import gradio as gr
import pandas as pd

from ingestion.pipeline import Ingestor, container_of
from ingestion.sources import SUPPORTED
from veille.numbers import file_size, plural, seconds
from watch.watches import after_ingestion
from webui.context import UIContext, field_message
from webui.sources import DOC_TYPE_LABELS

STATUS_LABELS = [("added", "ajoutés"), ("updated", "mis à jour"), ("unchanged", "inchangés"),
                 ("skipped", "ignorés"), ("failed", "en échec"), ("removed", "retirés")]
INGESTION_COLUMNS = ["date", *(v for _, v in STATUS_LABELS), "passages écrits", "durée"]
DETAIL_COLUMNS = ["fichier", "statut", "détail"]
SOURCE_COLUMNS = ["source", "genre", "fichiers", "documents"]


def _empty(*columns: str) -> pd.DataFrame:
    return pd.DataFrame(columns=list(columns))


UPLOADS = "fichiers déposés"


def source_of(value: str, uploads: Path | None = None) -> tuple[str, str]:
    """(kind, name) of the source a document comes from, as users mean it: a site or a feed (« site »), the folder
    of a local file (« dossier »), or the files added in this tab (« dépôt », under ``uploads``). A file is not a
    source: a folder of 14 files is one source of 14 files. ``value``: the store's site, else source."""
    if "://" in value:
        return "site", urlparse(value).netloc or value
    if re.match(r"[A-Za-z]:\\|\\\\", value):  # a Windows path (its separators are not this machine's)
        return "dossier", PureWindowsPath(container_of(value)).parent.name or value
    if not value.startswith("/"):
        return "site", value  # a site's name (« Presse/Normandie » too)
    path = PurePath(container_of(value))  # a mail's message or attachment: in its file
    if uploads is not None and uploads in path.parents:
        return "dépôt", UPLOADS
    return "dossier", path.parent.name or "/"


def sources_table(store, filters, uploads: Path | None = None) -> tuple[pd.DataFrame, str]:
    """(documents per source, « 1 dossier (6 fichiers), 2 sites »): files counted as files, within their source."""
    documents, files = Counter(), defaultdict(set)
    for value, n in store.count_by("source", filters, limit=1_000_000):
        key = source_of(value or "", uploads)
        documents[key] += n
        files[key].add(container_of(value or ""))  # a mail's messages and attachments: its one file
    rows = [(name, kind, len(files[(kind, name)]) if kind != "site" else "", n)
            for (kind, name), n in documents.most_common()]
    said = []
    for kind in ("dossier", "site", "dépôt"):
        keys = [k for k in documents if k[0] == kind]
        in_files = f" ({plural(sum(len(files[k]) for k in keys), 'fichier')})"
        if keys:
            said.append(plural(len(keys), "site") if kind == "site" else
                        plural(len(keys), "dossier") + in_files if kind == "dossier" else UPLOADS + in_files)
    return pd.DataFrame(rows, columns=SOURCE_COLUMNS), ", ".join(said)


def corpus_stats(store, filters=None, history: bool = True, uploads: Path | None = None
                 ) -> dict[str, pd.DataFrame | str]:
    """Counts over the documents ``filters`` lets through (a user's audience), the ingestion history
    only when ``history`` (admin: other users' uploads would show as counts); ``uploads``: where this tab
    keeps the files added (``home/uploads``)."""
    docs = store.count_documents(filters)
    chunks = store.count_chunks(filters)
    by_type = pd.DataFrame([(DOC_TYPE_LABELS.get(t or "autre", t), n) for t, n in store.count_by("doc_type", filters)],
                           columns=["type", "documents"])
    months = sorted(((m or "sans date", n) for m, n in store.count_by("month", filters)), reverse=True)
    by_month = pd.DataFrame(months, columns=["mois", "documents"])
    by_source, origins = sources_table(store, filters, uploads)
    rows = []
    for r in store.ingestions(10) if history else []:
        s = r["summary"]
        rows.append([datetime.fromtimestamp(r["finished_at"]).strftime("%d/%m/%Y %H:%M"),
                     *(s.get(k, 0) for k, _ in STATUS_LABELS), s.get("chunks_written", 0),
                     seconds(s.get("seconds", 0))])
    ingestions = pd.DataFrame(rows, columns=INGESTION_COLUMNS)
    summary = (f"**{plural(docs, 'document')}**, **{plural(chunks, 'passage indexé', 'passages indexés')}**"
               + (f" · sources : {origins}." if origins else "."))
    return {"summary": summary, "by_type": by_type, "by_month": by_month, "by_source": by_source,
            "ingestions": ingestions}


def check_upload(paths: list[str], max_bytes: int) -> tuple[list[Path], list[list[str]]]:
    """Split uploads into files to ingest and refusals (name, reason), before anything is written."""
    ok, refused = [], []
    for p in paths:
        path = Path(p)
        name = path.name
        if path.suffix.lower() not in SUPPORTED:
            refused.append([name, "ignoré", f"type de fichier non pris en charge ({path.suffix or 'sans extension'}) ; "
                                            f"acceptés : {', '.join(sorted(SUPPORTED))}"])
        elif path.stat().st_size == 0:
            refused.append([name, "ignoré", "fichier vide"])
        elif path.stat().st_size > max_bytes:
            refused.append([name, "ignoré", f"fichier trop volumineux ({file_size(path.stat().st_size)} > "
                                            f"{file_size(max_bytes)})"])
        else:
            ok.append(path)
    return ok, refused


def ingest_uploads(ctx: UIContext, paths: list[str]) -> tuple[str, pd.DataFrame]:
    """Copy accepted uploads under home/uploads (so the source stays on disk) and ingest them."""
    accepted, refused = check_upload(paths, ctx.settings.max_file_bytes)
    report, found, warning = None, {}, None
    if accepted:
        folder = ctx.settings.home / "uploads" / datetime.now().strftime("%Y%m%d-%H%M%S-%f")
        folder.mkdir(parents=True, exist_ok=True)
        kept = []
        for path in accepted:
            dest = folder / path.name
            shutil.copyfile(path, dest)
            kept.append(dest)
        with ctx.ingest_lock:  # one ingestion at a time; questions keep being answered meanwhile
            report = Ingestor(ctx.settings, store=ctx.assistant.store, embedder=ctx.assistant.embedder,
                              progress=False).ingest_paths(kept)
            found, warning = after_ingestion(ctx.settings, ctx.assistant.embedder) if report.documents_written \
                else ({}, None)  # saved watches look at what just arrived, as after « veille ingest »
        for hook in ctx.on_corpus_change:
            hook()
    counts = {k: (report.count(k) if report else 0) for k, _ in STATUS_LABELS}
    counts["skipped"] += len(refused)
    line = " · ".join(f"{label} : {counts[k]}" for k, label in STATUS_LABELS if counts[k] or k in ("added", "failed"))
    if report:
        line += f" · passages écrits : {report.chunks_written} · durée : {seconds(report.seconds)}"
        new = {name: n for name, n in found.items() if n}
        if new:
            line += " · veilles : " + ", ".join(f"« {name} » {plural(n, 'nouveau document', 'nouveaux documents')}"
                                               for name, n in new.items())
        if warning:
            line += f" · {warning}"
    problems = list(refused)
    if report:
        for o in report.outcomes:
            if o.status in ("skipped", "failed"):
                problems.append([Path(o.source).name, "ignoré" if o.status == "skipped" else "échec", o.reason])
            elif o.status in ("added", "updated", "unchanged"):
                single = {"added": "ajouté", "updated": "mis à jour", "unchanged": "inchangé"}[o.status]
                problems.append([Path(o.source).name, single, o.reason or plural(o.chunks, "passage")])
    table = pd.DataFrame(problems, columns=DETAIL_COLUMNS)
    return f"**Ingestion terminée** — {line}", table


def build_corpus_tab(ctx: UIContext, refresh_targets: list | None = None) -> dict:
    gr.Markdown("### Ce que contient le corpus")
    summary = gr.Markdown(elem_id="corpus-summary")
    # Empty tables are given their real headers (Gradio shows « 1 2 3 » otherwise).
    with gr.Row():
        by_type = gr.Dataframe(_empty("type", "documents"), label="Documents par type", interactive=False,
                               elem_id="corpus-types")
        by_month = gr.Dataframe(_empty("mois", "documents"), label="Documents par mois", interactive=False,
                                elem_id="corpus-months")
        by_source = gr.Dataframe(_empty(*SOURCE_COLUMNS), label="Documents par source (dossier, site, dépôt)",
                                 interactive=False, elem_id="corpus-sources")
    ingestions = gr.Dataframe(_empty(*INGESTION_COLUMNS), label="Dernières ingestions", interactive=False,
                              elem_id="corpus-ingestions")
    refresh = gr.Button("Actualiser", size="sm")
    stat_outputs = [summary, by_type, by_month, by_source, ingestions]

    def stats(request: gr.Request = None):
        # With accounts: the user's audience only; the ingestion history for the admin only.
        uploads = ctx.settings.home.resolve() / "uploads"  # as ingestion stores the paths
        s = (corpus_stats(ctx.assistant.store, ctx.visible(request), history=ctx.is_admin(request), uploads=uploads)
             if ctx.restricted else corpus_stats(ctx.assistant.store, uploads=uploads))
        return s["summary"], s["by_type"], s["by_month"], s["by_source"], s["ingestions"]

    refresh.click(stats, None, stat_outputs, api_name=False)
    upload_parts = {}
    if ctx.allow_upload:
        gr.Markdown("### Ajouter des documents (administrateur)\n"
                    f"Formats acceptés : {', '.join(sorted(SUPPORTED))} — {file_size(ctx.settings.max_file_bytes)} "
                    "au plus par fichier. Traitement identique à `veille ingest` : un fichier refusé n'écrit rien ; "
                    "les veilles sont ensuite passées sur les documents ajoutés.")
        # No file_types here: Gradio would drop other files silently; check_upload refuses them in French.
        files = gr.File(file_count="multiple", label="Fichiers à ajouter au corpus", elem_id="upload-files")
        go = gr.Button("Ingérer", variant="primary", elem_id="upload-go")
        result = gr.Markdown(elem_id="upload-result")
        detail = gr.Dataframe(_empty(*DETAIL_COLUMNS), label="Détail par fichier", interactive=False,
                              elem_id="upload-detail")

        def on_upload(paths, request: gr.Request = None):
            if not ctx.is_admin(request):  # said beside the button; the page stays as it was
                return (field_message("Ajout de documents réservé aux administrateurs."), gr.skip(), gr.skip(),
                        *[gr.skip()] * len(stat_outputs))
            if not paths:
                return (field_message("Choisissez au moins un fichier."), gr.skip(), gr.skip(),
                        *[gr.skip()] * len(stat_outputs))
            paths = [p if isinstance(p, str) else getattr(p, "name", str(p)) for p in paths]
            text, table = ingest_uploads(ctx, paths)
            return (text, table, None, *stats(request))

        event = go.click(on_upload, files, [result, detail, files, *stat_outputs], api_name="upload",
                         concurrency_id="ingest", concurrency_limit=1)
        upload_parts = {"upload_event": event}
    return {"stats": (stats, stat_outputs), **upload_parts}
