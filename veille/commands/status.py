"""`veille status`."""
from __future__ import annotations

import json
from pathlib import Path

from veille.console import err, out

from rich.table import Table


def cmd_status(args) -> int:
    from veille.config import get_settings
    from veille.store import get_store

    settings = get_settings()
    store = get_store(settings)
    db = store.db
    docs = db.execute("SELECT count(*) FROM documents WHERE state='done'").fetchone()[0]
    chunks = db.execute("SELECT count(*) FROM chunks").fetchone()[0]
    vectors = store.collection.count()
    types = dict(db.execute("SELECT doc_type, count(*) FROM documents WHERE state='done' GROUP BY doc_type").fetchall())
    langs = dict(db.execute("SELECT language, count(*) FROM documents WHERE state='done' GROUP BY language").fetchall())
    last = db.execute("SELECT finished_at FROM ingestions ORDER BY id DESC LIMIT 1").fetchone()
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
    import datetime as _dt

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




def register(sub) -> None:
    p = sub.add_parser("status", help="ce que contient le corpus")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_status)
