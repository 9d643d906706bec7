"""End-to-end tests of the web interface in headless Chromium (Debian's chromium driven by Playwright).

The app runs in this process on a free loopback port over a real store (demo corpus + a hostile page),
with the real e5 model. Screenshots of the main states go to tests/artifacts/.
"""
from __future__ import annotations

import json
import os
import re
import shutil
import sqlite3
import time
from pathlib import Path

import pytest

import hostile_files
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


WIDTHS = (1400, 900)  # a laptop, and a narrow window or a tablet


def open_page(browser, server, width: int, locale: str = "fr-FR"):
    context = browser.new_context(viewport={"width": width, "height": 1000}, locale=locale, accept_downloads=True)
    page = context.new_page()
    page.set_default_timeout(90_000)
    errors: list[str] = []
    outside: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.on("request", lambda r: outside.append(r.url) if not r.url.startswith(("http://127.0.0.1", "data:",
                                                                                   "blob:")) else None)
    page.goto(server[0])
    page.wait_for_selector("#question textarea")
    return context, page, errors, outside


@pytest.fixture
def page(browser, server):
    context, page, errors, outside = open_page(browser, server, WIDTHS[0])
    yield page
    assert not outside, f"requêtes hors de la machine : {outside}"
    assert not errors, f"erreurs JavaScript : {errors}"
    context.close()


@pytest.fixture(params=WIDTHS, ids=[f"{w}px" for w in WIDTHS])
def sized_page(request, browser, server):
    """The page at each width (screenshots carry it in their name)."""
    context, page, errors, outside = open_page(browser, server, request.param)
    page.veille_width = request.param
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
    mark = source.locator("mark").first.inner_text()
    assert len(mark) > 20 and " ".join(mark.split())[:40] in " ".join(text.split())
    assert "fichier local" in source.inner_text() and "Lire le document" in source.inner_text()
    assert ".txt" not in source.inner_text()  # a title, not « 001_ec2d28b11d5960b8.txt »
    shot(page, "03-source-ouverte")

    # A follow-up keeps the subject of the previous question.
    text = ask(page, "Et qui les finance ?")
    assert "Question comprise comme" in text and "pôles de compétitivité" in text
    shot(page, "04-relance")

    # Export as Markdown, with the sources.
    page.click("#export")
    link = page.locator('#export-file a[href$=".md"]').first
    link.wait_for()
    with page.expect_download() as dl:
        link.click()
    exported = Path(dl.value.path()).read_text(encoding="utf-8")
    names = page.eval_on_selector_all("#export-file [aria-label], #export-file [title]",
                                      "els => els.map(e => e.getAttribute('aria-label') || e.getAttribute('title'))")
    assert not any("Remove" in n or "file" in n for n in names), names  # « Retirer ce fichier »
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
    assert "Le corpus ne contient pas d'information" in text and "retirez des filtres" in text
    shot(page, "06-refus")
    page.get_by_role("checkbox", name="Bulletin").uncheck()
    # Without a filter, the same refusal as the command line's, with nothing to remove.
    from assistant.answering.answer import REFUSAL_UNFILTERED
    text = ask(page, "Quel temps fera-t-il à Tokyo demain ?")
    assert " ".join(REFUSAL_UNFILTERED.split()) in " ".join(text.split()) and "filtres" not in text.split("Mode :")[0]


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
    # Sources as users mean them: the folder ingested is one source of 6 files, not 6 sources.
    assert "6 documents" in page.locator("#corpus-summary").inner_text()
    assert "sources : 1 dossier (6 fichiers)" in page.locator("#corpus-summary").inner_text()
    sources = page.locator("#corpus-sources").inner_text()
    assert "corpus" in sources and ".txt" not in sources and ".md" not in sources, sources
    good = tmp_path / "plan-hydrogene.md"
    good.write_text(UPLOADED, encoding="utf-8")
    bad = tmp_path / "archive.7z"
    bad.write_bytes(b"PK\x03\x04 not a supported document")
    bomb = hostile_files.docx_bomb(tmp_path / "note-piegee.docx", 300 << 20)  # 1 Mo that inflates to 300 Mo
    page.locator("#upload-files input[type=file]").set_input_files([str(good), str(bad), str(bomb)])
    time.sleep(1)
    page.click("#upload-go")
    page.wait_for_selector("#upload-result :text('Ingestion terminée')")
    result = page.locator("#upload-result").inner_text()
    assert "ajoutés : 1" in result and "ignorés : 2" in result
    detail = page.locator("#upload-detail").inner_text()
    assert "plan-hydrogene.md" in detail and "non pris en charge" in detail
    assert "dépasse 100 Mo une fois décompressé" in detail  # the bomb refused, said, and the server still up
    page.wait_for_function("() => document.querySelector('#corpus-summary').innerText.includes('7')")
    assert "fichiers déposés (1 fichier)" in page.locator("#corpus-summary").inner_text()
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
    # One source opens: the cited document, every passage shown under it with its cited sentence marked.
    opened = page.locator("#brief-sources details[open]")
    quotes = opened.locator("blockquote")
    assert opened.count() == 1 and quotes.count() >= 1
    assert all(quotes.nth(i).locator("mark").count() >= 1 for i in range(quotes.count()))
    names = page.locator("#brief-files").inner_text().replace("\n", "")
    assert "note-de-synthese.md" in names and "note-de-synthese.docx" in names
    with page.expect_download() as dl:
        page.locator("#brief-files a[href$=\".docx\"]").first.click()
    from docx import Document

    docx = Document(dl.value.path())
    text = "\n".join(p.text for p in docx.paragraphs)
    assert "Note de synthèse : intelligence économique territoriale en Normandie" in text and "Sources" in text
    # Real formatting, and sources numbered as the « [n] » of the text.
    assert "**" not in text and "](#)" not in text
    assert any(r.bold for p in docx.paragraphs for r in p.runs) and any(r.italic for p in docx.paragraphs for r in p.runs)
    cited = {int(n) for n in re.findall(r"\[(\d+)\]", text.split("\nSources")[0])}
    listed = {int(n) for n in re.findall(r"^\[(\d+)\] ", text, flags=re.M)}
    assert cited and cited <= listed
    assert str(REPO) not in text and "/tmp/" not in text  # no server path
    shot(page, "11-note-de-synthese")


# --- issue 18: what a new user meets -------------------------------------------------------------------

def test_independent_questions_are_not_rewritten_a_follow_up_is(page):
    text = ask(page, "Quels sont les pôles de compétitivité normands ?")
    assert "Question comprise comme" not in text
    text = ask(page, "Qui a co-présidé le comité stratégique d'intelligence économique territoriale ?")
    assert "Question comprise comme" not in text and "Buccio" in text
    text = ask(page, "Et en 2019 ?")
    assert "Question comprise comme : Qui a co-présidé le comité stratégique" in " ".join(text.split())
    assert "en 2019" in text
    shot(page, "12-relances-comprises")


def test_one_number_per_document_and_quotes_on_the_cited_sentence(page):
    ask(page, "Qui a co-présidé le comité stratégique d'intelligence économique territoriale ?")
    group = page.locator("#sources-panel .src-group").first
    titles = group.locator("summary strong").all_text_contents()
    assert titles and len(titles) == len(set(titles)), titles  # each document once
    for source in group.locator("details.src").all():
        assert source.locator("mark").count() >= 1  # every passage shown has its cited sentence highlighted


def test_documents_tab_lists_opens_and_downloads(sized_page, tmp_path):
    page, width = sized_page, sized_page.veille_width
    page.get_by_role("tab", name="Documents").click()
    table = page.locator("#docs-table")
    table.locator("text=Intelligence territoriale").first.wait_for()
    listing = table.inner_text()
    assert "Installation du comité stratégique" in listing and "Bulletin cidricole" in listing
    assert ".txt" not in listing and "/" not in listing.replace("—", "")  # titles, never file names or paths
    page.fill("#docs-search textarea", "comite strategique")  # accents and case do not matter
    page.wait_for_function("() => document.querySelector('#docs-count').innerText.includes('comite strategique')")
    assert "Intelligence territoriale" not in table.inner_text()
    page.fill("#docs-search textarea", "")
    page.wait_for_function("() => document.querySelector('#docs-table').innerText.includes('Intelligence territoriale')")
    shot(page, f"13-documents-liste-{width}")
    table.get_by_text("Intelligence territoriale", exact=True).first.click()
    view = page.locator("#doc-view")
    view.locator("h3", has_text="Intelligence territoriale").wait_for()
    assert "Texte extrait" in view.inner_text() and "passages indexés" in view.inner_text()
    assert "qwanturank territoriale consiste" in view.inner_text()  # the full extracted text
    assert str(REPO) not in page.content() and "004_d825efe098dbc4d8" not in view.inner_text()
    assert page.evaluate("typeof window.__pwned") == "undefined"  # the hostile title stays text
    link = page.locator("#doc-download a").first
    link.wait_for()
    with page.expect_download() as dl:
        link.click()
    assert dl.value.suggested_filename == "intelligence-territoriale.txt"
    assert "Intelligence territoriale" in Path(dl.value.path()).read_text(encoding="utf-8")
    shot(page, f"14-document-ouvert-{width}")


def test_a_source_opens_its_document(page):
    ask(page, "Qu'est-ce que l'intelligence territoriale ?")
    page.locator("#chat a.cite").first.click()
    page.locator("#sources-panel details[open] a.doc-link").first.click()
    page.locator("#doc-view h3").wait_for()
    assert page.locator("#doc-view .doc-text").inner_text().strip()
    shot(page, "15-document-depuis-une-source")


def test_a_wrong_date_is_said_beside_the_field_and_mars_2019_works(sized_page):
    page, width = sized_page, sized_page.veille_width
    ask(page, "Quels sont les pôles de compétitivité normands ?")
    before = bot_messages(page).count()
    page.fill("#f-since textarea", "le mois dernier")
    page.fill("#question textarea", "Qui a co-présidé le comité stratégique ?")
    page.click("#send")
    message = page.locator("#f-dates-msg")
    message.locator("text=Date illisible").wait_for()
    assert "le mois dernier" in message.inner_text() and "mars 2019" in message.inner_text()
    # Nothing else moved: the conversation, the question typed, no error badge nor English toast.
    assert bot_messages(page).count() == before
    assert page.input_value("#question textarea") == "Qui a co-présidé le comité stratégique ?"
    assert "Error" not in page.locator("body").inner_text() and page.locator(".toast-body.error").count() == 0
    assert page.locator("#chat .error, #sources-panel .error").count() == 0
    box, field = message.bounding_box(), page.locator("#f-since").bounding_box()
    panel = page.locator("#filters-panel").bounding_box()
    assert panel["x"] <= box["x"] < panel["x"] + panel["width"] and 0 <= box["y"] - field["y"] < 260  # by the fields
    shot(page, f"16-date-illisible-{width}")
    page.fill("#f-since textarea", "mars 2019")
    page.locator("#f-until textarea").click()  # leaving the field checks it again
    page.wait_for_function("() => !document.querySelector('#f-dates-msg').innerText.includes('illisible')")
    text = ask(page, "Quelles Régions se sont portées candidates pour expérimenter le dispositif ?")
    assert "depuis le 01/03/2019" in text
    page.fill("#f-since textarea", "")


def test_gradio_speaks_french(browser, server, tmp_path):
    """Even for a browser set to English: Gradio's own strings are French (i18n), sizes in Ko."""
    context, page, errors, _outside = open_page(browser, server, WIDTHS[0], locale="en-US")
    try:
        ask(page, "Quels sont les pôles de compétitivité normands ?")
        bot_messages(page).first.hover()
        labels = page.eval_on_selector_all("#chat [aria-label]", "els => els.map(e => e.getAttribute('aria-label'))")
        assert "Copier le message" in labels and not any("Copy" in x or "'s message" in x for x in labels), labels
        assert any(x.startswith("Réponse de Veille") for x in labels), labels
        assert not any("<a " in x or "href=" in x for x in labels), labels  # read as text, not HTML
        page.get_by_role("tab", name="Corpus").click()
        upload = page.locator("#upload-files")
        assert "Cliquez pour choisir des fichiers" in upload.inner_text() and "télécharger" not in upload.inner_text()
        assert "20 Mo" in page.locator("body").inner_text() and "21 Mo" not in page.locator("body").inner_text()
        big = tmp_path / "releve.md"
        big.write_text("# Relevé\n\n" + "Une ligne du relevé de la filière. " * 400, encoding="utf-8")
        upload.locator("input[type=file]").set_input_files([str(big)])
        upload.locator("text=Ko").first.wait_for()
        assert re.search(r"\d+,\d\u00a0Ko", upload.inner_text()), upload.inner_text()
        body = page.locator("body").inner_text()
        for english in ("Copy message", "Drop File Here", "Click to Upload", " KB", "processing |", "Error"):
            assert english not in body, english
        # The empty per-file table shows its real headers, not Gradio's « 1 2 3 ».
        headers = page.locator("#upload-detail th").all_inner_texts()
        assert [h.strip() for h in headers][:3] == ["fichier", "statut", "détail"], headers
        shot(page, "17-gradio-en-francais")
        assert not errors
    finally:
        context.close()


def test_layout_sources_beside_the_answer_and_question_in_view(sized_page):
    page, width = sized_page, sized_page.veille_width
    ask(page, "Quelles actions les Régions mènent-elles en intelligence économique ?")
    chat, panel = page.locator("#chat").bounding_box(), page.locator("#sources-panel").bounding_box()
    assert panel["x"] >= chat["x"] + chat["width"] - 5, (chat, panel)  # beside, not under
    assert panel["y"] < chat["y"] + chat["height"]
    assert chat["width"] >= 360 and panel["width"] >= 240
    assert page.locator("#chat label", has_text="Conversation").count() == 0  # no label over the first line
    # The question just asked is in view at the top of the conversation, its answer under it.
    question = page.locator('#chat [data-testid="user"]').last.bounding_box()
    assert chat["y"] - 2 <= question["y"] <= chat["y"] + chat["height"] / 2, (chat, question)
    if width <= 1100:  # the filters become a band above the conversation
        filters = page.locator("#filters-panel").bounding_box()
        assert filters["y"] + filters["height"] <= chat["y"] + 5
    shot(page, f"18-mise-en-page-{width}")


def test_watch_applied_to_documents_already_there(page, app_home):
    from veille.store import get_store
    from watch.news import VISIT_GAP_S

    # This visit began after the corpus arrived (the page was opened once already): nothing arrived since it.
    get_store(app_home).begin_visit("local", time.time() + 2 * VISIT_GAP_S, VISIT_GAP_S)
    page.get_by_role("tab", name="Veilles").click()
    page.get_by_text("Ajouter ou supprimer une veille (administrateur)").click()
    page.fill("#watch-query textarea", "producteurs de cidre fermier")
    page.fill("#watch-name textarea", "Cidre")
    assert page.locator("#watch-existing input").is_checked()
    page.click("#watch-add")
    page.locator("#watch-message", has_text="Documents déjà présents").wait_for()
    assert re.search(r"Documents déjà présents : [1-9]\d* documents? pertinents?", page.locator("#watch-message")
                     .inner_text())
    board = page.locator("#watches-news")
    board.locator("text=Bulletin cidricole").first.wait_for()
    assert "producteurs" in board.inner_text() and "non lu" in board.inner_text()
    # Nothing arrived since the visit, yet the panel above does not say « Rien de nouveau » over unread findings.
    above = page.locator("#watches-since-visit")
    above.locator("text=non lu").wait_for()
    assert "Rien de nouveau" not in above.inner_text() and "résultat" in above.inner_text(), above.inner_text()
    shot(page, "19-veille-sur-l-existant")


ENGLISH_NAMES = re.compile(r"^(Textbox|Dropdown|Checkbox|Radio|Number|Slider|File|Button|Remove.*|Close|Clear|"
                           r"Upload.*|Download.*|Copy.*|Submit|Search.*)$")


def test_every_field_has_a_french_name_and_tables_their_headers(page):
    """Screen readers name each field from its label: no « Textbox » (Gradio's default) nor an unnamed field on any
    tab; the Entités table shows its headers before « Afficher » is clicked (not Gradio's « 1 2 3 »)."""
    roles = re.compile(r'^\s*- (textbox|combobox|checkbox|radio|spinbutton|searchbox|slider)(?: "([^"]*)")?', re.M)
    for tab in ("Questions", "Note de synthèse", "Veilles", "Bulletin", "Entités", "Documents", "Corpus"):
        page.get_by_role("tab", name=tab).click()
        if tab == "Veilles":  # its fields are in a closed accordion
            page.get_by_text("Ajouter ou supprimer une veille (administrateur)").click()
        time.sleep(1)
        fields = roles.findall(page.locator(".tabitem:visible, [role=tabpanel]:visible").first.aria_snapshot())
        assert fields or tab == "Corpus", tab  # the Corpus tab has only buttons and a file drop
        unnamed = [role for role, name in fields if not name.strip()]
        english = [name for _role, name in fields if ENGLISH_NAMES.match(name.strip())]
        assert not unnamed and not english, (tab, fields)
        if tab == "Questions":
            assert page.get_by_role("textbox", name="Votre question").count() == 1
        if tab == "Entités":
            headers = [h.strip() for h in page.locator("#entities-table th").all_inner_texts()]
            assert headers[:4] == ["entité", "type", "documents", "mentions"], headers
            shot(page, "20-entites-en-tetes")
