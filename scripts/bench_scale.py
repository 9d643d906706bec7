"""Benchmark at size: a store of ≥ 100,000 chunks built from the benchmark corpora, then retrieval
latency (with and without filters, audience included), process memory, write throughput and start-up.
``measure`` times the old search path (FTS5's OR query over every term, ``Store.lexical_full``, and the branches
of a hybrid search one after the other: the peer, gone from the product) beside the new one (the bounded-cost
lexical query, branches at once) on the same store and questions, and ``ask`` with both.

    .venv/bin/python scripts/bench_scale.py build   [--home /tmp/veille-bench] [--variants 22]
    .venv/bin/python scripts/bench_scale.py measure [--home /tmp/veille-bench] [--queries 200]

How the store is made (read before quoting figures):
- the ~4,700 unique passages of ../shared/bench (PIAF, SPF, CNIL) are ingested once as themselves (variant 0),
  then ``--variants - 1`` more times with a slightly perturbed text (an edition marker ``[éd. k]`` in the title
  and at the end of the text: a new content hash, hence a new document), other metadata (type, date,
  filières, region) and an audience drawn per document (public 40 %, one of 6 filières 48 %, partenaires 12 %);
- everything goes through the real ingestion path (``Ingestor.run``: chunking, French analysis, Chroma +
  SQLite/FTS5 writes) **except the embedding of variants**: e5 embeds each unique passage once (≈ 8
  passages/s on this CPU, i.e. ~10 minutes instead of hours), vectors are cached by the hash of the text
  with the edition marker removed, and a variant reuses the vector of its base passage;
- the store lives under ``--home`` (``/tmp`` by default), never in the repository.
"""
from __future__ import annotations

import argparse
import hashlib
import json
import os
import random
import re
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

BENCH = REPO.parent / "shared" / "bench"
FILIERES = ["agroalimentaire", "numerique", "energie", "aeronautique", "sante", "tourisme"]
REGIONS = ["normandie", "bretagne", "pays-de-la-loire", "hauts-de-france"]
TYPES = ["article", "rapport", "bulletin", "autre"]
MARKER = re.compile(r"\s*\[éd\. \d+\]")


def old_path(store, hybrid_class):
    """The peer: ``store`` answering lexical searches with FTS5's OR query over every term, and a hybrid retriever
    class (a subclass of ``hybrid_class``) running its branches one after the other."""

    class FullLexicalStore:
        def __init__(self, inner):
            self._inner = inner

        def __getattr__(self, name):
            return getattr(self._inner, name)

        def lexical_search(self, terms, filters=None, top_k=50):
            return self._inner.lexical_full(terms, filters, top_k)

    class OneAfterTheOther(hybrid_class):
        def branches(self, query):
            dense = self.dense.retrieve(query) if self.mode in ("hybrid", "dense") else []
            lexical = self.lexical.retrieve(query) if self.mode in ("hybrid", "bm25") else []
            return dense, lexical

    return FullLexicalStore(store), OneAfterTheOther


def bench_settings(home: Path):
    from veille.config import Settings

    models = Path(os.environ.get("VEILLE_MODELS_PATH", REPO / ".veille" / "models"))
    return Settings(home=home, models_path=models, threads=int(os.environ.get("BENCH_THREADS", "1")))


class CachedEmbedder:
    """The real embedder behind a persistent cache keyed by the marker-free text (SQLite, resumable)."""

    def __init__(self, settings, path: Path):
        from veille.embeddings import get_embedder

        self.base = get_embedder(settings)
        self.name, self.dim = self.base.name, self.base.dim
        path.parent.mkdir(parents=True, exist_ok=True)
        self.db = sqlite3.connect(str(path), isolation_level=None)
        self.db.execute("CREATE TABLE IF NOT EXISTS vectors (key TEXT PRIMARY KEY, v BLOB NOT NULL)")
        self.hits = self.misses = 0

    @staticmethod
    def key(text: str) -> str:
        return hashlib.sha256(MARKER.sub("", text).encode()).hexdigest()

    def embed_queries(self, texts):
        return self.base.embed_queries(texts)

    def embed_passages(self, texts, batch_size=None, progress=None):
        keys = [self.key(t) for t in texts]
        found: dict[str, np.ndarray] = {}
        for start in range(0, len(keys), 500):
            part = keys[start:start + 500]
            rows = self.db.execute(f"SELECT key, v FROM vectors WHERE key IN ({','.join('?' * len(part))})", part)
            found.update({k: np.frombuffer(v, dtype=np.float32) for k, v in rows})
        missing = sorted({k: t for k, t in zip(keys, texts) if k not in found}.items())
        self.hits += len(keys) - len(missing)
        self.misses += len(missing)
        if progress:
            progress(len(keys) - len(missing))
        if missing:
            vectors = self.base.embed_passages([MARKER.sub("", t) for _, t in missing], batch_size, progress)
            self.db.executemany("INSERT OR REPLACE INTO vectors VALUES(?, ?)",
                                [(k, v.astype(np.float32).tobytes()) for (k, _), v in zip(missing, vectors)])
            found.update({k: v for (k, _), v in zip(missing, vectors)})
        return np.stack([found[k] for k in keys]) if keys else np.zeros((0, self.dim), dtype=np.float32)


def passages() -> list[dict]:
    if not BENCH.exists():
        raise SystemExit(f"{BENCH} absent : le banc à l'échelle a besoin des corpus partagés.")
    out = []
    for name in ("piaf", "spf", "cnil"):
        with (BENCH / name / "corpus.jsonl").open(encoding="utf-8") as fh:
            out += [dict(json.loads(line), set=name) for line in fh if line.strip()]
    return out


def variant_meta(p: dict, k: int) -> tuple[str, str, dict]:
    rnd = random.Random(f"{p['id']}/{k}")
    draw = rnd.random()
    if draw < 0.40:
        audience = ["public"]
    elif draw < 0.88:
        audience = [rnd.choice(FILIERES)]
    else:
        audience = ["partenaires"]
    suffix = f" [éd. {k}]" if k else ""
    meta = {"title": p["title"] + suffix, "doc_type": rnd.choice(TYPES),
            "date": f"{rnd.randint(2015, 2025)}-{rnd.randint(1, 12):02d}-{rnd.randint(1, 28):02d}",
            "filieres": rnd.sample(FILIERES, rnd.randint(0, 2)), "region": rnd.choice(REGIONS),
            "audience": audience, "language": "fr", "site": p["set"]}
    return p["text"] + suffix, f"bench://{p['set']}/{p['id']}/v{k}", meta


def items(ps: list[dict], k: int):
    from ingestion.extract import Extracted
    from ingestion.pipeline import SourceItem

    out = []
    for p in ps:
        text, source, meta = variant_meta(p, k)
        out.append(SourceItem(source=source, load=lambda t=text, m=meta: (Extracted(text=t), dict(m))))
    return out


def rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def cmd_build(args) -> None:
    from rich.console import Console

    from ingestion.pipeline import Ingestor
    from veille.store import get_store

    console = Console(stderr=True)
    settings = bench_settings(args.home)
    embedder = CachedEmbedder(settings, args.home / "cache" / "bench-vectors.sqlite")
    ingestor = Ingestor(settings, embedder=embedder, progress=True)
    ps = passages()
    if args.cached_only:  # only the passages whose e5 vectors are already cached (ingested as variant 0)
        done = {r[0] for r in get_store(settings).db.execute(
            "SELECT s.source FROM sources s JOIN documents d USING(doc_id) WHERE d.state='done'")}
        ps = [p for p in ps if f"bench://{p['set']}/{p['id']}/v0" in done]
        console.print(f"{len(ps)} passages uniques déjà vectorisés par e5 : variantes construites sur eux seuls.")
    log = args.home / "build-log.jsonl"
    for k in range(args.variants):
        store = get_store(settings)
        before = store.db.execute("SELECT count(*) FROM chunks").fetchone()[0]
        t0 = time.perf_counter()
        report = ingestor.run(items(ps, k))
        seconds = time.perf_counter() - t0
        after = store.db.execute("SELECT count(*) FROM chunks").fetchone()[0]
        row = {"variant": k, "chunks_before": before, "chunks_after": after, "written": report.chunks_written,
               "seconds": round(seconds, 1), "embed_seconds": round(report.embed_seconds, 1),
               "chunks_per_s_excl_embed": round(report.chunks_written / max(1e-9, seconds - report.embed_seconds), 1),
               "cache_hits": embedder.hits, "cache_misses": embedder.misses, "rss_mb": round(rss_mb())}
        console.print(row)
        with log.open("a") as fh:
            fh.write(json.dumps(row) + "\n")
        if after >= args.target and k + 1 >= 2:
            break


QUESTIONS_FROM = ("piaf", "spf", "cnil")


def questions(n: int) -> list[str]:
    out = []
    for name in QUESTIONS_FROM:
        with (BENCH / name / "qa.jsonl").open(encoding="utf-8") as fh:
            out += [json.loads(line)["question"] for line in fh if line.strip()]
    random.Random(42).shuffle(out)
    return out[:n]


def percentile(values: list[float], q: float) -> float:
    return float(np.percentile(values, q)) if values else float("nan")


def cmd_measure(args) -> None:
    from rich.console import Console
    from rich.table import Table

    from accounts import restrict
    from assistant.search.retrieve import DenseRetriever, HybridRetriever, LexicalRetriever
    from veille.filters import Filters
    from veille.passage import Query
    from veille.store import get_store

    console = Console()
    settings = bench_settings(args.home)
    rss0 = rss_mb()
    t0 = time.perf_counter()
    from veille.embeddings import get_embedder

    embedder = get_embedder(settings)
    store = get_store(settings)
    n_vectors = store.collection.count()
    n_chunks = store.db.execute("SELECT count(*) FROM chunks").fetchone()[0]
    startup = time.perf_counter() - t0
    qs = questions(args.queries)
    vectors = embedder.embed_queries(qs)  # query embedding is model time, measured separately below
    t_embed = time.perf_counter()
    embedder.embed_queries(qs[:20])
    embed_ms = (time.perf_counter() - t_embed) * 1000 / 20
    import accounts as access

    company = access.get_user(settings, "bench") or access.add_user(
        settings, "bench", "bench-mot-de-passe", "entreprise", ["agroalimentaire"])  # a real account: audit on
    cases = {
        "sans filtre": Filters(),
        "audience entreprise (public + 1 filière)": restrict(Filters(), company),
        "audience + type rapport": restrict(Filters(doc_types=["rapport"]), company),
        "type rapport + dates 2020-2022": Filters(doc_types=["rapport"], date_from=20200101, date_to=20221231),
        "filière numerique": Filters(filieres=["numerique"]),
        "audience partenaires seule": Filters(audience=["partenaires"]),
    }
    # The old path (FTS5 OR over every term, branches one after the other) beside the new, in the same run.
    store_old, OldHybrid = old_path(store, HybridRetriever)
    table = Table(title=f"Recherche à {n_chunks:,} passages ({n_vectors:,} vecteurs) — {len(qs)} questions, "
                        "à chaud (ancien : lexical « full », branches l'une après l'autre ; "
                        "nouveau : « pruned », en parallèle)")
    kinds = ("dense", "lexical ancien", "lexical nouveau", "hybride ancien", "hybride nouveau")
    table.add_column("cas", justify="left")
    for col in kinds:
        table.add_column(f"{col} p50 / p95", justify="right")
    results = {}
    for label, filters in cases.items():
        timings = {k: [] for k in kinds}
        makers = (("dense", lambda: DenseRetriever(store, embedder, settings.candidates, filters)),
                  ("lexical ancien", lambda: LexicalRetriever(store_old, settings.candidates, filters)),
                  ("lexical nouveau", lambda: LexicalRetriever(store, settings.candidates, filters)),
                  ("hybride ancien", lambda: OldHybrid(store_old, embedder, settings.top_k,
                                                       settings.candidates, filters)),
                  ("hybride nouveau", lambda: HybridRetriever(store, embedder, settings.top_k,
                                                              settings.candidates, filters)))
        for warm in (True, False):
            for q, v in zip(qs[:10] if warm else qs, vectors[:10] if warm else vectors):
                query = Query(q, embedding=v.tolist())
                for name, make in makers:
                    r = make()
                    s = time.perf_counter()
                    r.retrieve(query)
                    if not warm:
                        timings[name].append((time.perf_counter() - s) * 1000)
        results[label] = {k: {"p50": round(percentile(v, 50), 1), "p95": round(percentile(v, 95), 1)}
                          for k, v in timings.items()}
        table.add_row(label, *[f"{results[label][k]['p50']:.1f} / {results[label][k]['p95']:.1f} ms" for k in kinds])
    console.print(table)
    # Whole answers (query embedding + both branches + extractive composition with audience IDF).
    from unittest import mock

    from assistant.search import retrieve
    from assistant.service import Assistant

    answer_ms = {}
    for path, st in {"nouveau": store, "ancien": store_old}.items():
        hybrid = OldHybrid if path == "ancien" else HybridRetriever
        assistant = Assistant(settings, store=st, embedder=embedder)
        for label, make in (("ask sans restriction", lambda: None),
                            ("ask compte entreprise", lambda: restrict(None, company))):
            times = []
            for q in qs[:args.answers]:
                s = time.perf_counter()
                with mock.patch.object(retrieve, "HybridRetriever", hybrid):  # the class the assistant's search makes
                    answer = assistant.ask(q, make())
                times.append((time.perf_counter() - s) * 1000)
            answer_ms[f"{label} ({path})"] = {"p50": round(percentile(times, 50), 1),
                                              "p95": round(percentile(times, 95), 1),
                                              "compose_last_ms": round(answer.timings_ms.get("compose", 0.0), 1)}
    console.print(answer_ms)
    summary = {"chunks": n_chunks, "vectors": n_vectors, "startup_open_s": round(startup, 2),
               "query_embed_ms": round(embed_ms, 1), "rss_mb_start": round(rss0), "rss_mb_end": round(rss_mb()),
               "results": results, "answers": answer_ms}
    console.print(summary)
    (args.home / "measure.json").write_text(json.dumps(summary, ensure_ascii=False, indent=1))


def cmd_startup(args) -> None:
    """Wall time of a fresh process answering its first question (model + stores opened, no rebuild)."""
    env = dict(os.environ, VEILLE_HOME=str(args.home),
               VEILLE_MODELS_PATH=str(bench_settings(args.home).models_dir), VEILLE_THREADS="1")
    t0 = time.perf_counter()
    proc = subprocess.run([sys.executable, "-m", "cli", "ask", "--json",
                           "Quelles démarches pour une médiation familiale ?"], env=env, capture_output=True,
                          text=True, cwd=REPO)
    print(json.dumps({"first_answer_s": round(time.perf_counter() - t0, 2), "rc": proc.returncode,
                      "refused": json.loads(proc.stdout)["refused"] if proc.returncode == 0 else proc.stderr[-500:]}))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("phase", choices=["build", "measure", "startup"])
    parser.add_argument("--home", type=Path, default=Path("/tmp/veille-bench"))
    parser.add_argument("--variants", type=int, default=25)
    parser.add_argument("--target", type=int, default=100_000, help="arrêter la construction à ce nombre de passages")
    parser.add_argument("--queries", type=int, default=200)
    parser.add_argument("--answers", type=int, default=40, help="questions posées de bout en bout (ask)")
    parser.add_argument("--cached-only", action="store_true",
                        help="ne varier que les passages déjà vectorisés (pas de nouvel appel à e5)")
    args = parser.parse_args()
    {"build": cmd_build, "measure": cmd_measure, "startup": cmd_startup}[args.phase](args)


if __name__ == "__main__":
    main()
