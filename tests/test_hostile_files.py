"""A hostile file cannot take Veille down: each is refused or cut with a French reason, within bounded memory and
time, the worker that reads it recovers, and the normal note beside it lands (tests/hostile_files.py writes them)."""
from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

import hostile_files as h
from conftest import REPO
from ingestion.fence import StoppedByFence, extract_fenced
from ingestion.pipeline import Ingestor, SourceItem
from ingestion.read import RawFile, SkipFile, read_file
from veille.store import get_store

# Small budgets so that the cuts show on small files; the archive and pixel budgets stay the defaults.
BUDGETS = {"VEILLE_DOCUMENT_MAX_CHARS": "200000", "VEILLE_DOCUMENT_MAX_PASSAGES": "40",
           "VEILLE_ARCHIVE_MAX_MEMBERS": "500", "VEILLE_MAIL_MAX_ATTACHMENTS": "5"}
EXCEPTION_NAME = re.compile(r"\b[A-Z][a-zA-Z]+(Error|Exception|Iteration)\b|field limit|Traceback")


@pytest.fixture(scope="module")
def hostile_folder(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("hostile")
    (folder / "0-note.md").write_text(h.NORMAL_NOTE, encoding="utf-8")
    h.docx_bomb(folder / "bombe.docx", 300 << 20)
    h.epub_bomb(folder / "bombe.epub", 300 << 20)
    h.pdf_giant_page(folder / "page-geante.pdf")
    h.docx_text(folder / "texte-sans-fin.docx", 20_000)
    h.docx_entity(folder / "entite.docx")
    h.csv_one_line(folder / "une-ligne.csv", 200_000)
    h.xlsx_rows(folder / "lignes.xlsx", 20_000)
    h.xlsx_billion_cells(folder / "milliard.xlsx")
    h.pptx_slides(folder / "diapositives.pptx", 600)
    h.mbox_with_bad_message(folder / "parties.mbox", parts=10_000)
    h.mbox_with_bad_message(folder / "imbrique.mbox", depth=1_000)
    h.eml_attachments(folder / "pieces.eml", 50)
    h.epub_doctype(folder / "doctype.epub")
    h.pdf_recursive(folder / "recursif.pdf")
    return folder


@pytest.fixture(scope="module")
def cli_run(hostile_folder, tmp_path_factory, models_dir):
    """``veille ingest --json`` on the folder, as a user types it, with the peak memory of the whole process tree
    (the largest process: the CLI with the model, or the extraction worker)."""
    import os

    home = tmp_path_factory.mktemp("home")
    env = dict(os.environ, VEILLE_HOME=str(home), VEILLE_MODELS_PATH=str(models_dir), **BUDGETS)
    env.pop("VEILLE_CHROMA_URL", None)
    probe = ("import resource,subprocess,sys;r=subprocess.run(sys.argv[1:],capture_output=True,text=True);"
             "sys.stdout.write(r.stdout);sys.stderr.write(r.stderr);"
             "print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss,file=sys.stderr);sys.exit(r.returncode)")
    run = subprocess.run([sys.executable, "-c", probe, sys.executable, "-m", "cli", "ingest", "--json",
                          str(hostile_folder)], env=env, cwd=REPO, capture_output=True, text=True, timeout=600)
    peak_kb = int(run.stderr.strip().splitlines()[-1])
    report = json.loads(run.stdout.strip().splitlines()[-1])
    return run, report, peak_kb, home


def _name(source: str) -> str:
    """« bombe.docx », « parties.mbox#message-3/parties-ignorees »: the file's name and the part inside it."""
    path, sep, part = source.partition("#")
    return Path(path).name + sep + part


def _reasons(report: dict) -> dict[str, str]:
    return {_name(p["source"]): p["reason"] for p in report["problems"]}


def test_every_hostile_file_is_refused_or_cut_in_french_and_the_note_lands(cli_run):
    run, report, peak_kb, home = cli_run
    assert run.returncode == 0, run.stderr
    reasons = _reasons(report)
    assert "dépasse 100 Mo une fois décompressé" in reasons["bombe.docx"]
    assert reasons["bombe.docx"].startswith("document Word refusé")
    assert "dépasse 100 Mo une fois décompressé" in reasons["bombe.epub"]
    assert "page de 200 × 200 pouces" in reasons["page-geante.pdf"] and "refusé" in reasons["page-geante.pdf"]
    assert re.search(r"refusée : archive de [\d\u202f]+ éléments", reasons["diapositives.pptx"])
    # A mailbox keeps its readable messages; the broken one is named with its reason.
    assert "seules les 1\u202f000 premières sont lues" in reasons["parties.mbox#message-3/parties-ignorees"], reasons
    assert "message refusé : parties MIME imbriquées" in reasons["imbrique.mbox#message-3"], reasons
    assert "45 pièces jointes de plus non lues" in reasons["pieces.eml#pieces-jointes-ignorees"], reasons
    for reason in reasons.values():
        assert not EXCEPTION_NAME.search(reason), reason
    cut = {_name(c["source"]): c["reason"] for c in report["cut"]}
    for name in ("texte-sans-fin.docx", "une-ligne.csv", "lignes.xlsx"):
        assert name in cut and "document coupé" in cut[name], (name, cut)
    store = get_store(_settings(home))
    titles = {r["title"] for r in store.db.execute("SELECT title FROM documents WHERE state='done'")}
    assert "Note de la cellule de veille" in titles
    for i in range(1, 4):  # the good messages around the broken one, in both mailboxes
        assert f"Note {i} de la cellule de veille" in titles
    passages = store.db.execute("SELECT max(n) FROM (SELECT count(*) AS n FROM chunks GROUP BY doc_id)").fetchone()[0]
    assert passages <= 40
    text = store.db.execute("SELECT text FROM documents WHERE title LIKE 'Début%' OR text LIKE 'Début%'").fetchone()
    assert text is not None and "fin de la phrase lue" in text[0]  # the text after an entity reference is kept
    epub = store.db.execute("SELECT title, text FROM documents WHERE title='Guide export des PME'").fetchone()
    assert epub is not None and "]>" not in epub["text"] and "PME exportatrices" in epub["text"]
    assert "PDF" in reasons["recursif.pdf"]
    assert peak_kb < 2_500_000, f"pic mémoire {peak_kb} Ko"


def test_the_cli_prints_the_reasons_and_cuts_when_its_output_is_a_pipe(hostile_folder, env):
    env = dict(env, **BUDGETS)
    run = subprocess.run([sys.executable, "-m", "cli", "ingest", str(hostile_folder / "bombe.docx"),
                          str(hostile_folder / "une-ligne.csv")], env=env, cwd=REPO, capture_output=True, text=True,
                         timeout=300)
    assert run.returncode == 0, run.stderr
    assert "dépasse 100 Mo une fois décompressé" in run.stdout
    assert "Documents lus en partie" in run.stdout and "document coupé" in run.stdout


def _settings(home: Path):
    from veille.config import load_settings

    return load_settings({"VEILLE_HOME": str(home)})


def test_a_file_past_the_memory_limit_is_refused_and_the_next_one_reads(hostile_folder, settings, tmp_path):
    tight = settings.with_(extract_max_memory=200 * 1024 * 1024)  # python-docx needs ~430 Mo for this one
    big = read_file(h.docx_text(tmp_path / "grand.docx", 300_000), settings.max_file_bytes)
    with pytest.raises(StoppedByFence, match="plus de 200 Mo de mémoire"):
        extract_fenced(big, tight)
    note = extract_fenced(read_file(hostile_folder / "0-note.md", settings.max_file_bytes), tight)
    assert "Hydronor" in note.text


def test_a_file_past_the_time_limit_is_refused_remembered_and_not_read_again(tmp_path, settings, embedder):
    folder = tmp_path / "lent"
    folder.mkdir()
    (folder / "0-note.md").write_text(h.NORMAL_NOTE, encoding="utf-8")
    h.xlsx_rows(folder / "lent.xlsx", 60_000)
    quick = settings.with_(extract_max_seconds=0.5)
    first = Ingestor(quick, embedder=embedder, progress=False).ingest_paths([folder])
    reasons = {Path(o.source).name: o.reason for o in first.outcomes if o.status == "skipped"}
    assert "lecture arrêtée après" in reasons["lent.xlsx"]
    assert first.count("added") == 1
    again = Ingestor(quick, embedder=embedder, progress=False).ingest_paths([folder])
    reasons = {Path(o.source).name: o.reason for o in again.outcomes if o.status == "skipped"}
    assert "déjà refusé" in reasons["lent.xlsx"] and again.seconds < first.seconds
    raised = Ingestor(settings.with_(document_max_passages=5), embedder=embedder, progress=False).ingest_paths([folder])
    assert [Path(o.source).name for o in raised.outcomes if o.status == "added"] == ["lent.xlsx"]  # limit raised
    assert get_store(settings).refused_file(str(folder / "lent.xlsx")) is None


def test_finished_documents_are_written_while_a_slow_file_is_read(tmp_path, settings, embedder):
    """A slow (or hostile) file never holds the documents read before it: they are in the store before it ends."""
    slow = h.xlsx_rows(tmp_path / "lent.xlsx", 150_000)  # read in ~5 s, more than the 2 s before a flush
    note = tmp_path / "note.md"
    note.write_text(h.NORMAL_NOTE, encoding="utf-8")
    settings = settings.with_(document_max_passages=10)  # the point is the order of writes, not embedding
    store = get_store(settings)
    seen: dict[str, bool] = {}

    def load_note():
        return extract_fenced(read_file(note, settings.max_file_bytes), settings), {}

    def load_slow():
        extracted = extract_fenced(RawFile(slow, slow.read_bytes(), slow.stat().st_size, 0), settings)
        seen["note stored before the slow file ended"] = bool(store.db.execute(
            "SELECT 1 FROM documents WHERE state='done' AND title='Note de la cellule de veille'").fetchone())
        return extracted, {}

    report = Ingestor(settings, store=store, embedder=embedder, progress=False).run(
        [SourceItem(str(note), load_note), SourceItem(str(slow), load_slow)])
    assert report.count("added") == 2
    assert seen == {"note stored before the slow file ended": True}


def test_a_message_budget_never_costs_the_messages_body(hostile_folder, settings):
    from ingestion.extract import extract
    from ingestion.limits import ReadLimits, reading_with

    raw = read_file(hostile_folder / "pieces.eml", settings.max_file_bytes)
    with reading_with(ReadLimits.from_settings(settings.with_(mail_max_attachments=5))):
        extracted = extract(raw)
    assert "très nombreuses pièces jointes" in extracted.text
    assert len([p for p in extracted.parts if p.extracted is not None]) == 5


def test_a_damaged_archive_is_still_called_damaged(tmp_path, settings):
    broken = tmp_path / "casse.docx"
    h.docx_entity(broken)
    data = bytearray(broken.read_bytes())
    data[200:260] = b"\x00" * 60  # inside the first member's compressed data
    with pytest.raises(SkipFile, match="tronqué ou corrompu"):
        extract_fenced(RawFile(broken, bytes(data), len(data), 0), settings)


def test_a_failing_flush_never_lets_one_file_be_read_as_another(tmp_path, settings):
    """The hook (the flush of finished documents) fails while a slow file is read: the error reaches the caller,
    and the next file read is that file, not the slow one's late reply."""
    from ingestion.fence import while_waiting

    slow = h.xlsx_rows(tmp_path / "lent.xlsx", 100_000)
    note = tmp_path / "note.md"
    note.write_text(h.NORMAL_NOTE, encoding="utf-8")

    def failing_flush():
        raise RuntimeError("base verrouillée")

    with while_waiting(failing_flush), pytest.raises(RuntimeError, match="base verrouillée"):
        extract_fenced(read_file(slow, settings.max_file_bytes), settings)
    assert "Hydronor" in extract_fenced(read_file(note, settings.max_file_bytes), settings).text
