"""Held-out answerability cases by construction: half of the questions lose their gold.

``split_by_gold`` puts the questions of a benchmark in two halves (fixed seed): half A keeps its gold
and must be answered citing it, half B loses it and must be refused. Questions sharing a gold unit (a
PIAF passage, an SPF fiche, a CNIL entry) go to the same half, so removing half B's gold never removes
the gold of a half-A question.

``removal_store`` copies the cached full store of the benchmark and deletes half B's gold passages
through the ingestion writer's own removal path (``StoreWriter.remove_source``): the store is exactly
the one real ingestion would build without them, at the cost of a copy instead of a re-embedding.

``scale_store`` puts the demo corpus among thousands of distractor passages: the passages of the three
benchmarks, the ``../shared/html_fr`` pages and ``corpus/`` all go through the real ingestion (the
benchmark passages' vectors come from the cache the benchmark stores filled, ``CachedEmbedder``).
"""
from __future__ import annotations

import hashlib
import json
import random
import shutil
from dataclasses import dataclass
from pathlib import Path

from eval.datasets import SHARED_BENCH, Bench, Question
from eval.stores import StoreInfo, bench_items, eval_settings, fingerprint, store_info
from ingestion.pipeline import Ingestor
from ingestion.write import StoreWriter
from veille.config import CORPUS_DIR, Settings
from veille.store import Store

SEED = 42
HTML_FR = SHARED_BENCH.parent / "html_fr"


@dataclass(frozen=True)
class GoldSplit:
    present: list[Question]  # half A: gold kept, must be answered citing it
    absent: list[Question]  # half B: gold removed, must be refused
    removed_units: frozenset[str]  # gold units removed (PIAF passage ids, SPF/CNIL document ids)
    removed_passages: frozenset[str]  # benchmark passages deleted from the store

    def fingerprint(self) -> str:
        return hashlib.sha256("\n".join(sorted(self.removed_passages)).encode()).hexdigest()[:10]


def gold_units(bench: Bench, question: Question) -> set[str]:
    """What "the gold" of a question is: its passages (PIAF) or its documents (SPF, CNIL)."""
    return set(question.gold_doc_ids) if bench.level == "document" else set(question.gold_ids)


def _groups(bench: Bench, questions: list[Question]) -> list[list[Question]]:
    """Questions linked by a shared gold unit, transitively (union-find over units)."""
    parent: dict[str, str] = {}

    def find(x: str) -> str:
        while parent.setdefault(x, x) != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    for q in questions:
        units = sorted(gold_units(bench, q)) or [f"?{q.id}"]
        for u in units[1:]:
            parent[find(u)] = find(units[0])
    groups: dict[str, list[Question]] = {}
    for q in questions:
        units = sorted(gold_units(bench, q)) or [f"?{q.id}"]
        groups.setdefault(find(units[0]), []).append(q)
    return [groups[k] for k in sorted(groups)]


def split_by_gold(bench: Bench, questions: list[Question] | None = None, seed: int = SEED) -> GoldSplit:
    """Two halves of about equal size, whole groups of questions sharing a gold unit at a time."""
    questions = bench.questions if questions is None else questions
    groups = _groups(bench, questions)
    random.Random(seed).shuffle(groups)
    present: list[Question] = []
    absent: list[Question] = []
    for group in groups:
        (absent if len(absent) < len(present) else present).extend(group)
    units = frozenset().union(*[gold_units(bench, q) for q in absent]) if absent else frozenset()
    passages = frozenset().union(*[bench.gold_passages(q) for q in absent]) if absent else frozenset()
    kept_gold = set().union(*[bench.gold_passages(q) for q in present]) if present else set()
    if kept_gold & passages:  # cannot happen by construction; a loud failure if the grouping breaks
        raise AssertionError(f"{len(kept_gold & passages)} passages de référence de la moitié A retirés")
    return GoldSplit(present, absent, units, passages)


# --- stores -------------------------------------------------------------------------------------

class InconsistentCopy(RuntimeError):
    pass


def _copy_store(source: Settings, target: Settings) -> None:
    if target.home.exists():
        shutil.rmtree(target.home)
    shutil.copytree(source.home, target.home)


def _check_counts(store: Store, expected_chunks: int | None = None) -> int:
    chunks = store.count_chunks()
    vectors = store.collection.count()
    if chunks != vectors or (expected_chunks is not None and chunks != expected_chunks):
        raise InconsistentCopy(f"Stockage incohérent : {chunks} passages, {vectors} vecteurs (attendu "
                               f"{expected_chunks}). Supprimez {store.settings.home} et relancez.")
    return chunks


def removal_store(full: StoreInfo, bench: Bench, split: GoldSplit, base: Settings) -> StoreInfo:
    """The full store without half B's gold passages (cached beside it)."""
    settings = full.settings.with_(home=base.cache_dir / "eval" / f"{full.settings.home.name}-sans-{split.fingerprint()}")
    marker = settings.home / "gold_removed.json"
    if not marker.exists():
        _copy_store(full.settings, settings)
        store = Store(settings)
        _check_counts(store, full.chunks)
        writer = StoreWriter(store)
        removed = sum(writer.remove_source(f"bench://{bench.name}/{pid}") for pid in sorted(split.removed_passages))
        _check_counts(store)
        marker.write_text(json.dumps({"removed_passages": len(split.removed_passages),
                                      "removed_documents": removed}), encoding="utf-8")
    return store_info(Store(settings), f"bench://{bench.name}/", full.ingest_seconds)


def html_pages(root: Path = HTML_FR) -> list[Path]:
    """The real French web pages of ../shared/html_fr (their gold file lists them)."""
    gold = root / "gold.jsonl"
    if not gold.exists():
        return []
    with gold.open(encoding="utf-8") as fh:
        return [root / json.loads(line)["file"] for line in fh if line.strip()]


def scale_store(benches: list[Bench], base: Settings, embedder, embedder_name: str = "e5-small",
                corpus_dir: Path = CORPUS_DIR, progress: bool = False) -> StoreInfo:
    """The demo corpus among the distractors: every benchmark passage, the html_fr pages and corpus/,
    through the real ingestion, in one store."""
    pages = html_pages()
    h = hashlib.sha256()
    for bench in benches:
        h.update(bench.name.encode() + b"\0" + bench.content_hash().encode() + b"\0")
    for path in pages + sorted(p for p in corpus_dir.iterdir() if p.is_file()):
        h.update(path.name.encode() + b"\0" + path.read_bytes())
    settings = eval_settings(base, f"echelle-{embedder_name}-{fingerprint(base, h.hexdigest())}", embedder_name)
    marker = settings.home / "scale.json"
    ingestor = Ingestor(settings, embedder=embedder, progress=progress)
    if not marker.exists():
        benchmarks = {b.name: ingestor.run(bench_items(b)).as_dict() for b in benches}
        html = ingestor.ingest_paths(pages) if pages else None
        demo = ingestor.ingest_paths([corpus_dir])
        _check_counts(ingestor.store)
        marker.write_text(json.dumps({"benchmarks": benchmarks, "html_pages": html.as_dict() if html else None,
                                      "corpus": demo.as_dict()}, ensure_ascii=False), encoding="utf-8")
    return store_info(ingestor.store, "\0", 0.0)
