"""Bad input gets a clear reason in French and nothing else is lost."""
from __future__ import annotations

import os

from ingestion.pipeline import Ingestor
from veille.store import get_store

LATIN1_PAGE = ("<html><head><meta charset='iso-8859-1'><title>Économie normande</title></head><body>"
               "<article><h1>Économie normande</h1><p>La filière aéronautique normande représente des "
               "milliers d'emplois qualifiés. Les entreprises régionales investissent dans la décarbonation "
               "et la formation des salariés. Le pôle de compétitivité accompagne les PME vers l'export.</p>"
               "<p>Les élus ont présenté un plan d'accélération à Caen, où les acteurs économiques ont "
               "salué une démarche concertée.</p></article></body></html>")


def test_each_bad_file_is_skipped_with_a_reason_and_good_files_survive(settings, tmp_path, corpus_copy):
    bad = corpus_copy
    (bad / "vide.txt").write_bytes(b"")
    (bad / "binaire.txt").write_bytes(os.urandom(4096) + b"\x00" * 100)
    (bad / "cassé.html").write_bytes(b"\x00\x01<html><body><p>\x00")
    (bad / "image.docx").write_bytes(b"PK\x03\x04 pas un vrai docx")
    (bad / "archive.7z").write_bytes(b"7z\xbc\xaf\x27\x1c")
    (bad / "script.html").write_text("<script>alert(1)</script>", encoding="utf-8")
    (bad / "faux.pdf").write_bytes(b"%PDF-1.4 tronque")
    big = bad / "enorme.txt"
    big.write_text("mot " * 400_000, encoding="utf-8")
    (bad / "page-latin1.html").write_bytes(LATIN1_PAGE.encode("latin-1"))
    (bad / "english.md").write_text("# Port logistics\n\nThe port of Le Havre handles container traffic for "
                                    "the whole Seine axis and invests in automated terminals.\n", encoding="utf-8")
    settings = settings.with_(max_file_bytes=1_000_000)
    report = Ingestor(settings, progress=False).ingest_paths([bad, tmp_path / "absent"])
    reasons = {os.path.basename(o.source): o.reason for o in report.outcomes if o.status == "skipped"}
    assert reasons["vide.txt"] == "fichier vide"
    assert "binaire" in reasons["binaire.txt"]
    assert "cassé.html" in reasons
    assert "document Word tronqué ou corrompu" in reasons["image.docx"]  # a docx in name only
    assert "non pris en charge (.7z)" in reasons["archive.7z"]
    assert "script.html" in reasons
    assert "PDF" in reasons["faux.pdf"]
    assert "trop volumineux" in reasons["enorme.txt"]
    assert "introuvable" in reasons["absent"]
    assert report.count("failed") == 0
    assert report.count("added") == 7  # the 5 seeds + the latin-1 page + the English page
    store = get_store(settings)
    page = store.db.execute("SELECT * FROM documents WHERE title LIKE 'Économie%'").fetchone()
    assert page is not None and "filière aéronautique" in page["text"] and "\ufffd" not in page["text"]
    english = store.db.execute("SELECT language FROM documents WHERE title='Port logistics'").fetchone()
    assert english["language"] == "en"


def test_file_that_becomes_empty_loses_its_old_document(settings, corpus_copy):
    Ingestor(settings, progress=False).ingest_paths([corpus_copy])
    victim = next(corpus_copy.glob("004_*.txt"))
    victim.write_bytes(b"")
    report = Ingestor(settings, progress=False).ingest_paths([corpus_copy])
    assert report.count("skipped") == 1
    store = get_store(settings)
    assert store.db.execute("SELECT count(*) FROM documents").fetchone()[0] == 4
    assert store.collection.count() == store.db.execute("SELECT count(*) FROM chunks").fetchone()[0]


def test_a_missing_path_is_a_french_error_with_exit_code_2_and_nothing_is_read(env, tmp_path, corpus_copy):
    from conftest import veille

    run = veille("ingest", str(corpus_copy), str(tmp_path / "absent"), env=env)
    assert run.returncode == 2
    assert f"Chemin introuvable : {tmp_path / 'absent'}" in run.stderr and "Traceback" not in run.stderr
    assert not (tmp_path / "home" / "veille.db").exists()  # nothing was opened, nothing was changed
