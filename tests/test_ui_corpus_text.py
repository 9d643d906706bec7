"""Corpus text is shown as text in every tab (issue 17, defects 3, 4 and 8).

A document is untrusted: its Markdown (``![logo [Bessin]](http://…/pixel.png)``, a form the ingestion clean-up
leaves in place: a request to an outside host when the page is shown; ``[rapport [annuel]](http://…)``), its HTML and every field it controls through a sidecar (title, site, author,
source, filières, tags) must read as the same text and never become an element, an image or a link. Checked
over a real store (real e5 model), function by function for every tab, then in headless Chromium with every
request leaving the app's origin logged — the « pixel » is a real HTTP server on loopback that counts its hits.
"""
from __future__ import annotations

import json
import time
from html.parser import HTMLParser
from pathlib import Path

import pytest
from conftest import LoopbackSite, free_port

CHROMIUM = Path("/usr/bin/chromium")
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync"]

PAYLOAD = "<img src=x onerror=alert(1)>"
HOSTILE_FIELDS = ("title", "site", "author", "source")

PIXEL_DOC = """Coopérative laitière du Bessin

La coopérative laitière du Bessin collecte 120 millions de litres de lait par an ![logo [Bessin]]({pixel}/pixel.png?fuite=1) \
selon son [rapport [annuel]]({pixel}/lien) publié sur https://www.exemple.fr/plan_lait-2026 (contact@exemple.fr).

La coopérative laitière du Bessin emploie 85 salariés à Isigny-sur-Mer et transforme le lait en beurre AOP.
"""

HOSTILE_DOC = """Le port de Cherbourg accueille chaque année 45 escales de paquebots de croisière.
Les escales de paquebots au port de Cherbourg attirent 60 000 passagers selon la chambre de commerce.
Le port de Cherbourg développe aussi les énergies marines renouvelables avec les éoliennes en mer.
"""

SLASH_DOC = """Le salon de l'agriculture de Caen a réuni 300 exposants normands au printemps 2024.
Les exposants du salon de l'agriculture de Caen venaient de toute la Normandie.
"""

LATE_DOC = """Le festival du cinéma nordique de Rouen a accueilli 25 000 spectateurs en 2024.
"""


class Page(HTMLParser):
    """The elements and the text of an HTML fragment, as a browser would build them."""

    def __init__(self, fragment: str):
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, dict]] = []
        self.chunks: list[str] = []
        self.feed(fragment)
        self.close()

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))

    def handle_data(self, data):
        self.chunks.append(data)

    @property
    def text(self) -> str:
        return "".join(self.chunks)


def markdown_html(markdown: str) -> str:
    """Markdown rendered by CommonMark with raw HTML allowed: HTML left unescaped would show as elements."""
    from markdown_it import MarkdownIt

    return MarkdownIt("commonmark").render(markdown)


def assert_text_only(fragment: str, *literal: str, where: str = "") -> Page:
    """No element a document could have brought (image, script, handler, outside link); ``literal`` shown."""
    page = Page(fragment)
    bad = [(t, a) for t, a in page.tags if t in ("img", "script", "iframe", "object", "embed", "svg", "style")
           or any(k.startswith("on") for k in a)
           or (t == "a" and not (a.get("href") or "").startswith("#") and "exemple.fr" in (a.get("href") or ""))
           or (t == "a" and "127.0.0.1" in (a.get("href") or ""))]
    assert not bad, f"{where} : élément venu du document : {bad}"
    for text in literal:
        assert text in page.text, f"{where} : « {text} » absent du texte affiché : {page.text[:600]!r}"
    return page


@pytest.fixture(scope="module")
def pixel():
    """A loopback site standing for an outside host: every request it gets (``hits``) is a leak."""
    site = LoopbackSite()
    site.url, site.hits = f"http://127.0.0.1:{site.port}", site.log
    yield site
    site.close()


@pytest.fixture(scope="module")
def hostile_home(tmp_path_factory, models_dir, embedder, pixel):
    from ingestion.pipeline import Ingestor
    from veille.config import Settings

    root = tmp_path_factory.mktemp("corpus-text")
    corpus = root / "srv" / "in"
    corpus.mkdir(parents=True)
    (corpus / "laiterie.txt").write_text(PIXEL_DOC.format(pixel=pixel.url), encoding="utf-8")
    (corpus / "port.txt").write_text(HOSTILE_DOC, encoding="utf-8")
    meta = {k: PAYLOAD for k in HOSTILE_FIELDS}
    meta.update(filieres=[PAYLOAD], tags=[PAYLOAD], doc_type="article", date="2024-05-02")
    (corpus / "port.txt.meta.json").write_text(json.dumps(meta), encoding="utf-8")
    (corpus / "salon.txt").write_text(SLASH_DOC, encoding="utf-8")
    (corpus / "salon.txt.meta.json").write_text(json.dumps({"title": "Salon de Caen", "site": "Presse/Normandie",
                                                            "date": "2024-04-10", "doc_type": "article"}),
                                                encoding="utf-8")
    settings = Settings(home=root / "home", models_path=models_dir)
    report = Ingestor(settings, embedder=embedder, progress=False).ingest_paths([corpus])
    assert report.count("added") == 3, report.as_dict()
    return settings


def server_root(settings) -> str:
    """The folder holding the corpus and the data: no path under it may reach a user."""
    return str(settings.home.parent)


@pytest.fixture(scope="module")
def assistant(hostile_home, embedder):
    from assistant.service import Assistant

    return Assistant(hostile_home, embedder=embedder)


@pytest.fixture(scope="module")
def ctx(assistant, hostile_home):
    from webui.context import UIContext

    return UIContext.create(assistant, hostile_home)


# --- the Markdown Veille writes ----------------------------------------------------------------------

HOSTILE_TEXTS = ["![x](http://127.0.0.1:9/pixel.png?fuite=1)", "![logo [a]](http://127.0.0.1:9/p.png)", "[lien](http://evil.example/)", PAYLOAD,
                 "**gras** _it_ `code` # titre", "- puce", "1. liste", "https://www.exemple.fr/a_b-c(d)",
                 "www.exemple.fr", "contact@exemple.fr", "a &amp; b &lt;c&gt;", "x\\y [3] ~~barré~~ | t |",
                 "$x^2$ et $$y$$", "[lien][1]", "<http://127.0.0.1:9/auto>", "\\(a\\) {b} +c !d =e"]


@pytest.mark.parametrize("text", HOSTILE_TEXTS)
def test_literal_markdown_renders_as_the_same_text(text):
    from veille.markup import md_literal, md_unescape

    html = markdown_html(md_literal(text))
    page = assert_text_only(html)
    assert not page.tags or [t for t, _ in page.tags] == ["p"], html
    assert page.text.strip() == text, html
    assert md_unescape(md_literal(text)) == text  # the Word export writes the text back


def test_lines_kept_never_make_a_heading_a_list_or_a_block_of_the_text():
    from veille.markup import md_literal

    text = "Titre\n---\nAutre\n===\n> cité\n    code\n- puce\n```\n<script>x</script>"
    html = markdown_html(md_literal(text, lines=True))
    page = assert_text_only(html)
    assert [t for t, _ in page.tags] == ["p"], html
    assert page.text.split() == text.split()


def test_a_documents_text_never_injects_a_link_an_image_or_html_into_the_chat():
    """The chat's answer, its partial (streamed) form and its bold answer words: a document's sentence with
    Markdown and HTML reads as the same text, with only Veille's own « [n] » links."""
    from assistant.answering.answer import Answer
    from webui.chat import render_answer, render_partial

    sentence = ("Voir ![x](http://127.0.0.1:9/p.png) et [le guide](http://evil.example/) **gras** "
                + PAYLOAD + " <a href='http://evil.example/'>ici</a> $x$")
    answer = Answer("Question ?", sentence + " [1]\n" + sentence + " [2]", refused=False,
                    span={"start": 5, "end": 12, "text": sentence[5:12]})
    for shown in (render_answer(answer, 0, "extractif"), render_partial(answer.answer, 0)):
        html = markdown_html(shown)
        page = assert_text_only(html, sentence, where="chat")
        links = [a.get("href") for t, a in page.tags if t == "a"]
        assert links == ["#" + href.split("#", 1)[1] for href in links] and len(links) == 2, html
        assert not [t for t, _ in page.tags if t not in ("p", "a", "strong", "small", "br")], html


def test_a_site_name_with_a_slash_reads_whole_a_server_path_by_its_file_name():
    from veille.filters import Filters

    assert Filters(sources=["Presse/Normandie"]).describe() == "source : Presse/Normandie"
    assert Filters(sources=["/srv/veille/in/port.md", "C:\\veille\\in\\note.txt"]).describe() == \
        "source : port.md, note.txt"


def test_the_word_export_keeps_corpus_marks_as_text(tmp_path):
    from docx import Document

    from veille.markup import md_literal
    from webui.docx_export import markdown_to_docx

    line = md_literal("Voir [le guide](http://evil.example/) et **le kit** ![x](http://127.0.0.1:9/p.png)")
    path = markdown_to_docx(f"# Note\n\n- {line} [1]\n", tmp_path / "n.docx")
    doc = Document(str(path))
    text = "\n".join(p.text for p in doc.paragraphs)
    assert "Voir [le guide](http://evil.example/) et **le kit** ![x](http://127.0.0.1:9/p.png) [1]" in text
    assert "Liens" not in text and not any(r.bold for p in doc.paragraphs[1:] for r in p.runs)


# --- every tab, function by function -------------------------------------------------------------------

def test_every_tab_shows_what_a_document_controls_as_text(assistant, ctx, hostile_home):
    from assistant.conversation.session import Conversation
    from veille.filters import Filters
    from watch.brief import make_brief
    from watch.bulletin import build_bulletin
    from watch.bulletin_render import to_html, to_markdown
    from watch.watches import add_watch, apply_to_existing
    from webui.briefing import note_for_display, note_sources
    from webui.bulletin import review_html
    from webui.chat import conversation_markdown, filter_choices, render_answer
    from webui.corpus import corpus_stats
    from webui.documents import list_documents, render_document, table
    from webui.entities import timeline_html
    from webui.sources import render_sources
    from webui.watches import render_news

    root = server_root(hostile_home)

    # Questions: the answer, its sources, the export; a refusal naming the hostile source in its filters.
    conv = Conversation()
    answer = conv.ask(assistant, "Combien d'escales de paquebots accueille le port de Cherbourg ?")
    assert not answer.refused and answer.citations, answer
    assert_text_only(markdown_html(render_answer(answer, 0, "extractif")), "45 escales", where="réponse")
    panel = render_sources([answer])
    assert_text_only(panel, PAYLOAD, where="sources")
    exported = conversation_markdown(conv, "extractif")
    assert_text_only(markdown_html(exported), PAYLOAD, where="export de la conversation")
    refused = assistant.ask("Quel temps fera-t-il à Tokyo demain ?", Filters(sources=[PAYLOAD]))
    assert refused.refused
    assert_text_only(markdown_html(render_answer(refused, 1, "extractif")), PAYLOAD, where="refus")
    for html in (panel, exported):
        assert root not in html, "chemin du serveur montré"

    # The filter pickers: the site as it is, a local file by its title, never a server path.
    choices = filter_choices(assistant.store)
    labels = [label for label, _ in choices["sources"]]
    assert PAYLOAD in labels and "Presse/Normandie" in labels, labels
    assert not any(root in label for label in labels), labels

    # Note de synthèse: the note (Markdown as shown and as downloaded) and its sources.
    briefing = make_brief(assistant, "escales de paquebots au port de Cherbourg")
    assert not briefing.empty
    note = briefing.markdown()
    assert_text_only(markdown_html(note_for_display(note)), PAYLOAD, where="note de synthèse")
    assert_text_only(note_sources(briefing), PAYLOAD, where="sources de la note")
    assert root not in note + note_sources(briefing)
    pixel_note = make_brief(assistant, "lait collecté par la coopérative laitière du Bessin").markdown()
    shown = assert_text_only(markdown_html(note_for_display(pixel_note)), where="note (image)")
    assert "![logo [Bessin]](http://127.0.0.1:" in shown.text and "[rapport [annuel]](http://127.0.0.1:" in shown.text
    assert root not in pixel_note

    # Documents: the list and the document page.
    docs = list_documents(assistant.store, None)
    hostile = next(d for d in docs if d.get("title") == PAYLOAD)
    rows = table(docs).astype(str).values.tolist()
    assert any(PAYLOAD in row for row in rows), rows
    assert_text_only(render_document(assistant.store, hostile), PAYLOAD, f"auteur : {PAYLOAD}",
                     where="document")

    # Corpus: the statistics by source name the hostile site as text (a Dataframe cell).
    assert PAYLOAD in corpus_stats(assistant.store)["by_source"]["source"].tolist()

    # Veilles: a watch finding the hostile document.
    watch = add_watch("escales de paquebots à Cherbourg", name=f"veille {PAYLOAD}", settings=hostile_home)
    assert apply_to_existing(watch, hostile_home, assistant=assistant)
    assert_text_only(render_news(ctx), PAYLOAD, where="veilles")

    # Bulletin: the review board, the Markdown and the e-mail HTML.
    b = build_bulletin(assistant, "2024", [f"Ports {PAYLOAD}: port, Cherbourg, paquebots"], Filters())
    assert b.item_count >= 1
    assert_text_only(review_html(b), PAYLOAD, where="bulletin (revue)")
    assert_text_only(markdown_html(to_markdown(b)), PAYLOAD, where="bulletin (Markdown)")
    assert_text_only(to_html(b), PAYLOAD, where="bulletin (HTML)")

    # Entités: a timeline (or the « unknown name » message) is escaped either way.
    assert_text_only(timeline_html(ctx, "Cherbourg"), where="entités")
    assert_text_only(timeline_html(ctx, PAYLOAD), where="entités (nom inconnu)")


# --- in the browser ------------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def server(hostile_home, assistant):
    from webui.serve import start

    port = free_port()
    app = start("127.0.0.1", port, settings=hostile_home, assistant=assistant, block=False, warm=True,
                say=lambda *_: None)
    yield f"http://127.0.0.1:{port}", app
    app.close()


def source_options(page) -> list[str]:
    """The labels the « Source / site » picker offers."""
    page.click("#f-sources input")
    page.wait_for_selector("[role=option]")
    options = page.locator("[role=option]").all_inner_texts()
    page.keyboard.press("Escape")
    return options


def test_public_description_holds_no_server_path(server, hostile_home):
    import httpx

    root = server_root(hostile_home)
    for path in ("/gradio_api/info", "/config"):
        body = httpx.get(server[0] + path, timeout=30).text
        assert root not in body and "laiterie.txt" not in body, f"{path} montre un chemin du serveur"


@pytest.mark.skipif(not CHROMIUM.exists(), reason="/usr/bin/chromium absent (apt-get install chromium)")
def test_in_chromium_nothing_leaves_the_page_and_hostile_fields_read_as_text(server, pixel, hostile_home, assistant,
                                                                               embedder, tmp_path):
    from playwright.sync_api import sync_playwright

    from ingestion.pipeline import Ingestor

    origin = server[0]
    outside: list[str] = []
    errors: list[str] = []
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        page = browser.new_context(viewport={"width": 1400, "height": 1000}, locale="fr-FR").new_page()
        page.set_default_timeout(90_000)
        page.on("request", lambda r: None if r.url.startswith((origin + "/", "data:", "blob:")) or r.url == origin
                else outside.append(r.url))
        page.on("pageerror", lambda exc: errors.append(str(exc)))
        page.goto(origin)
        page.wait_for_selector("#question textarea")

        # Questions: the pixel sentence, its addresses as text (no link, no « %5C »), its source.
        page.fill("#question textarea", "Combien de litres de lait collecte la coopérative laitière du Bessin ?")
        page.click("#send")
        page.wait_for_function("""() => { const m = document.querySelectorAll('#chat [data-testid="bot"]');
            return m.length && m[m.length - 1].innerText.includes('Mode') && !m[m.length - 1].innerText.includes('▌'); }""")
        bot = page.locator('#chat [data-testid="bot"]').last
        said = bot.inner_text()
        assert "120 millions de litres" in said
        assert f"![logo [Bessin]]({pixel.url}/pixel.png?fuite=1)" in said
        assert f"[rapport [annuel]]({pixel.url}/lien)" in said
        assert "https://www.exemple.fr/plan_lait-2026" in said and "contact@exemple.fr" in said
        links = bot.locator("a").evaluate_all("els => els.map(a => a.getAttribute('href'))")
        assert all(h.startswith("#src-") for h in links), links  # only Veille's own [n] marks are links
        page.locator("#chat a.cite").first.click()
        assert f"![logo [Bessin]]({pixel.url}/pixel.png?fuite=1)" in page.locator("#sources-panel").inner_text()
        assert server_root(hostile_home) not in page.locator("#sources-panel").inner_text()

        # The source filter: the hostile site and « Presse/Normandie » as they are.
        options = source_options(page)
        assert any(PAYLOAD in o for o in options) and any("Presse/Normandie" in o for o in options), options

        # Note de synthèse: the image is text, nothing is fetched; the only links are the [n] marks.
        page.get_by_role("tab", name="Note de synthèse").click()
        page.fill("#brief-topic textarea", "lait collecté par la coopérative laitière du Bessin")
        page.click("#brief-go")
        page.wait_for_selector("#brief-files a")
        note = page.locator("#brief-note")
        assert "pixel.png?fuite=1" in note.inner_text() and note.locator("img").count() == 0
        hrefs = note.locator("a").evaluate_all("els => els.map(a => a.getAttribute('href'))")
        assert hrefs and all(h.startswith("#src-note-") for h in hrefs), hrefs

        # Documents and Corpus tabs: the hostile fields as text.
        page.get_by_role("tab", name="Documents").click()
        page.wait_for_function("() => document.querySelector('#docs-table').innerText.includes('<img src=x')")
        page.locator("#docs-table").get_by_text(PAYLOAD, exact=True).locator("visible=true").first.click()
        page.wait_for_function("() => document.querySelector('#doc-view').innerText.includes('auteur : <img')")
        page.get_by_role("tab", name="Corpus").click()
        page.wait_for_function("() => document.querySelector('#corpus-sources').innerText.includes('<img src=x')")

        # A source ingested while the server runs shows in the filter on coming back to the chat tab.
        late = tmp_path / "cinema.txt"
        late.write_text(LATE_DOC, encoding="utf-8")
        (tmp_path / "cinema.txt.meta.json").write_text(json.dumps({"site": "Cinéma/Rouen"}), encoding="utf-8")
        Ingestor(hostile_home, store=assistant.store, embedder=embedder, progress=False).ingest_paths([late])
        page.get_by_role("tab", name="Questions").click()
        time.sleep(2)
        options = source_options(page)
        assert any("Cinéma/Rouen" in o for o in options), options

        time.sleep(1)
        assert page.evaluate("document.querySelectorAll('img[src=\"x\"], img[src*=\"pixel\"]').length") == 0
        browser.close()
    assert not outside, f"requêtes hors de l'application : {outside}"
    assert not pixel.hits, f"le « pixel » a été demandé : {pixel.hits}"
    assert not errors, f"erreurs JavaScript : {errors}"
