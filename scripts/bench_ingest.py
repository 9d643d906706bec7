"""Benchmark: Veille's ingestion against the plain llama-index pipeline, same model, same documents.

    .venv/bin/python scripts/bench_ingest.py [--spf-limit 400] [--questions 30] [--quantize int8-mixed]
                                             [--update-only]

Prints a table: documents/s and chunks/s of both pipelines and their ratio (measured in the same run),
Veille's time per stage (embedding, spaCy entities, near-duplicates, the rest),
the time of an unchanged re-ingest, the updated-document case (a long report with one paragraph changed,
re-ingested with the chunk-level embedding cache and without: time and passages embedded),
`veille ask` cold start and warm latency, and peak memory.
Models are loaded before timing starts for both pipelines (load time is reported apart).
"""
from __future__ import annotations

import argparse
import json
import os
import random
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from rich.console import Console  # noqa: E402
from rich.table import Table  # noqa: E402

console = Console()


def spf_documents(limit: int, folder: Path) -> list[Path]:
    """Write ``limit`` passages of the SPF benchmark as text files (fixed seed)."""
    corpus = REPO.parent / "shared" / "bench" / "spf" / "corpus.jsonl"
    if not corpus.exists():
        console.print("[yellow]../shared absent : banc SPF sauté.[/]")
        return []
    rows = [json.loads(line) for line in corpus.open(encoding="utf-8")]
    random.Random(42).shuffle(rows)
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for row in rows[:limit]:
        path = folder / f"{row['id']}.md"
        path.write_text(f"# {row['title']}\n\n{row['text']}\n", encoding="utf-8")
        paths.append(path)
    return paths


def run_veille(files_dir: Path, settings) -> dict:
    from ingestion.pipeline import Ingestor
    from veille.embeddings import get_embedder

    embedder = get_embedder(settings)
    # Imported before timing, as the plain pipeline's imports are: only the work is measured, not module loading.
    import chromadb  # noqa: F401
    import llama_index.vector_stores.chroma  # noqa: F401
    ingestor = Ingestor(settings, embedder=embedder, progress=False)
    # spaCy is a model like e5: loaded before the clock (once per process for `veille serve` and the scheduler),
    # its load time reported apart; a `veille ingest` command pays it once per run.
    t0 = time.perf_counter()
    if settings.entities != "none":
        ingestor.enrichment.extractor.nlp  # noqa: B018 - the property loads the pipeline
    spacy_load = time.perf_counter() - t0
    t0 = time.perf_counter()
    report = ingestor.ingest_paths([files_dir])
    first = time.perf_counter() - t0
    t0 = time.perf_counter()
    again = Ingestor(settings, embedder=embedder, progress=False).ingest_paths([files_dir])
    second = time.perf_counter() - t0
    assert again.chunks_written == 0
    return {"docs": report.documents_written, "chunks": report.chunks_written, "seconds": first,
            "reingest_seconds": second, "spacy_load_seconds": spacy_load, "embed_seconds": report.embed_seconds,
            **{f"{k}_seconds": v for k, v in report.enrich_seconds.items()}}


def run_llama_index(files_dir: Path, model_path: str, store_dir: Path) -> dict:
    """The plain pipeline: SimpleDirectoryReader + SentenceSplitter + HuggingFaceEmbedding + ChromaVectorStore."""
    import chromadb
    from llama_index.core import Settings as LlamaSettings
    from llama_index.core import SimpleDirectoryReader, StorageContext, VectorStoreIndex
    from llama_index.core.node_parser import SentenceSplitter
    from llama_index.embeddings.huggingface import HuggingFaceEmbedding
    from llama_index.vector_stores.chroma import ChromaVectorStore

    embed = HuggingFaceEmbedding(model_name=model_path, query_instruction="query: ", text_instruction="passage: ",
                                 device="cpu")
    LlamaSettings.llm = None
    LlamaSettings.embed_model = embed
    t0 = time.perf_counter()
    docs = SimpleDirectoryReader(str(files_dir), required_exts=[".md", ".txt"],
                                 exclude=["*.meta.json"]).load_data()
    client = chromadb.PersistentClient(path=str(store_dir))
    collection = client.get_or_create_collection("plain", embedding_function=None, metadata={"hnsw:space": "cosine"})
    storage = StorageContext.from_defaults(vector_store=ChromaVectorStore(chroma_collection=collection))
    VectorStoreIndex.from_documents(docs, storage_context=storage, transformations=[SentenceSplitter()],
                                    embed_model=embed)
    seconds = time.perf_counter() - t0
    return {"docs": len(docs), "chunks": collection.count(), "seconds": seconds}


def long_report(paragraphs: int, changed: int | None = None) -> str:
    """A long report: ``paragraphs`` SPF passages (fixed seed) under their own headings, else demo corpus files;
    ``changed``: that paragraph gets one sentence more (an edit)."""
    corpus = REPO.parent / "shared" / "bench" / "spf" / "corpus.jsonl"
    if corpus.exists():
        rows = [json.loads(line) for line in corpus.open(encoding="utf-8")]
        random.Random(7).shuffle(rows)
        parts = [(r["title"], r["text"]) for r in rows[:paragraphs]]
    else:
        files = sorted(p for p in (REPO / "corpus").rglob("*") if p.suffix in (".md", ".txt"))
        parts = [(p.stem, p.read_text(encoding="utf-8")) for p in files][:paragraphs]
    if changed is not None:
        title, text = parts[changed]
        parts[changed] = (title, text + "\nMise à jour : ces dispositions sont prolongées jusqu'au 31 décembre 2027.")
    return "# Rapport de veille réglementaire\n\n" + "\n\n".join(f"## {t}\n\n{x}" for t, x in parts) + "\n"


def run_updated_document(work: Path, models: Path, embedder, paragraphs: int) -> dict:
    """First ingestion of the long report, then the same report with one paragraph changed, cache on and off."""
    from ingestion.pipeline import Ingestor
    from veille.config import Settings

    results = {}
    for cache in ("on", "off"):
        folder = work / f"report-{cache}"
        folder.mkdir(parents=True, exist_ok=True)
        report = folder / "rapport.md"
        report.write_text(long_report(paragraphs), encoding="utf-8")
        settings = Settings(home=work / f"veille-report-{cache}", models_path=models, embed_cache=cache)
        first = Ingestor(settings, embedder=embedder, progress=False).ingest_paths([folder])
        report.write_text(long_report(paragraphs, changed=paragraphs // 2), encoding="utf-8")
        t0 = time.perf_counter()
        update = Ingestor(settings, embedder=embedder, progress=False).ingest_paths([folder])
        seconds = time.perf_counter() - t0
        assert update.count("updated") == 1
        results[cache] = {"chunks": update.chunks_written, "embedded": update.embedded, "reused": update.reused,
                          "seconds": seconds, "embed_seconds": update.embed_seconds, "first_seconds": first.seconds}
    return results


def print_updated_document(results: dict, paragraphs: int) -> None:
    table = Table(title=f"Document modifié : rapport de {paragraphs} sections, une section changée, ré-ingéré")
    for col in ("cache d'embeddings", "passages", "passages vectorisés", "repris du stockage", "durée (s)",
                "dont embedding (s)", "accélération"):
        table.add_column(col, justify="right")
    off = results["off"]["seconds"]
    for cache, label in (("on", "oui (défaut)"), ("off", "non (embed_cache=off)")):
        r = results[cache]
        table.add_row(label, str(r["chunks"]), str(r["embedded"]), str(r["reused"]), f"{r['seconds']:.2f}",
                      f"{r['embed_seconds']:.2f}", f"{off / r['seconds']:.1f}×")
    console.print(table)


def print_stages(results: dict) -> None:
    """Where Veille's first ingestion spends its time (seconds), spaCy's load apart as e5's is."""
    table = Table(title="Ingestion Veille : temps par étape (s)")
    for col in ("jeu", "durée", "embedding", "entités (spaCy)", "quasi-doublons",
                "reste (lecture, découpage, écriture)", "chargement spaCy (hors chrono)"):
        table.add_column(col, justify="right")
    for slug, runs in results.items():
        for key, r in runs.items():
            if not key.startswith("veille") or not isinstance(r, dict):
                continue
            enrich = r.get("entities_seconds", 0) + r.get("near_duplicates_seconds", 0)
            rest = r["seconds"] - r["embed_seconds"] - enrich
            table.add_row(f"{slug} ({key})", f"{r['seconds']:.2f}", f"{r['embed_seconds']:.2f}",
                          f"{r.get('entities_seconds', 0):.2f}", f"{r.get('near_duplicates_seconds', 0):.2f}",
                          f"{rest:.2f}", f"{r['spacy_load_seconds']:.2f}")
    console.print(table)


def ask_latency(settings, questions: list[str]) -> dict:
    from assistant.service import Assistant

    assistant = Assistant(settings)
    assistant.warm_up()
    times = []
    for q in questions:
        t0 = time.perf_counter()
        assistant.ask(q)
        times.append((time.perf_counter() - t0) * 1000)
    times.sort()
    return {"p50_ms": statistics.median(times), "p95_ms": times[int(0.95 * (len(times) - 1))], "n": len(times)}


def cold_start(home: Path, models: Path) -> float:
    env = dict(os.environ, VEILLE_HOME=str(home), VEILLE_MODELS_PATH=str(models))
    t0 = time.perf_counter()
    subprocess.run([sys.executable, "-m", "cli", "ask", "--json", "Quels sont les pôles de compétitivité ?"],
                   env=env, cwd=REPO, check=True, capture_output=True)
    return time.perf_counter() - t0


def main() -> int:
    parser = argparse.ArgumentParser(description="Banc d'ingestion : Veille contre le pipeline llama-index simple.")
    parser.add_argument("--spf-limit", type=int, default=400, help="passages SPF à ingérer (0 = aucun)")
    parser.add_argument("--questions", type=int, default=30)
    parser.add_argument("--report-paragraphs", type=int, default=80,
                        help="sections du long rapport du cas « document modifié »")
    parser.add_argument("--update-only", action="store_true", help="seulement le cas « document modifié »")
    parser.add_argument("--quantize", default="",
                        help="ajouter Veille avec ces quantifications, séparées par des virgules : int8-mixed "
                             "(ONNX Runtime) ; VEILLE_EMBED_QUANTIZE")
    args = parser.parse_args()
    quantizations = [q for q in args.quantize.split(",") if q]

    from veille.config import Settings
    from veille.embeddings import get_embedder, resolve_model_path

    work = Path(tempfile.mkdtemp(prefix="veille-bench-"))
    models = REPO / ".veille" / "models"
    t0 = time.perf_counter()
    base = Settings(home=work / "unused", models_path=models)
    model_path, _, _ = resolve_model_path("e5-small", base)
    embedder = get_embedder(base)
    load_seconds = time.perf_counter() - t0
    import chromadb  # noqa: F401  (imported before timing: only the work is measured)

    updated = run_updated_document(work, models, embedder, args.report_paragraphs)
    if args.update_only:
        print_updated_document(updated, args.report_paragraphs)
        print(json.dumps({"updated_document": updated}, ensure_ascii=False, default=float))
        shutil.rmtree(work, ignore_errors=True)
        return 0

    datasets = {"corpus de démonstration": REPO / "corpus"}
    if args.spf_limit:
        spf_dir = work / "spf"
        if spf_documents(args.spf_limit, spf_dir):
            datasets[f"SPF ({args.spf_limit} passages)"] = spf_dir

    table = Table(title="Ingestion : Veille contre llama-index simple (même modèle, mêmes documents)")
    for col in ("jeu", "pipeline", "documents", "passages", "durée (s)", "doc/s", "passages/s", "ratio doc/s",
                "ratio passages/s", "ré-ingestion inchangée (s)", "accélération ré-ingestion"):
        table.add_column(col, justify="right")
    results = {}
    for name, folder in datasets.items():
        slug = "demo" if "démo" in name else "spf"
        runs = {"Veille": run_veille(folder, Settings(home=work / f"veille-{slug}", models_path=models))}
        for q in quantizations:
            runs[f"Veille {q}"] = run_veille(folder, Settings(home=work / f"veille-{slug}-{q}", models_path=models,
                                                              embed_quantize=q))
        plain = run_llama_index(folder, model_path, work / f"plain-{slug}")
        results[slug] = {"llama_index": plain}
        for label, veille in runs.items():
            ratio = (veille["docs"] / veille["seconds"]) / (plain["docs"] / plain["seconds"])
            ratio_chunks = (veille["chunks"] / veille["seconds"]) / (plain["chunks"] / plain["seconds"])
            key = "veille" if label == "Veille" else "veille_" + label.split()[-1].replace("-", "_")
            results[slug].update({key: veille, f"{key}_ratio_docs_per_s": ratio,
                                  f"{key}_ratio_chunks_per_s": ratio_chunks})
            table.add_row(name if label == "Veille" else "", label, str(veille["docs"]), str(veille["chunks"]),
                          f"{veille['seconds']:.2f}", f"{veille['docs'] / veille['seconds']:.2f}",
                          f"{veille['chunks'] / veille['seconds']:.2f}", f"{ratio:.2f}×", f"{ratio_chunks:.2f}×",
                          f"{veille['reingest_seconds']:.3f}", f"{veille['seconds'] / veille['reingest_seconds']:.0f}×")
        table.add_row("", "llama-index simple", str(plain["docs"]), str(plain["chunks"]), f"{plain['seconds']:.2f}",
                      f"{plain['docs'] / plain['seconds']:.2f}", f"{plain['chunks'] / plain['seconds']:.2f}",
                      "1.00×", "1.00×", "–", "–")
    console.print(table)
    print_stages(results)
    print_updated_document(updated, args.report_paragraphs)
    results["updated_document"] = updated

    demo = Settings(home=work / "veille-demo", models_path=models)
    questions = [line.strip() for line in (REPO / "scripts" / "bench_questions.txt").read_text(encoding="utf-8")
                 .splitlines() if line.strip()][: args.questions]
    latency = ask_latency(demo, questions)
    cold = cold_start(work / "veille-demo", models)
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    summary = Table(title="Questions et mémoire")
    summary.add_column("mesure")
    summary.add_column("valeur", justify="right")
    summary.add_row("chargement du modèle (une fois par processus)", f"{load_seconds:.1f} s")
    summary.add_row(f"veille ask à chaud, p50 ({latency['n']} questions)", f"{latency['p50_ms']:.0f} ms")
    summary.add_row("veille ask à chaud, p95", f"{latency['p95_ms']:.0f} ms")
    summary.add_row("veille ask à froid (processus complet)", f"{cold:.1f} s")
    summary.add_row("mémoire maximale (RSS) de ce processus", f"{peak_mb:.0f} Mo")
    console.print(summary)
    results.update(load_seconds=load_seconds, ask=latency, cold_start_s=cold, peak_rss_mb=peak_mb)
    print(json.dumps(results, ensure_ascii=False, default=float))
    shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
