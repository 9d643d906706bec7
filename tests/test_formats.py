"""Every supported format, from files generated with a known text (bench/samples.py):
extraction in reading order with pages, the real ``veille ingest`` over all of them and broken ones,
citations by page, web collection of office files, and the text clean-up."""
from __future__ import annotations

import json
import os
import shutil
import sqlite3
from pathlib import Path

import pytest
from conftest import veille

from bench import samples as S
from bench.formats import overlap
from ingestion.read import RawFile, SkipFile


def _raw(sample) -> RawFile:
    return RawFile(path=Path(sample.name), data=sample.data, size=len(sample.data), mtime=0.0)


# --- extraction ---------------------------------------------------------------------------------------------
def test_two_column_pdf_reads_in_order_without_running_headers_and_knows_its_pages():
    from ingestion.extract import extract
    from ingestion.normalize import clean_pages

    sample = S.pdf_sample()
    extracted = extract(_raw(sample))
    text, pages = clean_pages(extracted.text, extracted.pages)
    assert len(pages) == 3
    bounds = [*pages, len(text)]
    for i, known in enumerate(sample.pages):
        recall, precision = overlap(known, text[bounds[i]:bounds[i + 1]])
        assert recall > 0.99 and precision > 0.99, (i, recall, precision)
    assert S.PDF_HEADER not in text and "Page 2 sur 3" not in text  # header and footer gone, on every page
    assert extracted.text.startswith(f"# {S.PDF_TITLE}")  # the larger type is a heading
    assert text.startswith(f"{S.PDF_TITLE}\n\n")  # stored as a plain line of its own
    assert "-\n" not in text and not [w for w in text.split() if w.endswith("-") and w[:-1].isalpha()]
    assert extracted.meta["title"] == S.PDF_TITLE and extracted.meta["author"] == S.AUTHOR


def test_tables_become_rows_that_read_on_their_own_and_headings_are_kept():
    from ingestion.extract import extract

    for sample in (S.docx_sample(), S.odt_sample(), S.xlsx_sample(), S.ods_sample()):
        text = extract(_raw(sample)).text
        assert "- Territoire : Orne ; Population : 279 942 ; Taux de chômage : 7,4 %" in text, sample.name
    docx = extract(_raw(S.docx_sample())).text
    assert "## Indicateurs par département" in docx and docx.startswith("# Note de conjoncture régionale")
    xlsx = extract(_raw(S.xlsx_sample())).text
    assert "## Emploi" in xlsx and "Évolution : 1,2 %" in xlsx  # a percentage cell reads as one
    assert "- Commune : Évreux ; Population : 46 707" in extract(_raw(S.csv_sample())).text  # cp1252, « ; »


def test_every_format_carries_its_metadata_and_unknown_extensions_raise():
    from ingestion.extract import EXTRACTORS, extract
    from ingestion.sources import SUPPORTED

    for sample in S.samples(ocr=False):
        meta = extract(_raw(sample)).meta
        for key, value in sample.meta.items():
            assert meta.get(key) == value, (sample.name, key, meta)
    assert SUPPORTED == set(EXTRACTORS) >= {".docx", ".pptx", ".xlsx", ".odt", ".odp", ".ods", ".csv", ".eml",
                                            ".mbox", ".epub", ".rtf", ".png", ".jpg", ".tiff", ".pdf"}
    with pytest.raises(SkipFile, match="non pris en charge"):
        extract(RawFile(path=Path("a.xyz"), data=b"x", size=1, mtime=0))


def test_upload_check_accepts_the_new_formats(tmp_path):
    from webui.corpus import check_upload

    paths = []
    for sample in (S.docx_sample(), S.eml_sample()[0], S.epub_sample()):
        (tmp_path / sample.name).write_bytes(sample.data)
        paths.append(str(tmp_path / sample.name))
    (tmp_path / "archive.zip").write_bytes(b"PK")
    ok, refused = check_upload(paths + [str(tmp_path / "archive.zip")], 10_000_000)
    assert [p.name for p in ok] == [Path(p).name for p in paths]
    assert refused[0][0] == "archive.zip" and ".docx" in refused[0][2]


# --- clean-up -----------------------------------------------------------------------------------------------
def test_clean_text_removes_link_residue_splits_items_and_glued_sentences():
    from ingestion.normalize import clean_text
    from veille.text import split_sentences

    text = clean_text("- la « [Charte cybersécurité](#) pour les prestataires » ![logo](img/logo.png)\n\n"
                      "Les actions bénéficient aux acteurs numériques. - l'organisation d'un colloque de Cerisy\n\n"
                      "Elles redonnent un sens aigu au développement local.A l’heure actuelle, les PME-PMI.En effet, "
                      "les territoires comptent.")
    assert "« Charte cybersécurité pour les prestataires »" in text and "](" not in text and "logo" not in text
    assert "numériques.\n- l'organisation d'un colloque" in text
    sentences = [text[a:b] for a, b in split_sentences(text)]
    assert "l'organisation d'un colloque de Cerisy" in sentences  # the item, without its dash
    assert "Elles redonnent un sens aigu au développement local." in sentences
    assert any(s.startswith("A l’heure actuelle") for s in sentences) and "En effet, les territoires comptent." \
        in sentences


def test_page_offsets_survive_the_clean_up_when_a_sentence_runs_over_a_page_break():
    from ingestion.chunk import page_span
    from ingestion.formats.base import join_pages
    from ingestion.normalize import clean_pages

    pages = ["Rapport\n\nLe conseil régional a engagé une démarche de soutien aux filières industrielles "
             "de la", "transition énergétique dès 2021.\n\nRapport\n\nUn observatoire suit [les indicateurs](#).",
             "Rapport\n\nTroisième page."]
    text, starts = join_pages(pages)
    cleaned, offsets = clean_pages(text, starts)
    assert "filières industrielles de la transition énergétique dès 2021." in cleaned  # made whole again
    assert cleaned[offsets[1]:].startswith("transition énergétique") and cleaned[offsets[2]:] == "Troisième page."
    sentence = cleaned.index("Le conseil"), cleaned.index("2021.") + 5
    assert page_span(offsets, *sentence) == (1, 2)
    assert page_span(offsets, cleaned.index("Troisième"), len(cleaned)) == (3, 3)


# --- the real command over every format, broken files included -------------------------------------------------
@pytest.fixture(scope="module")
def folder(tmp_path_factory):
    path = tmp_path_factory.mktemp("formats")
    written = S.write_samples(path, ocr=True, broken=True)
    return path, written


def test_veille_ingest_takes_every_format_and_says_why_for_broken_files(folder, env, tmp_path):
    if not shutil.which("tesseract"):
        pytest.skip("Tesseract absent (paquets tesseract-ocr tesseract-ocr-fra, installés par scripts/install.sh)")
    path, written = folder
    run = veille("ingest", str(path), "--json", env=env, timeout=900)
    assert run.returncode == 0, run.stderr
    report = json.loads(run.stdout)
    problems = {Path(p["source"]).name: p for p in report["problems"]}
    assert report["failed"] == 0
    for broken in (w for w in written.values() if isinstance(w, S.Broken)):
        assert problems[broken.name]["status"] == "skipped" and broken.reason in problems[broken.name]["reason"]
    assert set(problems) == {b.name for b in written.values() if isinstance(b, S.Broken)}
    # every good file, the messages of the mailbox, the attachments and the message with a broken part landed
    db = sqlite3.connect(Path(env["VEILLE_HOME"]) / "veille.db")
    db.row_factory = sqlite3.Row
    sources = {r["source"][len(str(path)) + 1:]: dict(r) for r in db.execute(
        "SELECT s.source, d.* FROM sources s JOIN documents d USING(doc_id) WHERE d.state='done'")}
    expected = {s.name for s in written.values() if isinstance(s, S.Sample) and s.name != "boite-veille.mbox"}
    expected |= {"lettre-veille.eml#note-emploi.docx", "boite-veille.mbox#message-1", "budget.eml",
                 "boite-veille.mbox#message-2", "boite-veille.mbox#message-2/communes.csv"}
    assert expected <= set(sources)
    for sample in (s for s in written.values() if isinstance(s, S.Sample) and s.text):
        name = sample.name if sample.name in sources else None
        if name:
            assert overlap(sample.text, sources[name]["text"])[1] > 0.38, name  # the stored text is that file's
            for key, value in sample.meta.items():
                assert sources[name][key] == value, (name, key)
            assert json.loads(sources[name]["extra"]).get("ocr", False) == sample.ocr, name
    attachment = json.loads(sources["lettre-veille.eml#note-emploi.docx"]["extra"])
    assert attachment["parent"].endswith("lettre-veille.eml")
    assert json.loads(sources["lettre-veille.eml"]["extra"])["attachments"] == ["note-emploi.docx"]
    assert sources["lettre-veille.eml"]["author"] == "Lettre de veille" and sources["lettre-veille.eml"]["date"] \
        == "2023-05-15"
    # each PDF passage knows its pages, and they are the pages its text is on
    pdf = written["rapport-conjoncture.pdf"]
    rows = db.execute("SELECT c.text, c.page_start, c.page_end FROM chunks c JOIN sources s USING(doc_id) "
                      "WHERE s.source LIKE '%rapport-conjoncture.pdf'").fetchall()
    assert rows and {r["page_start"] for r in rows} == {1, 2, 3}
    for r in rows:
        words = r["text"].replace("#", "").split()
        first, last = " ".join(words[:6]), " ".join(words[-6:])
        assert first in pdf.pages[r["page_start"] - 1] and last in pdf.pages[r["page_end"] - 1], dict(r)
    scan = db.execute("SELECT min(page_start), max(page_end) FROM chunks c JOIN sources s USING(doc_id) "
                      "WHERE s.source LIKE '%rapport-scanne.pdf'").fetchone()
    assert tuple(scan) == (1, 2)

    # the citation says the page, and the OCR
    page2 = pdf.pages[1]
    question = "Que dit le rapport sur " + " ".join(page2.split(". ")[1].split()[:12]) + " ?"
    asked = veille("ask", question, "--json", env=env)
    assert asked.returncode == 0, asked.stderr
    cites = [c for c in json.loads(asked.stdout)["citations"] if c["source"].endswith("rapport-conjoncture.pdf")]
    assert cites and all(c["page"] in (1, 2, 3) and c["page_end"] >= c["page"] for c in cites)
    shown = veille("ask", question, env=env)
    assert f"p. {cites[0]['page']}" in shown.stdout

    again = json.loads(veille("ingest", str(path), "--json", env=env, timeout=600).stdout)
    assert again["added"] == again["updated"] == again["chunks_written"] == 0 and again["failed"] == 0


def test_scans_over_the_page_cap_or_without_tesseract_are_skipped_with_the_reason(env, tmp_path):
    folder = tmp_path / "scans"
    folder.mkdir()
    (folder / "rapport-scanne.pdf").write_bytes(S.scanned_pdf_sample(pages=2).data)
    (folder / "note.txt").write_text("La note de conjoncture du trimestre est arrivée ce matin.", encoding="utf-8")
    capped = veille("ingest", str(folder), "--json", env={**env, "VEILLE_OCR_MAX_PAGES": "1"})
    report = json.loads(capped.stdout)
    assert report["added"] == 1 and report["problems"][0]["source"].endswith("rapport-scanne.pdf")
    assert "limitée à 1 pages" in report["problems"][0]["reason"]
    (folder / "affiche.png").write_bytes(S.image_sample().data)
    bare = {**env, "PATH": str(Path(os.sys.executable).parent)}  # no tesseract on this PATH
    report = json.loads(veille("ingest", str(folder / "affiche.png"), "--json", env=bare).stdout)
    assert report["skipped"] == 1 and "Tesseract" in report["problems"][0]["reason"]


def test_an_old_store_gets_the_new_columns(settings):
    settings.home.mkdir(parents=True)
    old = sqlite3.connect(settings.db_path)
    old.executescript("CREATE TABLE documents (doc_id TEXT PRIMARY KEY, state TEXT NOT NULL, title TEXT, "
                      "ingested_at REAL NOT NULL, text TEXT NOT NULL);"
                      "CREATE TABLE chunks (rowid INTEGER PRIMARY KEY, chunk_id TEXT UNIQUE NOT NULL, doc_id TEXT "
                      "NOT NULL, position INTEGER NOT NULL, char_start INTEGER NOT NULL, char_end INTEGER NOT NULL, "
                      "heading TEXT, text TEXT NOT NULL);"
                      "INSERT INTO chunks VALUES (1, 'd-0000', 'd', 0, 0, 4, '', 'abcd');")
    old.commit()
    old.close()
    from veille.store import Store

    store = Store(settings)
    assert {"page_start", "page_end"} <= {r[1] for r in store.db.execute("PRAGMA table_info(chunks)")}
    assert "extra" in {r[1] for r in store.db.execute("PRAGMA table_info(documents)")}
    assert store.chunk_pages("d-0000") == (None, None)
    Store(settings).db  # a second opening finds them there and adds nothing


# --- web collection -------------------------------------------------------------------------------------------
def test_collected_links_to_office_files_and_pdfs_go_through_the_same_extractors(settings, embedder):
    from assistant.service import Assistant
    from bench.site import Site
    from ingestion.collect import Collector, Source
    from veille.store import get_store
    from webui.sources import render_citation

    docx, xlsx, pdf = S.docx_sample(), S.xlsx_sample(), S.pdf_sample()
    files = {"/docs/note.docx": (docx.data, "application/vnd.openxmlformats-officedocument.wordprocessingml."
                                            "document"),
             "/docs/indicateurs.xlsx": (xlsx.data, "application/octet-stream"),  # the extension tells
             "/docs/rapport.pdf": (pdf.data, "application/pdf"),
             "/docs/archive.bin": (b"\x00" * 64, "application/octet-stream")}
    csettings = settings.with_(collect_delay=0.0, collect_allow_hosts=("127.0.0.1",), collect_timeout=5.0)
    with Site({}, files=files) as site:
        source = Source("documents", "url-list", [site.base + p for p in files])
        report = Collector(csettings, embedder=embedder, progress=False).run([source])
    status = {p.url.rsplit("/", 1)[1]: p for p in report.pages}
    assert [status[n].status for n in ("note.docx", "indicateurs.xlsx", "rapport.pdf")] == ["new"] * 3
    assert status["archive.bin"].status == "skipped"
    store = get_store(csettings)
    titles = {r["title"] for r in store.db.execute("SELECT title FROM documents")}
    assert {docx.meta["title"], xlsx.meta["title"], S.PDF_TITLE} <= titles
    assistant = Assistant(csettings, embedder=embedder)
    sentence = pdf.pages[2].split(". ")[2]
    answer = assistant.ask("Que dit le rapport : " + " ".join(sentence.split()[:12]) + " ?")
    cite = next(c for c in answer.citations if c.source.endswith("rapport.pdf"))
    assert cite.page in (1, 2, 3) and cite.link() == f"{cite.source}#page={cite.page}"
    html = render_citation(0, cite)
    assert f"#page={cite.page}" in html and f"p. {cite.page}" in html
