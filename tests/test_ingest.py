"""Ingestion of the demo corpus: idempotence, updates, duplicates, pruning, offsets, metadata."""
from __future__ import annotations

import shutil
import time

from ingestion.pipeline import Ingestor
from veille.store import get_store


def _state(settings):
    store = get_store(settings)
    sql_ids = {r[0] for r in store.db.execute("SELECT chunk_id FROM chunks")}
    vec_ids = set(store.collection.get(include=[])["ids"])
    fts = store.db.execute("SELECT count(*) FROM chunks_fts").fetchone()[0]
    docs = store.db.execute("SELECT count(*) FROM documents WHERE state='done'").fetchone()[0]
    pending = store.db.execute("SELECT count(*) FROM documents WHERE state!='done'").fetchone()[0]
    return dict(sql=sql_ids, vec=vec_ids, fts=fts, docs=docs, pending=pending)


def test_first_ingest_then_unchanged_reingest_writes_nothing(settings, corpus_copy):
    ing = Ingestor(settings, progress=False)
    first = ing.ingest_paths([corpus_copy])
    assert first.count("added") == 5 and first.count("failed") == 0 and first.count("skipped") == 0
    state = _state(settings)
    assert state["docs"] == 5 and state["sql"] == state["vec"] and state["fts"] == len(state["sql"]) > 5

    t0 = time.perf_counter()
    second = Ingestor(settings, progress=False).ingest_paths([corpus_copy])
    assert second.count("unchanged") == 5 and second.chunks_written == 0
    assert time.perf_counter() - t0 < 5
    assert _state(settings) == state


def test_changed_document_replaces_its_chunks(settings, corpus_copy):
    Ingestor(settings, progress=False).ingest_paths([corpus_copy])
    before = _state(settings)
    target = next(corpus_copy.glob("004_*.txt"))
    target.write_text(target.read_text(encoding="utf-8") + "\n\nAjout : la Normandie lance un observatoire de la "
                      "souveraineté numérique en 2024.\n", encoding="utf-8")
    report = Ingestor(settings, progress=False).ingest_paths([corpus_copy])
    assert report.count("updated") == 1 and report.count("unchanged") == 4
    after = _state(settings)
    assert after["docs"] == 5 and after["sql"] == after["vec"] and after["pending"] == 0
    assert after["sql"] != before["sql"]
    store = get_store(settings)
    texts = " ".join(r[0] for r in store.db.execute("SELECT text FROM chunks"))
    assert "observatoire de la souveraineté numérique" in texts


def test_same_text_from_two_places_is_stored_once(settings, corpus_copy, tmp_path):
    other = tmp_path / "ailleurs"
    other.mkdir()
    src = next(corpus_copy.glob("000_*.txt"))
    shutil.copy(src, other / "copie.txt")
    report = Ingestor(settings, progress=False).ingest_paths([corpus_copy, other])
    assert report.count("added") == 5
    assert any("doublon" in o.reason for o in report.outcomes)
    store = get_store(settings)
    assert store.db.execute("SELECT count(*) FROM documents").fetchone()[0] == 5
    assert store.db.execute("SELECT count(*) FROM sources").fetchone()[0] == 6


def test_prune_removes_documents_whose_files_are_gone(settings, corpus_copy):
    Ingestor(settings, progress=False).ingest_paths([corpus_copy])
    victim = next(corpus_copy.glob("003_*.txt"))
    victim.unlink()
    report = Ingestor(settings, progress=False).ingest_paths([corpus_copy], prune=True)
    assert report.count("removed") == 1
    state = _state(settings)
    assert state["docs"] == 4 and state["sql"] == state["vec"] and state["fts"] == len(state["sql"])


def test_chunks_carry_offsets_metadata_and_sidecar_fields(settings, corpus_copy):
    Ingestor(settings, progress=False).ingest_paths([corpus_copy])
    store = get_store(settings)
    doc = store.db.execute("SELECT * FROM documents WHERE doc_type='article' AND date='2017-07-05'").fetchone()
    assert doc is not None and doc["title"].startswith("La Région normande") and doc["language"] == "fr"
    for row in store.db.execute("SELECT * FROM chunks WHERE doc_id=?", (doc["doc_id"],)):
        assert doc["text"][row["char_start"]:row["char_end"]] == row["text"]
    got = store.collection.get(where={"doc_id": doc["doc_id"]}, include=["metadatas"])
    meta = got["metadatas"][0]
    assert meta["date"] == 20170705 and meta["doc_type"] == "article" and meta["filiere_cybersecurite"] is True


def test_switching_embedder_on_the_same_data_directory_fills_the_new_collection(settings, corpus_copy):
    Ingestor(settings, progress=False).ingest_paths([corpus_copy])
    other = settings.with_(embedder="use-m3")
    report = Ingestor(other, progress=False).ingest_paths([corpus_copy])
    assert report.count("failed") == 0 and report.chunks_written > 0
    store = get_store(other)
    assert store.collection.count() == store.db.execute("SELECT count(*) FROM chunks").fetchone()[0]
    assert store.settings.collection_name == "veille_use-m3"
