"""`veille eval` as a user runs it: JSON summary on stdout, dated report folder, cached bench stores."""
from __future__ import annotations

import json

from tests.conftest import veille


def test_eval_cli_corpus_json_and_report(env, tmp_path):
    reports = tmp_path / "reports"
    r = veille("eval", "--bench", "corpus", "--retriever", "hybrid,bm25", "--limit", "8", "--json",
               "--out", str(reports), env=env, timeout=600)
    assert r.returncode == 0, r.stderr
    summary = json.loads(r.stdout)
    assert set(summary["corpus"]) == {"hybrid-wsum-e5-small", "bm25"}
    for metrics in summary["corpus"].values():
        assert {"hit@1", "hit@10", "mrr@10", "ndcg@10", "coverage", "citation_precision",
                "refusal_recall", "total_p50_ms"} <= set(metrics)
        assert metrics["questions"] == 8
    folder = next(reports.iterdir())
    names = {p.name for p in folder.iterdir()}
    assert {"report.md", "summary.json", "questions.json", "metrics.png", "latency.png", "refusal.png"} <= names
    report = (folder / "report.md").read_text(encoding="utf-8")
    assert "| hybrid-wsum-e5-small |" in report and "| bm25 |" in report  # side by side in one table
    rows = json.loads((folder / "questions.json").read_text(encoding="utf-8"))
    assert len(rows) == 16 and all("answer" in row and "confidence" in row for row in rows)


def test_eval_cli_rejects_unknown_names(env):
    r = veille("eval", "--bench", "corpus,imdb", env=env)
    assert r.returncode == 2 and "Banc inconnu : imdb" in r.stderr
    r = veille("eval", "--retriever", "splade", env=env)
    assert r.returncode == 2 and "Retriever inconnu : splade" in r.stderr


def test_bench_store_is_cached_by_content(settings, embedder):
    """A second run reuses the ingested benchmark store; changed passages get a new one."""
    from assistant.service import Assistant
    from eval.datasets import Bench, Passage, Question
    from eval.stores import bench_store, ranked_keys

    passages = [Passage("p1", "Ports", "Le port du Havre est le premier port à conteneurs de France.", "p1"),
                Passage("p2", "Fromages", "Le camembert est un fromage de Normandie au lait de vache.", "p2"),
                Passage("p3", "Fromages", "Le camembert est un fromage de Normandie au lait de vache.", "p3")]
    bench = Bench("mini", passages, [Question("q", "Quel est le premier port à conteneurs ?", "", ["p1"])],
                  "passage", "test")
    first = bench_store(bench, settings, "e5-small", embedder, progress=False)
    again = bench_store(bench, settings, "e5-small", embedder, progress=False)
    assert first.ingested_now and not again.ingested_now and again.settings.home == first.settings.home
    # The duplicate passage text is stored once but still maps back to both benchmark ids.
    assert sorted(sum(again.passages_of_doc.values(), [])) == ["p1", "p2", "p3"]
    result = Assistant(again.settings, embedder=embedder, retriever="hybrid").retrieve("camembert au lait", top_k=3)
    assert set(ranked_keys(result.passages, again)[:2]) == {"p2", "p3"}
    changed = Bench("mini", passages[:2], bench.questions, "passage", "test")
    assert bench_store(changed, settings, "e5-small", embedder, progress=False).settings.home != first.settings.home
