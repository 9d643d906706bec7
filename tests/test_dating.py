"""A document's date comes from the best evidence and says which (issue 35 §1): real files of every format, the
correction with ``veille date`` as a user types it and in the Documents tab, and bulletins that place a note dated
by its text in the right quarter and list an undated one under « Non datés »."""
from __future__ import annotations

import os
import re

import pytest
from conftest import veille

from bench.dated import FILE_DAY, dated_samples, write_samples

HYDROGEN = ["Note du 3 novembre 2025", "Plan régional hydrogène",
            "La région soutient trois stations de production d'hydrogène vert dans le Cotentin et à Rouen."]
DAIRY = ["Rouen, le 12 décembre 2025", "Note sur la filière laitière",
         "La collecte de lait normande recule et les coopératives laitières investissent dans le fromage."]
UNDATED_PAGE = ("<html><head><title>Hydrogène et mobilité</title></head><body><article><h1>Hydrogène et mobilité"
                "</h1><p>Les bus à hydrogène de la métropole roulent depuis le printemps et la station de Caen "
                "sera agrandie.</p><p>Les transporteurs normands étudient des camions à hydrogène pour le port."
                "</p></article></body></html>")


def _ingest(settings, embedder, paths=(), items=()):
    from ingestion.pipeline import Ingestor

    ingestor = Ingestor(settings, embedder=embedder, progress=False)
    report = ingestor.ingest_paths(list(paths)) if paths else ingestor.run(list(items))
    assert not report.count("failed") and not report.count("skipped"), report.as_dict()
    return ingestor.store


def _docx(path, lines):
    import docx

    document = docx.Document()  # python-docx's template: created = modified = 23/12/2013
    for line in lines:
        document.add_paragraph(line)
    document.save(str(path))


def _odt(path, lines):
    from odf.opendocument import OpenDocumentText
    from odf.text import P

    doc = OpenDocumentText()  # odfpy writes no date at all
    for line in lines:
        doc.text.addElement(P(text=line))
    doc.save(str(path))


def _read(markdown) -> str:
    """A Markdown bulletin as its reader sees it (without the escapes of its punctuation)."""
    return re.sub(r"\\(.)", r"\1", markdown.read_text(encoding="utf-8"))


def _undated_page():
    """A page as the web collection brings it: no file, no publication metadata, no date in its text."""
    from ingestion.extract import extract_html
    from ingestion.pipeline import SourceItem

    url = "https://mobilite.example/hydrogene"
    return SourceItem(source=url, load=lambda: (extract_html(UNDATED_PAGE, url), {"url": url}))


def test_every_format_gets_its_true_date_and_names_its_evidence(tmp_path, settings, embedder):
    written = write_samples(tmp_path / "dossier")
    store = _ingest(settings, embedder, paths=[tmp_path / "dossier"])
    by_source = dict(store.source_documents())
    for sample, path in written:
        date, evidence = store.dating(by_source[str(path.resolve())])
        assert (sample.name, date, evidence) == (sample.name, sample.true_date, sample.evidence)
    # python-docx's template stamp is never taken for a date, whatever the file says
    assert "2013-12-23" not in {store.dating(d)[0] for d in by_source.values()}


def test_an_upload_is_not_dated_by_its_copy(tmp_path, settings, embedder):
    """A file copied into home/uploads is as old as its upload: its time is no evidence of its date."""
    upload = settings.home / "uploads" / "lot-1"
    sample = next(s for s in dated_samples() if s.name == "sans-date.pdf")
    write_samples(upload, [sample])
    store = _ingest(settings, embedder, paths=[upload])
    (doc_id,) = {d for _, d in store.source_documents()}
    assert store.dating(doc_id) == (None, "none")


def test_veille_date_shows_corrects_and_keeps_a_date(tmp_path, env, settings, embedder):
    folder = tmp_path / "notes"
    folder.mkdir()
    note = folder / "note-hydrogene.docx"
    _docx(note, HYDROGEN)
    _docx(folder / "autre-note.docx", ["Note du 5 novembre 2025", "Autre note", "Rien sur l'énergie ici."])
    store = _ingest(settings, embedder, paths=[folder])
    env = {**env, "VEILLE_HOME": str(settings.home)}

    shown = veille("date", str(note), env=env)
    assert shown.returncode == 0, shown.stderr
    assert "3 novembre 2025 (date lue dans le texte)" in shown.stdout

    fixed = veille("date", str(note), "4 novembre 2025", env=env)
    assert fixed.returncode == 0, fixed.stderr
    assert "4 novembre 2025 (date donnée par une personne)" in fixed.stdout
    assert "avant : 3 novembre 2025 (date lue dans le texte)" in fixed.stdout
    doc_id = dict(store.source_documents())[str(note.resolve())]
    assert store.dating(doc_id) == ("2025-11-04", "user")
    chunks = store.collection.get(where={"doc_id": doc_id}, include=["metadatas"])["metadatas"]
    assert chunks and {m["date"] for m in chunks} == {20251104}  # the dense branch's date filter agrees

    # Bad input: a clear French error, nothing changed; a name that fits two documents asks for the identifier.
    bad = veille("date", str(note), "32/13/2025", env=env)
    assert bad.returncode == 2 and "Date illisible : « 32/13/2025 »" in bad.stderr
    assert store.dating(doc_id) == ("2025-11-04", "user")
    both = veille("date", "Note du", "2025-01-01", env=env)
    assert both.returncode == 2 and "2 documents correspondent" in both.stderr and "précisez" in both.stderr
    assert store.dating(doc_id) == ("2025-11-04", "user")
    unknown = veille("date", "rapport introuvable", env=env)
    assert unknown.returncode == 2 and "Aucun document ne correspond" in unknown.stderr

    # The file changes: its new version keeps the date the person set.
    _docx(note, HYDROGEN + ["Une quatrième station est à l'étude au Havre."])
    store = _ingest(settings, embedder, paths=[folder])
    new_id = dict(store.source_documents())[str(note.resolve())]
    assert new_id != doc_id and store.dating(new_id) == ("2025-11-04", "user")

    # « aucune » makes it undated; --sans-date lists it by its identifier.
    cleared = veille("date", new_id[:10], "aucune", env=env)
    assert cleared.returncode == 0, cleared.stderr
    assert store.dating(new_id) == (None, "user")
    listed = veille("date", "--sans-date", env=env)
    assert listed.returncode == 0 and new_id[:12] in listed.stdout and "non datés (1)" in listed.stdout


def test_bulletin_places_a_note_by_the_date_of_its_text_and_lists_the_undated_apart(tmp_path, env, settings,
                                                                                      embedder):
    folder = tmp_path / "notes"
    folder.mkdir()
    _docx(folder / "hydrogene.docx", HYDROGEN)
    _odt(folder / "laitiere.odt", DAIRY)
    old = (folder / "hydrogene.docx").stat().st_mtime - 3 * 365 * 86400  # files copied long before their notes
    for path in folder.iterdir():
        os.utime(path, (old, old))
    _ingest(settings, embedder, paths=[folder])
    _ingest(settings, embedder, items=[_undated_page()])
    env = {**env, "VEILLE_HOME": str(settings.home)}
    rubriques = ["--rubrique", "Hydrogène: hydrogène", "--rubrique", "Lait: lait, laitière"]

    out = tmp_path / "t4.md"
    res = veille("bulletin", "--periode", "2025-T4", *rubriques, "-o", str(out), env=env)
    assert res.returncode == 0, res.stderr
    text = _read(out)
    hydrogen = text[text.index("## Hydrogène"):text.index("## Lait")]
    dairy = text[text.index("## Lait"):text.index("## Non datés")]
    undated = text[text.index("## Non datés"):text.index("## Sources")]
    assert "Plan régional hydrogène" in hydrogen or "Note du 3 novembre 2025" in hydrogen
    assert "3 novembre 2025 (date lue dans le texte)" in hydrogen and "23 décembre 2013" not in text
    assert "12 décembre 2025 (date lue dans le texte)" in dairy and "Aucun document" not in dairy
    assert "Hydrogène et mobilité" in undated and "non daté, arrivé le" in undated
    assert "Hydrogène et mobilité" not in hydrogen

    # Another quarter: the notes are outside it; the undated page is still said, apart.
    out = tmp_path / "t3.md"
    res = veille("bulletin", "--periode", "2025-T3", *rubriques, "-o", str(out), env=env)
    assert res.returncode == 0, res.stderr
    text = _read(out)
    assert "novembre 2025" not in text and "décembre 2025 (date" not in text
    assert re.search(r"## Non datés.*Hydrogène et mobilité", text, re.S)

    # Fifteen years: each note under its own date, both of them.
    out = tmp_path / "long.md"
    res = veille("bulletin", "--periode", "2011-01-01..2025-12-31", *rubriques, "-o", str(out), env=env)
    assert res.returncode == 0, res.stderr
    text = _read(out)
    assert "3 novembre 2025 (date lue dans le texte)" in text and "12 décembre 2025 (date lue dans le texte)" in text


def test_documents_tab_and_sources_say_the_evidence_and_the_tab_corrects_the_date(tmp_path, settings, embedder):
    from assistant.answering.citations import make_citation
    from assistant.service import Assistant
    from veille.errors import VeilleError
    from veille.filters import Filters
    from webui.documents import correct_date, render_document
    from webui.sources import render_citation

    folder = tmp_path / "notes"
    folder.mkdir()
    _odt(folder / "laitiere.odt", DAIRY)
    store = _ingest(settings, embedder, paths=[folder])
    (doc_id,) = {d for _, d in store.source_documents()}
    page = render_document(store, store.document(doc_id))
    assert "12 décembre 2025 (date lue dans le texte)" in page
    # The sources under an answer say it too.
    passage = Assistant(settings, embedder=embedder).retrieve("collecte de lait", Filters()).passages[0]
    cited = make_citation(store, 1, passage)
    assert "12/12/2025 (date lue dans le texte)" in render_citation(0, cited)
    with pytest.raises(VeilleError, match="Date illisible"):
        correct_date(store, store.document(doc_id), "bientôt")
    assert store.dating(doc_id) == ("2025-12-12", "text")
    said = correct_date(store, store.document(doc_id), "01/12/2025")
    assert said == "Date enregistrée : 1 décembre 2025 (date donnée par une personne)."
    assert "1 décembre 2025 (date donnée par une personne)" in render_document(store, store.document(doc_id))


def test_a_watch_with_a_period_finds_an_undated_document_and_says_so(tmp_path, settings, embedder):
    from assistant.service import Assistant
    from veille.filters import Filters
    from watch.watches import add_watch, news_markdown, run_watches

    folder = tmp_path / "notes"
    folder.mkdir()
    _docx(folder / "hydrogene.docx", HYDROGEN)
    _ingest(settings, embedder, paths=[folder])
    add_watch("hydrogène", Filters.from_input(since="2025"), name="H2", settings=settings)
    _ingest(settings, embedder, items=[_undated_page()])
    hits = run_watches(settings, assistant=Assistant(settings, embedder=embedder))["H2"]
    assert [(h.title, h.date) for h in hits] == [("Hydrogène et mobilité", None)]
    assert "Hydrogène et mobilité** 🆕 (autre · non daté)" in news_markdown(settings)


def test_a_store_dated_before_is_dated_anew_at_the_next_ingestion(tmp_path, settings, embedder):
    """A document stored before dates had their evidence (python-docx's stamp taken for its date) is read once more
    by the next ``veille ingest``, unchanged otherwise, and gets the date of its text."""
    folder = tmp_path / "notes"
    folder.mkdir()
    _docx(folder / "hydrogene.docx", HYDROGEN)
    store = _ingest(settings, embedder, paths=[folder])
    (doc_id,) = {d for _, d in store.source_documents()}
    with store.transaction() as tx:  # the store as the previous version wrote it
        tx.execute("UPDATE documents SET date='2013-12-23', date_num=20131223, "
                   "extra=json_remove(extra, '$.date_source') WHERE doc_id=?", (doc_id,))
    assert store.dating(doc_id) == ("2013-12-23", None)
    from ingestion.pipeline import Ingestor

    report = Ingestor(settings, embedder=embedder, progress=False).ingest_paths([folder])
    assert report.count("unchanged") == 1 and report.chunks_written == 0
    assert store.dating(doc_id) == ("2025-11-03", "text")
    chunks = store.collection.get(where={"doc_id": doc_id}, include=["metadatas"])["metadatas"]
    assert {m["date"] for m in chunks} == {20251103}
