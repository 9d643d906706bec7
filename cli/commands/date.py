"""`veille date DOCUMENT [DATE]`: a document's date and its evidence (« date lue dans le texte »…), corrected by
a person when DATE is given (« aucune » removes it); `veille date --sans-date`: the undated documents. A document is
named by its file, its URL, its identifier (or its first characters) or words of its title."""
from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

from rich.table import Table

from cli.console import out
from ingestion.dating import corrected_date
from veille.dates import date_with_source, french_date
from veille.errors import VeilleError
from veille.store import get_store

SHOWN = 10  # candidates listed when a name fits several documents


def _label(doc: dict) -> str:
    return date_with_source(doc.get("date"), doc.get("date_source"), always=True)


def _arrival(doc: dict) -> str:
    return french_date(dt.date.fromtimestamp(doc["ingested_at"]).isoformat()) if doc.get("ingested_at") else ""


def _one(store, reference: str) -> dict:
    path = Path(reference).expanduser()
    found = store.find_documents(reference, [str(path.resolve())] if "://" not in reference else [])
    if not found:
        raise VeilleError(f"Aucun document ne correspond à « {reference} » (un fichier, une adresse, un identifiant "
                          "ou des mots du titre ; « veille date --sans-date » liste les documents non datés).")
    if len(found) > 1:
        listed = "\n".join(f"  {d['doc_id'][:12]}  {d['title'] or 'Sans titre'} — {_label(d)}" for d in found[:SHOWN])
        raise VeilleError(f"{len(found)} documents correspondent à « {reference} » ; précisez avec l'identifiant :\n"
                          f"{listed}")
    return found[0]


def cmd_date(args) -> int:
    store = get_store()
    if args.sans_date:
        return _undated(store, args)
    if not args.document:
        raise VeilleError("Nommez un document (fichier, adresse, identifiant ou mots du titre), ou --sans-date.")
    doc = _one(store, args.document)
    before = dict(doc)
    if args.date is not None:
        iso = corrected_date(args.date)
        store.set_date(doc["doc_id"], iso, "user")
        doc.update(date=iso, date_source="user")
    if args.json:
        print(json.dumps({"doc_id": doc["doc_id"], "title": doc["title"], "date": doc["date"],
                          "date_source": doc["date_source"],
                          **({"previous": {"date": before["date"], "date_source": before["date_source"]}}
                             if args.date is not None else {})}, ensure_ascii=False))
        return 0
    title = doc["title"] or "Sans titre"
    if args.date is None:
        out.print(f"« {title} » ({doc['doc_id'][:12]}) : {_label(doc)}", highlight=False, soft_wrap=True)
    else:
        out.print(f"Date de « {title} » corrigée : {_label(doc)} ; avant : {_label(before)}.", highlight=False, soft_wrap=True)
    return 0


def _undated(store, args) -> int:
    docs = [store.document(d) for d in store.undated_documents()]
    if args.json:
        print(json.dumps([{"doc_id": d["doc_id"], "title": d["title"], "ingested_at": d["ingested_at"]} for d in docs],
                         ensure_ascii=False))
        return 0
    if not docs:
        out.print("Tous les documents sont datés.")
        return 0
    table = Table(title=f"Documents non datés ({len(docs)})")
    for column in ("identifiant", "titre", "arrivé le"):
        table.add_column(column, overflow="fold")
    for d in docs:
        table.add_row(d["doc_id"][:12], d["title"] or "Sans titre", _arrival(d))
    out.print(table)
    out.print("Corrigez avec : veille date IDENTIFIANT AAAA-MM-JJ", highlight=False, soft_wrap=True)
    return 0


def configure(p) -> None:
    p.add_argument("document", nargs="?", help="le document : fichier, adresse, identifiant ou mots du titre")
    p.add_argument("date", nargs="?", help="la date juste (2025-11-03, « 3 novembre 2025 », 11/2025…) ; "
                                          "« aucune » ôte la date")
    p.add_argument("--sans-date", action="store_true", help="lister les documents non datés")
    p.add_argument("--json", action="store_true", help="en JSON")
    p.set_defaults(func=cmd_date)
