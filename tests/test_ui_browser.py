"""End-to-end tests of the web interface in headless Chromium (Debian's chromium driven by Playwright).

The app runs in this process on a free loopback port over a real store (demo corpus + a hostile page),
with the real e5 model. Screenshots of the main states go to tests/artifacts/.
"""
from __future__ import annotations

import json
import os
import shutil
import sqlite3
import time
from pathlib import Path

import pytest
from conftest import REPO, free_port, veille

CHROMIUM = Path("/usr/bin/chromium")
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync"]
ARTIFACTS = REPO / "tests" / "artifacts"

pytestmark = pytest.mark.skipif(not CHROMIUM.exists(), reason="/usr/bin/chromium absent (apt-get install chromium)")

HOSTILE = """---
title: 'Bulletin cidricole <img src=x onerror="window.__pwned=3">'
doc_type: bulletin
date: 2021-03
filieres: [agroalimentaire]
---
# Observatoire du cidre normand

La filière cidricole normande compte 450 producteurs de cidre fermier en 2021 selon l'interprofession.
<script>window.__pwned = 1</script> <img src=x onerror="window.__pwned = 2">
Les producteurs de cidre fermier normands exportent une part croissante de leur production vers le Japon.
Le calvados et le pommeau complètent la gamme des producteurs cidricoles de Normandie.
"""

UPLOADED = """# Plan régional hydrogène

La Région Normandie finance douze stations de recharge en hydrogène vert pour les poids lourds d'ici 2026.
Le plan régional hydrogène mobilise 150 millions d'euros avec les industriels de la vallée de la Seine.
Les stations de recharge en hydrogène desserviront les ports du Havre, de Rouen et de Caen.
"""


@pytest.fixture(scope="module")
def app_home(tmp_path_factory, models_dir, embedder):
    from ingestion.pipeline import Ingestor
    from veille.config import Settings

    root = tmp_path_factory.mktemp("ui")
    corpus = root / "corpus"
    shutil.copytree(REPO / "corpus", corpus)
    (corpus / "observatoire-cidre.md").write_text(HOSTILE, encoding="utf-8")
    settings = Settings(home=root / "home", models_path=models_dir)
    report = Ingestor(settings, embedder=embedder, progress=False).ingest_paths([corpus])
    assert report.count("added") == 6, report.as_dict()
    return settings


@pytest.fixture(scope="module")
def server(app_home, embedder):
    from assistant.service import Assistant
    from webui.serve import start

    port = free_port()
    app = start("127.0.0.1", port, settings=app_home, assistant=Assistant(app_home, embedder=embedder),
                block=False, warm=True, say=lambda *_: None)
    yield f"http://127.0.0.1:{port}", app
    app.close()


@pytest.fixture(scope="module")
def browser():
    from playwright.sync_api import sync_playwright

    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        yield b
        b.close()


@pytest.fixture
def page(browser, server):
    context = browser.new_context(viewport={"width": 1500, "height": 1050}, locale="fr-FR", accept_downloads=True)
    page = context.new_page()
    page.set_default_timeout(90_000)
    errors: list[str] = []
    outside: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.on("request", lambda r: outside.append(r.url) if not r.url.startswith(("http://127.0.0.1", "data:",
                                                                                   "blob:")) else None)
    page.goto(server[0])
    page.wait_for_selector("#question textarea")
    yield page
    assert not outside, f"requêtes hors de la machine : {outside}"
    assert not errors, f"erreurs JavaScript : {errors}"
    context.close()


def shot(page, name: str) -> None:
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)


def bot_messages(page):
    return page.locator('#chat [data-testid="bot"]')


def ask(page, question: str, record_stream: bool = False) -> str:
    """Type a question, send it, wait for the final answer (no streaming cursor); returns its text."""
    n = bot_messages(page).count()
    if record_stream:  # keep every text the last answer bubble shows while it streams
        page.evaluate("""() => { window.__snaps = [];
            const obs = new MutationObserver(() => { const m = document.querySelectorAll('#chat [data-testid="bot"]');
              if (m.length) window.__snaps.push(m[m.length - 1].innerText); });
            obs.observe(document.querySelector('#chat'), {subtree: true, childList: true, characterData: true}); }""")
    page.fill("#question textarea", question)
    page.click("#send")
    page.wait_for_function(
        """n => { const m = document.querySelectorAll('#chat [data-testid="bot"]');
                  return m.length > n && /Mode : /.test(m[m.length - 1].innerText) && !/▌/.test(m[m.length - 1].innerText); }""",
        arg=n)
    return bot_messages(page).nth(n).inner_text()


def test_chat_sources_filters_followup_export_feedback(page, server, app_home):
    url, app = server
    # Empty chat: example questions and the answer mode are shown, in French.
    chat = page.locator("#chat")
    assert "pôles de compétitivité" in chat.inner_text()
    assert "Mode de réponse : extractif" in page.locator("#header").inner_text()
    shot(page, "01-accueil")

    # A question: the answer streams in, with clickable citations.
    text = ask(page, "Quels sont les pôles de compétitivité normands ?", record_stream=True)
    snaps = page.evaluate("window.__snaps")
    partial = [s for s in snaps if "▌" in s]
    assert len({len(s) for s in partial}) >= 3, "la réponse n'est pas arrivée progressivement"
    assert "Cosmetic Valley" in text and "[1]" in text
    assert "Filtres : aucun" in text
    cites = page.locator("#chat a.cite")
    assert cites.count() >= 1
    shot(page, "02-reponse")

    # Clicking [1] opens that source: title, type, date, file, passage with the supporting sentence highlighted.
    cites.first.click()
    source = page.locator("#src-0-1")
    source.wait_for()
    assert source.get_attribute("open") is not None
    assert "src-active" in (source.get_attribute("class") or "")
    assert "Intelligence économique — la Normandie, région pilote" in source.inner_text()
    mark = source.locator("mark").inner_text()
    assert len(mark) > 20 and " ".join(mark.split())[:40] in " ".join(text.split())
    assert "Document local" in source.inner_text()
    shot(page, "03-source-ouverte")

    # A follow-up keeps the subject of the previous question.
    text = ask(page, "Et qui les finance ?")
    assert "Question comprise comme" in text and "pôles de compétitivité" in text
    shot(page, "04-relance")

    # Export as Markdown, with the sources.
    page.click("#export")
    link = page.locator("#export-file a").first
    link.wait_for()
    with page.expect_download() as dl:
        link.click()
    exported = Path(dl.value.path()).read_text(encoding="utf-8")
    assert "## 1. Quels sont les pôles de compétitivité normands ?" in exported
    assert "**Sources**" in exported and "Intelligence économique — la Normandie, région pilote" in exported
    assert "## 2. Et qui les finance ?" in exported

    # Feedback 👍 on the first answer, then a comment: stored with question, answer, sources, config.
    bot_messages(page).first.hover()
    page.locator('#chat button[aria-label="J\'aime"]').first.click()
    page.wait_for_selector("text=Avis enregistré")
    page.fill("#fb-comment textarea", "Réponse utile, il manque les dates.")
    page.click("#fb-send")
    page.wait_for_selector("text=Commentaire enregistré")
    shot(page, "07-avis")
    with sqlite3.connect(app_home.home / "feedback.db") as db:
        db.row_factory = sqlite3.Row
        rows = db.execute("SELECT * FROM feedback").fetchall()
    assert len(rows) == 1
    row = rows[0]
    assert row["rating"] == 1 and row["turn"] == 0
    assert row["question"] == "Quels sont les pôles de compétitivité normands ?"
    assert "Cosmetic Valley" in row["answer"] and row["comment"] == "Réponse utile, il manque les dates."
    assert json.loads(row["citations"])[0]["title"] and json.loads(row["config"])["embedder"] == "e5-small"

    # `veille feedback export` turns it into a candidate evaluation pair.
    env = {**os.environ, "VEILLE_HOME": str(app_home.home), "VEILLE_MODELS_PATH": str(app_home.models_path)}
    res = veille("feedback", "export", env=env, timeout=120)
    assert res.returncode == 0, res.stderr
    pair = json.loads(res.stdout.splitlines()[0])
    assert pair["question"] == "Quels sont les pôles de compétitivité normands ?"
    assert pair["gold_doc_ids"] and pair["rating"] == "positive" and not pair["needs_review"]

    # "Nouvelle conversation" starts afresh.
    page.click("#new-conv")
    page.wait_for_function("() => document.querySelectorAll('#chat [data-testid=\"bot\"]').length === 0")
    assert "apparaîtront ici" in page.locator("#sources-panel").inner_text()

    # A filter is honoured and shown in the answer.
    page.get_by_role("checkbox", name="Rapport").check()
    text = ask(page, "Quelles Régions se sont portées candidates pour expérimenter le dispositif ?")
    assert "Filtres actifs : type : rapport" in text
    latest = page.locator("#sources-panel .src-group").first
    metas = latest.locator(".src-meta").all_text_contents()
    assert metas and all(m.startswith("Rapport") for m in metas), metas
    shot(page, "05-filtre-rapport")

    # A filter that excludes the answer gives a plain refusal with what to try.
    page.get_by_role("checkbox", name="Rapport").uncheck()
    page.get_by_role("checkbox", name="Bulletin").check()
    text = ask(page, "Qui co-préside le comité stratégique d'intelligence économique territoriale ?")
    assert "Le corpus ne couvre pas cette question" in text and "retirez ou élargissez les filtres" in text
    shot(page, "06-refus")
    page.get_by_role("checkbox", name="Bulletin").uncheck()


def test_hostile_corpus_html_does_not_execute(page):
    text = ask(page, "Combien de producteurs de cidre fermier compte la filière cidricole normande ?")
    assert "450 producteurs" in text
    page.locator("#chat a.cite").first.click()
    panel = page.locator("#sources-panel")
    assert "<script>window.__pwned = 1</script>" in panel.inner_text()  # shown as text
    assert 'onerror="window.__pwned=3"' in panel.inner_text()  # the hostile title, as text
    time.sleep(1)
    assert page.evaluate("typeof window.__pwned") == "undefined"
    assert page.locator("#sources-panel img, #chat img[src='x'], #sources-panel script").count() == 0
    shot(page, "08-page-hostile-neutralisee")


def test_upload_then_ask_about_it(page, tmp_path, app_home):
    page.get_by_role("tab", name="Corpus").click()
    page.wait_for_selector("#corpus-summary :text('6')")
    assert "6" in page.locator("#corpus-summary").inner_text()
    good = tmp_path / "plan-hydrogene.md"
    good.write_text(UPLOADED, encoding="utf-8")
    bad = tmp_path / "archive.7z"
    bad.write_bytes(b"PK\x03\x04 not a supported document")
    page.locator("#upload-files input[type=file]").set_input_files([str(good), str(bad)])
    time.sleep(1)
    page.click("#upload-go")
    page.wait_for_selector("#upload-result :text('Ingestion terminée')")
    result = page.locator("#upload-result").inner_text()
    assert "ajoutés : 1" in result and "ignorés : 1" in result
    detail = page.locator("#upload-detail").inner_text()
    assert "plan-hydrogene.md" in detail and "non pris en charge" in detail
    page.wait_for_function("() => document.querySelector('#corpus-summary').innerText.includes('7')")
    shot(page, "09-corpus-apres-ajout")
    # Nothing of the refused file was kept; the accepted one is in the store.
    uploads = list((app_home.home / "uploads").rglob("*"))
    assert not any(p.name == "archive.7z" for p in uploads)
    page.get_by_role("tab", name="Questions").click()
    text = ask(page, "Combien de stations de recharge en hydrogène la Région finance-t-elle ?")
    assert "douze stations" in text
    page.locator("#chat a.cite").first.click()
    assert "Plan régional hydrogène" in page.locator("#sources-panel").inner_text()
    shot(page, "10-question-sur-document-ajoute")


def test_briefing_note_rendered_and_downloadable(page):
    page.get_by_role("tab", name="Note de synthèse").click()
    page.fill("#brief-topic textarea", "intelligence économique territoriale en Normandie")
    page.click("#brief-go")
    page.wait_for_selector("#brief-files a")
    note = page.locator("#brief-note").inner_text()
    assert "Note de synthèse : intelligence économique territoriale en Normandie" in note
    assert "Vue d'ensemble" in note and "Sources" in note
    page.locator("#brief-note a.cite").first.click()
    opened = page.locator("#brief-sources details[open]")
    assert opened.count() == 1 and opened.locator("mark").count() == 1
    names = page.locator("#brief-files").inner_text().replace("\n", "")
    assert "note-de-synthese.md" in names and "note-de-synthese.docx" in names
    with page.expect_download() as dl:
        page.locator("#brief-files a[href$=\".docx\"]").first.click()
    from docx import Document

    text = "\n".join(p.text for p in Document(dl.value.path()).paragraphs)
    assert "Note de synthèse : intelligence économique territoriale en Normandie" in text and "Sources" in text
    shot(page, "11-note-de-synthese")
