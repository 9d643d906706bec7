"""The Documents tab says where a date comes from and corrects it, in headless Chromium (as tests/test_ui_browser.py:
Debian's chromium driven by Playwright, the app in this process on a loopback port, the real e5 model)."""
from __future__ import annotations

from pathlib import Path

import pytest
from conftest import REPO, free_port

CHROMIUM = Path("/usr/bin/chromium")
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync"]
ARTIFACTS = REPO / "tests" / "artifacts"

pytestmark = pytest.mark.skipif(not CHROMIUM.exists(), reason="/usr/bin/chromium absent (apt-get install chromium)")


def test_documents_tab_shows_the_evidence_and_corrects_the_date(tmp_path, models_dir, embedder):
    from odf.opendocument import OpenDocumentText
    from odf.text import P
    from playwright.sync_api import sync_playwright

    from assistant.service import Assistant
    from ingestion.pipeline import Ingestor
    from veille.config import Settings
    from veille.store import get_store
    from webui.serve import start

    folder = tmp_path / "notes"
    folder.mkdir()
    doc = OpenDocumentText()  # odfpy writes no date: the one at the head of the text is the evidence
    for line in ("Rouen, le 12 décembre 2025", "Note sur la filière laitière",
                 "La collecte de lait normande recule et les coopératives laitières investissent dans le fromage."):
        doc.text.addElement(P(text=line))
    doc.save(str(folder / "laitiere.odt"))
    settings = Settings(home=tmp_path / "home", models_path=models_dir)
    Ingestor(settings, embedder=embedder, progress=False).ingest_paths([folder])
    port = free_port()
    app = start("127.0.0.1", port, settings=settings, assistant=Assistant(settings, embedder=embedder),
                block=False, warm=True, say=lambda *_: None)
    try:
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
            page = browser.new_page(viewport={"width": 1400, "height": 1000}, locale="fr-FR")
            page.set_default_timeout(90_000)
            errors: list[str] = []
            page.on("pageerror", lambda exc: errors.append(str(exc)))
            page.goto(f"http://127.0.0.1:{port}")
            page.get_by_role("tab", name="Documents").click()
            page.locator("#docs-table").locator("text=Rouen, le 12 décembre 2025 >> visible=true").first.click()
            view = page.locator("#doc-view")
            view.locator("text=12 décembre 2025 (date lue dans le texte)").wait_for()
            assert page.locator("#doc-date textarea, #doc-date input").first.input_value() == "2025-12-12"

            field = page.locator("#doc-date textarea, #doc-date input").first
            field.fill("bientôt")
            page.locator("#doc-date-save").click()
            page.locator("#doc-date-note", has_text="Date illisible : « bientôt »").wait_for()
            assert "12 décembre 2025 (date lue dans le texte)" in view.inner_text()

            field.fill("1er décembre 2025")
            page.locator("#doc-date-save").click()
            view.locator("text=1 décembre 2025 (date donnée par une personne)").wait_for()
            assert "Date enregistrée" in page.locator("#doc-date-note").inner_text()
            page.locator("#docs-table").locator("text=2025-12-01 >> visible=true").first.wait_for()  # the list too
            ARTIFACTS.mkdir(parents=True, exist_ok=True)
            page.screenshot(path=str(ARTIFACTS / "20-date-corrigee.png"), full_page=True)
            assert not errors, errors
            browser.close()
    finally:
        app.close()
    store = get_store(settings)
    (doc_id,) = {d for _, d in store.source_documents()}
    assert store.dating(doc_id) == ("2025-12-01", "user")
