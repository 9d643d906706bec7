"""`veille status`."""
from __future__ import annotations

import datetime as _dt
import json

from rich.table import Table

from cli.console import out
from veille.config import get_settings
from veille.store import get_store


def cmd_status(args) -> int:
    settings = get_settings()
    store = get_store(settings)
    docs = store.count_documents()
    chunks = store.count_chunks()
    vectors = store.collection.count()
    types = dict(sorted(store.count_by("doc_type"), key=lambda kv: kv[0] or ""))
    langs = dict(sorted(store.count_by("language"), key=lambda kv: kv[0] or ""))
    latest = store.ingestions(1)
    last = (latest[0]["finished_at"],) if latest else None
    info = {"documents": docs, "chunks": chunks, "vectors": vectors, "types": types, "languages": langs,
            "model": settings.embedder, "collection": settings.collection_name, "store": store.location,
            "database": str(settings.db_path), "home": str(settings.home),
            "last_ingestion": last[0] if last else None}
    if args.json:
        print(json.dumps(info, ensure_ascii=False))
        return 0
    table = Table(title="État du corpus Veille", show_header=False)
    table.add_column("", style="bold")
    table.add_column("")
    rows = [("Documents", str(docs)), ("Passages", str(chunks)), ("Vecteurs (Chroma)", str(vectors)),
            ("Types", ", ".join(f"{k} : {v}" for k, v in types.items()) or "–"),
            ("Langues", ", ".join(f"{k} : {v}" for k, v in langs.items()) or "–"),
            ("Modèle d'embedding", settings.embedder), ("Collection", settings.collection_name),
            ("Stockage", store.location), ("Données", str(settings.home)),
            ("Dernière ingestion", _dt.datetime.fromtimestamp(last[0]).strftime("%d/%m/%Y %H:%M") if last else "jamais")]
    for k, v in rows:
        table.add_row(k, v)
    out.print(table)
    if vectors != chunks:
        out.print("[yellow]Attention : le nombre de vecteurs diffère du nombre de passages ; "
                  "relancez « veille ingest » pour réparer.[/]")
    return 0




def configure(p) -> None:
    p.add_argument("--json", action="store_true", help="l'état du corpus en JSON")
    p.set_defaults(func=cmd_status)
