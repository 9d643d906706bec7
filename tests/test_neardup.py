"""Near-duplicates: the same article republished on another site (boilerplate and small edits) joins the
original's cluster at ingestion; a same-topic article does not; retrieval gives the copies one document's
slots; removing the original leaves the copy whole. Real files, real store, real model."""
from __future__ import annotations

import json
import shutil
import subprocess
import sys

import pytest
from conftest import REPO, needs_shared

ORIGINAL = "003_bf5e1784fceaf955.txt"


def _republished(text: str) -> str:
    """The article as another site shows it: its own header and footer, a corrected word, an update line."""
    body = text.replace("Un homme du sérail donc.", "Un homme du sérail, donc.")
    return ("Accueil > Actualités > Économie\nPublié le 06/07/2017 · Partager : Facebook Twitter LinkedIn\n\n" + body +
            "\n\nMise à jour : article complété le 7 juillet.\nLire aussi : nos autres articles sur la Normandie\n"
            "© 2017 Normandie Actu — Mentions légales")


@pytest.fixture(scope="module")
def dup_home(tmp_path_factory, models_dir, embedder):
    from ingestion.pipeline import Ingestor
    from veille.config import Settings

    root = tmp_path_factory.mktemp("neardup")
    corpus = root / "corpus"
    shutil.copytree(REPO / "corpus", corpus)
    (corpus / "reprise.txt").write_text(_republished((REPO / "corpus" / ORIGINAL).read_text(encoding="utf-8")),
                                        encoding="utf-8")
    (corpus / "reprise.txt.meta.json").write_text(json.dumps(
        {"title": "La Normandie pilote de l'intelligence économique", "doc_type": "article", "date": "2017-07-06",
         "url": "https://normandie-actu.example/ie-pilote", "site": "normandie-actu.example"}), encoding="utf-8")
    settings = Settings(home=root / "home", models_path=models_dir)
    report = Ingestor(settings, embedder=embedder, progress=False).ingest_paths([corpus])
    assert report.count("added") == 6, report.as_dict()
    return settings, corpus


def _doc_of(store, name: str) -> str:
    return next(d for s, d in store.source_documents() if s.endswith(name))


def test_a_republished_copy_joins_the_original_cluster(dup_home):
    from veille.store import get_store

    settings, _ = dup_home
    store = get_store(settings)
    original, copy = _doc_of(store, ORIGINAL), _doc_of(store, "reprise.txt")
    same_topic = _doc_of(store, "000_8364a93a850e761b.txt")  # same event, partly the same paragraphs
    clusters = store.clusters_of([original, copy, same_topic])
    assert original != copy and clusters[copy] == clusters[original] == original
    assert clusters[same_topic] == same_topic
    members = store.cluster_members([original])[original]
    assert {m["doc_id"] for m in members} == {original, copy}
    assert len({m["site"] or m["source"] for m in members}) == 2  # « repris par 2 sources »


def test_retrieval_does_not_fill_its_top_k_with_copies(dup_home):
    from assistant.service import Assistant
    from veille.filters import Filters
    from veille.store import get_store

    settings, _ = dup_home
    store = get_store(settings)
    original, copy = _doc_of(store, ORIGINAL), _doc_of(store, "reprise.txt")
    result = Assistant(settings).retrieve("Qui a nommé Jean-Baptiste Carpentier commissaire à l'information "
                                          "stratégique, et que dirigeait-il avant ?", Filters(), top_k=8)
    docs = [p.node.metadata["doc_id"] for p in result.passages]
    assert original in docs or copy in docs
    assert not (original in docs and copy in docs)
    # Both copies were candidates: the lexical branch alone finds them both.
    lexical_docs = {p.node.metadata["doc_id"] for p in result.lexical}
    assert {original, copy} <= lexical_docs


def test_documents_stored_before_the_stages_are_enriched_by_the_next_ingestion(dup_home, embedder):
    from ingestion.pipeline import Ingestor
    from veille.store import get_store

    settings, corpus = dup_home
    store = get_store(settings)
    copy = _doc_of(store, "reprise.txt")
    store.db.execute("DELETE FROM doc_enrichment WHERE doc_id=?", (copy,))  # as if ingested by an older Veille
    store.db.execute("DELETE FROM entity_mentions WHERE doc_id=?", (copy,))
    report = Ingestor(settings, embedder=embedder, progress=False).ingest_paths([corpus])
    assert report.enriched == 1 and report.count("added") == 0
    assert store.db.execute("SELECT count(*) FROM entity_mentions WHERE doc_id=?", (copy,)).fetchone()[0] > 5
    assert store.db.execute("SELECT 1 FROM doc_enrichment WHERE doc_id=?", (copy,)).fetchone()


def test_removing_the_original_leaves_the_copy_whole(dup_home, embedder):
    from ingestion.pipeline import Ingestor
    from veille.store import get_store

    settings, corpus = dup_home
    store = get_store(settings)
    original, copy = _doc_of(store, ORIGINAL), _doc_of(store, "reprise.txt")
    moved = corpus.parent / ORIGINAL
    shutil.move(corpus / ORIGINAL, moved)
    try:
        report = Ingestor(settings, embedder=embedder, progress=False).ingest_paths([corpus], prune=True)
        assert report.count("removed") == 1
        assert store.document(original) is None
        assert store.clusters_of([copy])[copy] == original  # the cluster keeps its name; its rows went with the doc
        assert not store.db.execute("SELECT 1 FROM doc_enrichment WHERE doc_id=?", (original,)).fetchone()
        assert not store.db.execute("SELECT 1 FROM entity_mentions WHERE doc_id=?", (original,)).fetchone()
        assert store.cluster_members([original])[original][0]["doc_id"] == copy
    finally:
        shutil.move(moved, corpus / ORIGINAL)


def test_the_benchmark_prints_precision_and_recall():
    needs_shared("html_fr")
    res = subprocess.run([sys.executable, "-m", "bench.neardup", "--json"], cwd=REPO, capture_output=True,
                         text=True, timeout=600)
    assert res.returncode == 0, res.stderr
    data = json.loads(res.stdout)
    assert data["paires"]["choix"] > 100 and data["paires"]["contrôle"] > 100
    adopted = next(r for r in data["résultats"] if r["méthode"].startswith("règle de l'ingestion"))
    assert 0 <= adopted["précision"] <= 1 and 0 <= adopted["rappel"] <= 1
    kinds = next(r for r in data["résultats"] if r["méthode"] == "MinHash 3 mots")["par_type"]
    assert "deux moitiés d'une page" in kinds and "habillage d'un autre site" in kinds
