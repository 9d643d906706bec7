"""Ingestion of the demo corpus: idempotence, updates, duplicates, pruning, offsets, metadata."""
from __future__ import annotations

import shutil
import time

from conftest import veille

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
    copy = next(o for o in report.outcomes if o.source.endswith("copie.txt"))
    assert copy.status == "unchanged" and copy.reason.startswith(f"contenu identique à « {src.name} »"), copy
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


def test_an_attachment_identical_to_a_file_of_the_batch_is_said(tmp_path, env):
    """`veille ingest` of a folder where a mail carries a note also saved beside it: the note is stored once, and
    the report says which attachment was folded into which file instead of a bare « inchangés 1 »."""
    import json
    from email.message import EmailMessage

    folder = tmp_path / "arrivees"
    folder.mkdir()
    note = ("Note de conjoncture de la filière bois normande.\n\nLes scieries de l'Orne ont augmenté leur "
            "production de douze pour cent en 2025 selon l'interprofession régionale du bois.\n")
    (folder / "a-note-bois.txt").write_text(note, encoding="utf-8")
    mail = EmailMessage()
    mail["From"], mail["To"], mail["Subject"] = "veille@exemple.fr", "equipe@exemple.fr", "Conjoncture bois"
    mail.set_content("Bonjour,\n\nVous trouverez ci-joint la note de conjoncture de la filière bois, à diffuser "
                     "aux conseillers de filière.\n\nL'équipe veille\n")
    mail.add_attachment(note.encode("utf-8"), maintype="text", subtype="plain", filename="note-bois.txt")
    (folder / "b-courriel.eml").write_bytes(bytes(mail))

    res = veille("ingest", str(folder), env=env)
    assert res.returncode == 0, res.stderr
    shown = " ".join(res.stdout.split())
    assert "Textes déjà présents (gardés une fois)" in shown, res.stdout
    assert "b-courriel.eml#note-bois.txt — pièce jointe identique à « a-note-bois.txt »" in shown, res.stdout
    again = veille("ingest", "--json", str(folder), env=env)  # unchanged files: nothing to say again
    assert json.loads(again.stdout)["duplicates"] == [] and json.loads(again.stdout)["unchanged"] == 3
