"""Document metadata: sidecar files, validation, and the flat form stored with each chunk."""
from __future__ import annotations

import json
from pathlib import Path

import yaml

from ingestion.read import SkipFile
from veille.dates import date_number, parse_date
from veille.text import as_list, slug

DOC_TYPES = ("article", "rapport", "bulletin", "autre")
LIST_KEYS = ("filieres", "tags", "audience")
KNOWN_KEYS = {"title", "doc_type", "date", "source", "url", "site", "author", "region", "language",
              "filieres", "tags", "audience", "provenance", "licence", *("parent", "attachments", "ocr", "sender",
                                                                         "recipients", "date_source")}
# What a format says beyond the registry's columns, kept as JSON with the document (documents.extra).
EXTRA_KEYS = ("parent", "attachments", "ocr", "sender", "recipients", "date_source")


def read_sidecar(path: Path) -> dict:
    """``<file>.meta.json`` / ``.meta.yaml`` beside a document, if present."""
    for suffix in (".meta.json", ".meta.yaml", ".meta.yml"):
        sidecar = path.with_name(path.name + suffix)
        if sidecar.is_file():
            try:
                text = sidecar.read_text(encoding="utf-8")
                data = json.loads(text) if suffix == ".meta.json" else yaml.safe_load(text)
            except (json.JSONDecodeError, yaml.YAMLError, UnicodeDecodeError) as exc:
                what = ("texte mal encodé" if isinstance(exc, UnicodeDecodeError)
                        else "JSON mal formé" if suffix == ".meta.json" else "YAML mal formé")
                raise SkipFile(f"fiche de métadonnées illisible ({sidecar.name} : {what})") from None
            if not isinstance(data, dict):
                raise SkipFile(f"fiche de métadonnées invalide ({sidecar.name})")
            return data
    return {}


def normalise_meta(meta: dict) -> dict:
    """Validated metadata: known keys, doc_type in the vocabulary, ISO date, lists as lists."""
    out = {k: v for k, v in meta.items() if k in KNOWN_KEYS and v not in (None, "", [])}
    doc_type = slug(out.get("doc_type", "autre")) or "autre"
    out["doc_type"] = doc_type if doc_type in DOC_TYPES else "autre"
    out["date"] = parse_date(out.get("date"))
    for key in LIST_KEYS:
        out[key] = [slug(v) if key != "tags" else str(v) for v in as_list(out.get(key))]
    if not out["audience"]:
        out["audience"] = ["public"]
    return out


def chunk_metadata(doc_meta: dict) -> dict:
    """Flat scalar metadata stored on each chunk in Chroma (filterable with ``where``).

    Lists become boolean flags (``filiere_numerique: True``) because Chroma filters scalars only."""
    flat = {k: doc_meta[k] for k in ("doc_id", "title", "doc_type", "source", "site", "language", "region")
            if doc_meta.get(k)}
    number = date_number(doc_meta.get("date"))
    if number:
        flat["date"] = number
        flat["year"] = number // 10000
    for value in doc_meta.get("filieres", []):
        flat[f"filiere_{value}"] = True
    for value in doc_meta.get("audience", ["public"]):
        flat[f"aud_{value}"] = True
    if doc_meta.get("ocr"):
        flat["ocr"] = True
    if doc_meta.get("parent"):
        flat["parent"] = str(doc_meta["parent"])
    return flat


def extra_metadata(doc_meta: dict) -> dict:
    return {k: doc_meta[k] for k in EXTRA_KEYS if doc_meta.get(k) not in (None, "", [])}
