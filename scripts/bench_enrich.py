"""Benchmark: what the entity and near-duplicate stages cost the ingestion.

    .venv/bin/python scripts/bench_enrich.py [--spf-limit 200] [--rounds 2]

The same documents (SPF passages written as files, then the demo corpus) are ingested into fresh stores with the
entity stage on and off (``VEILLE_ENTITIES=none``), alternately, ``--rounds`` times; the embedding model and the
spaCy model are loaded before timing (their load time is printed apart). Near-duplicate signatures are computed
in both runs (their time is printed: it is what they cost). Prints seconds, the ratio on/off (median of rounds)
and the time of each stage.
"""
from __future__ import annotations

import argparse
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from bench_ingest import spf_documents  # noqa: E402

from ingestion.entities import shared_extractor  # noqa: E402
from ingestion.pipeline import Ingestor  # noqa: E402
from veille.config import get_settings  # noqa: E402
from veille.embeddings import get_embedder  # noqa: E402
from veille.entity_names import DEFAULT_ALIASES, AliasBook  # noqa: E402


def ingest_once(files: Path, settings, embedder) -> dict:
    home = Path(tempfile.mkdtemp(prefix="veille-bench-enrich-"))
    (home / "entites.yaml").write_text(DEFAULT_ALIASES, encoding="utf-8")
    try:
        run_settings = settings.with_(home=home, chroma_url=None)
        t0 = time.perf_counter()
        report = Ingestor(run_settings, embedder=embedder, progress=False).ingest_paths([files])
        return {"seconds": time.perf_counter() - t0, "embed": report.embed_seconds,
                "entities": report.enrich_seconds.get("entities", 0.0),
                "near_duplicates": report.enrich_seconds.get("near_duplicates", 0.0),
                "chunks": report.chunks_written, "documents": report.documents_written}
    finally:
        shutil.rmtree(home, ignore_errors=True)


def main() -> int:
    parser = argparse.ArgumentParser(description="Coût des étapes entités et quasi-doublons à l'ingestion.")
    parser.add_argument("--spf-limit", type=int, default=200, help="passages SPF à ingérer (0 = aucun)")
    parser.add_argument("--rounds", type=int, default=2)
    args = parser.parse_args()
    settings = get_settings()
    t0 = time.perf_counter()
    embedder = get_embedder(settings)
    embedder.embed_passages(["préchauffage"])
    print(f"modèle d'embedding chargé en {time.perf_counter() - t0:.1f} s")
    t0 = time.perf_counter()
    shared_extractor(AliasBook.parse(DEFAULT_ALIASES), settings.entities).nlp  # noqa: B018 - load before timing
    print(f"modèle spaCy {settings.entities} chargé en {time.perf_counter() - t0:.1f} s (une fois par processus)")
    work = Path(tempfile.mkdtemp(prefix="veille-bench-enrich-files-"))
    sets = []
    if args.spf_limit:
        spf_documents(args.spf_limit, work / "spf")
        if (work / "spf").exists():
            sets.append(("SPF", work / "spf"))
    sets.append(("corpus de démonstration", REPO / "corpus"))
    try:
        for label, files in sets:
            runs = {"avec entités": [], "sans entités": []}
            for _ in range(args.rounds):
                runs["avec entités"].append(ingest_once(files, settings, embedder))
                runs["sans entités"].append(ingest_once(files, settings.with_(entities="none"), embedder))
            on = statistics.median(r["seconds"] for r in runs["avec entités"])
            off = statistics.median(r["seconds"] for r in runs["sans entités"])
            first = runs["avec entités"][0]
            print(f"\n{label} : {first['documents']} documents, {first['chunks']} passages")
            for name, rs in runs.items():
                print(f"  {name:13} {statistics.median(r['seconds'] for r in rs):7.2f} s (vectorisation "
                      f"{statistics.median(r['embed'] for r in rs):.2f} s, entités "
                      f"{statistics.median(r['entities'] for r in rs):.2f} s, quasi-doublons "
                      f"{statistics.median(r['near_duplicates'] for r in rs):.3f} s) ; "
                      f"tours : {', '.join('%.1f' % r['seconds'] for r in rs)}")
            print(f"  surcoût des entités : {100 * (on / off - 1):+.1f} % (médiane de {args.rounds} tours)")
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
