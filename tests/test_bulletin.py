"""The bulletin, built by the real CLI over a real store: per rubrique the period's items, one per cluster with
« repris par N sources », cited key sentences and entities; only what its audience may see; HTML for e-mail that
Chromium shows with every network request blocked and no script; DOCX and Markdown; drafts built together."""
from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import pytest
from conftest import REPO, veille

CHROMIUM = Path("/usr/bin/chromium")
ARTIFACTS = REPO / "tests" / "artifacts"

CYBER = """---
title: 'Rançongiciels : les PME normandes ciblées <img src=x onerror="window.__pwned=1">'
doc_type: article
date: 2026-08-10
url: https://actu-normandie.example/rancongiciels-pme
site: actu-normandie.example
---
# Rançongiciels : les PME normandes ciblées

Une vague de rançongiciels a touché quarante PME normandes au cours de l'été, selon la CCI Normandie.
L'ANSSI recommande des sauvegardes hors ligne et un plan de reprise testé chaque trimestre.
<script>window.__pwned = 2</script> Voir [le guide](javascript:alert(3)) et **le kit** de la CCI Normandie.
Les entreprises touchées ont perdu en moyenne douze jours de production avant de redémarrer leurs systèmes.
"""

COPY_HEADER = "Accueil > Économie > Numérique\nPublié le 12/08/2026 · Partager : Facebook LinkedIn\n\n"
COPY_FOOTER = "\n\nLire aussi : nos dossiers cybersécurité\n© 2026 Le Courrier normand — Mentions légales\n"

PARTNERS = """---
title: Note aux partenaires sur les rançongiciels
doc_type: bulletin
date: 2026-07-20
audience: [partenaires]
---
# Note réservée aux partenaires

Le groupe de rançongiciel Ragnarok a visé trois sous-traitants aéronautiques de la vallée de la Seine en juillet.
Les sous-traitants visés ont reçu une demande de rançon de deux millions d'euros chacun selon la gendarmerie.
"""

AI = """---
title: L'intelligence artificielle gagne les ateliers normands
doc_type: article
date: 2026-09-01
---
# L'intelligence artificielle gagne les ateliers normands

Un tiers des industriels normands testent l'intelligence artificielle pour la maintenance prédictive, selon AD Normandie.
Les projets d'intelligence artificielle les plus avancés concernent le contrôle qualité par vision sur les lignes.
"""

OLD = """---
title: Rançongiciels en 2025
doc_type: article
date: 2025-02-01
---
Les rançongiciels ont coûté cher aux collectivités normandes en 2025, selon un rapport de la préfecture.
Une commune normande a payé une rançon après le chiffrement de ses serveurs en janvier 2025.
"""

RUBRIQUES = ["--rubrique", "Cybersécurité: cybersécurité, rançongiciel", "--rubrique",
             "Intelligence artificielle: IA, intelligence artificielle", "--rubrique", "Blockchain: blockchain"]


@pytest.fixture(scope="module")
def bulletin_home(tmp_path_factory, models_dir, embedder):
    from ingestion.pipeline import Ingestor
    from veille.config import Settings

    root = tmp_path_factory.mktemp("bulletin")
    corpus = root / "corpus"
    corpus.mkdir()
    (corpus / "cyber.md").write_text(CYBER, encoding="utf-8")
    body = CYBER.split("---\n", 2)[2].replace("au cours de l'été", "cet été")
    (corpus / "cyber-reprise.md").write_text(
        "---\ntitle: Les PME normandes face aux rançongiciels\ndoc_type: article\ndate: 2026-08-12\n"
        "url: https://courrier-normand.example/pme-rancon\nsite: courrier-normand.example\n---\n"
        + COPY_HEADER + body + COPY_FOOTER, encoding="utf-8")
    (corpus / "partenaires.md").write_text(PARTNERS, encoding="utf-8")
    (corpus / "ia.md").write_text(AI, encoding="utf-8")
    (corpus / "ancien.md").write_text(OLD, encoding="utf-8")
    shutil.copy(REPO / "corpus" / "003_bf5e1784fceaf955.txt", corpus / "presse-2017.txt")
    settings = Settings(home=root / "home", models_path=models_dir)
    report = Ingestor(settings, embedder=embedder, progress=False).ingest_paths([corpus])
    assert report.count("added") == 6, report.as_dict()
    return settings, root


def _env(env, settings):
    return {**env, "VEILLE_HOME": str(settings.home)}


def test_email_html_bulletin_one_item_per_cluster(bulletin_home, env):
    settings, root = bulletin_home
    out = root / "bulletin.html"
    res = veille("bulletin", "--periode", "2026-T3", *RUBRIQUES, "--introduction", "Un été <b>chargé</b>.",
                 "-o", str(out), env=_env(env, settings))
    assert res.returncode == 0, res.stderr
    page = out.read_text(encoding="utf-8")
    text = " ".join(re.sub(r"<[^>]+>", " ", page).split())
    # Per rubrique, in the order given; the copy folded into its original with the number of sources.
    assert text.index("Cybersécurité") < text.index("Intelligence artificielle") < text.index("Blockchain")
    cyber = text[text.index("Cybersécurité"):text.index("Intelligence artificielle")]
    assert cyber.count("PME normandes") >= 1 and "repris par 2 sources" in cyber
    assert cyber.count("Rançongiciels : les PME normandes ciblées") + cyber.count("face aux rançongiciels") == 2
    assert "Ragnarok" in cyber  # the local operator sees the partners' note
    assert "2025" not in cyber  # outside the period
    assert "quarante PME normandes" in cyber and "[1]" in cyber  # a cited key sentence
    assert "CCI Normandie" in cyber and "ANSSI" in cyber  # its entities
    assert "AD Normandie" in text and "maintenance prédictive" in text
    assert "Aucun document de la période ne correspond à cette rubrique (termes : blockchain)" in text
    assert "Un été &lt;b&gt;chargé&lt;/b&gt;." in page and "tout le corpus" in text
    # Ready for e-mail: inline styles only, nothing to fetch, no script; corpus text escaped, links http(s).
    assert "<script" not in page and "<style" not in page and "<link" not in page and "<img" not in page
    assert 'href="javascript' not in page and "onerror=\"" not in page
    assert "&lt;img src=x onerror=" in page
    assert set(re.findall(r'href="([a-z]+):', page)) <= {"https", "http"}
    assert 'style="' in page and not re.search(r"<[^>]+\ssrc=", page)


@pytest.mark.skipif(not CHROMIUM.exists(), reason="/usr/bin/chromium absent (apt-get install chromium)")
def test_bulletin_reads_in_chromium_offline_without_script(bulletin_home, env):
    from playwright.sync_api import sync_playwright

    settings, root = bulletin_home
    out = root / "bulletin-offline.html"
    res = veille("bulletin", "--periode", "2026-T3", *RUBRIQUES, "-o", str(out), env=_env(env, settings))
    assert res.returncode == 0, res.stderr
    requests = []
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=["--headless", "--no-sandbox", "--disable-gpu"])
        context = browser.new_context(java_script_enabled=False)
        page = context.new_page()

        def block(route):
            requests.append(route.request.url)
            if route.request.url == out.as_uri():
                route.continue_()
            else:
                route.abort()

        page.route("**/*", block)
        page.goto(out.as_uri())
        body = page.inner_text("body")
        ARTIFACTS.mkdir(exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / "bulletin-offline.png"), full_page=True)
        browser.close()
    assert requests == [out.as_uri()]  # the page asked for nothing else
    assert "Cybersécurité" in body and "repris par 2 sources" in body and "quarante PME normandes" in body
    assert '<img src=x onerror="window.__pwned=1">' in body  # shown as text, not run


@pytest.mark.skipif(not CHROMIUM.exists(), reason="/usr/bin/chromium absent (apt-get install chromium)")
def test_bulletin_tab_review_pin_drop_comment_export(bulletin_home, embedder):
    """The « Bulletin » tab of the app ``veille serve`` builds (before any account exists: no login)."""
    from conftest import free_port
    from playwright.sync_api import sync_playwright

    from assistant.service import Assistant
    from veille.store import get_store
    from webui.serve import start

    settings, root = bulletin_home
    port = free_port()
    app = start("127.0.0.1", port, settings=settings, assistant=Assistant(settings, embedder=embedder), block=False,
                warm=True, say=lambda *_: None)
    outside: list[str] = []
    try:
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=str(CHROMIUM), args=["--headless", "--no-sandbox",
                                                                              "--disable-gpu"])
            page = browser.new_page(viewport={"width": 1400, "height": 1000})
            page.set_default_timeout(90_000)
            page.on("request", lambda r: outside.append(r.url)
                    if not r.url.startswith(("http://127.0.0.1", "data:", "blob:")) else None)
            page.goto(f"http://127.0.0.1:{port}/")
            page.get_by_role("tab", name="Bulletin").click()
            page.fill("#bulletin-name input, #bulletin-name textarea", "bulletin-ui")
            page.fill("#bulletin-period input, #bulletin-period textarea", "2026-T3")
            page.fill("#bulletin-rubriques textarea", "Cybersécurité: cybersécurité, rançongiciel")
            page.click("#bulletin-propose")
            page.wait_for_function("() => /repris par 2 sources/.test(document.querySelector('#bulletin-review')"
                                   ".innerText)")
            review = page.inner_text("#bulletin-review")
            assert "Ragnarok" in review and "quarante PME normandes" in review

            def select(fragment: str) -> None:
                page.click("#bulletin-item input")
                page.get_by_role("option", name=re.compile(fragment)).first.click()

            select("Note aux partenaires")
            page.click("#bulletin-drop")
            page.wait_for_function("() => /\\[écarté\\]/.test(document.querySelector('#bulletin-review').innerText)")
            select("rançongiciels")
            page.fill("#bulletin-comment textarea", "À diffuser aux CCI.")
            page.click("#bulletin-save-comment")
            page.wait_for_function("() => /Commentaire \\(local\\) : À diffuser aux CCI/.test("
                                   "document.querySelector('#bulletin-review').innerText)")
            page.click("#bulletin-export")
            page.wait_for_selector("#bulletin-files a", state="attached")
            names = "".join(page.locator("#bulletin-files").inner_text().split())
            ARTIFACTS.mkdir(exist_ok=True)
            page.screenshot(path=str(ARTIFACTS / "bulletin-tab.png"), full_page=True)
            # The « Entités » tab: the most mentioned, their trend, one entity's timeline.
            page.get_by_role("tab", name="Entités").click()
            page.click("#entities-show")
            page.wait_for_function("() => /CCI Normandie/.test(document.querySelector('#entities-table').innerText)")
            page.fill("#entity-name textarea, #entity-name input", "CCI Normandy")
            page.click("#entity-go")
            page.wait_for_function("() => /Noms proches/.test(document.querySelector('#entity-timeline').innerText)")
            page.fill("#entity-name textarea, #entity-name input", "CCI Normandie")
            page.click("#entity-go")
            page.wait_for_function("() => /quarante PME normandes/.test(document.querySelector('#entity-timeline')"
                                   ".innerText)")
            page.screenshot(path=str(ARTIFACTS / "entities-tab.png"), full_page=True)
            browser.close()
    finally:
        app.close()
    assert not outside, outside
    assert "bulletin-ui.html" in names and "bulletin-ui.docx" in names and "bulletin-ui.md" in names
    store = get_store(settings)
    rows = store.bulletin_items(store.bulletin_row("bulletin-ui")["id"])
    assert {(r["choice"], r["comment"], r["author"]) for r in rows.values()} >= {("dropped", "", "local")}
    assert any(r["comment"] == "À diffuser aux CCI." for r in rows.values())


def test_bulletin_is_built_from_what_its_audience_may_see(bulletin_home, env):
    settings, root = bulletin_home
    e = _env(env, settings)
    res = veille("users", "add", "claire", "--role", "entreprise", "--filiere", "agroalimentaire",
                 "--password-stdin", input="motdepasse-claire-2026\n", env=e)
    assert res.returncode == 0, res.stderr
    res = veille("bulletin", "--periode", "2026-T3", *RUBRIQUES, "--as", "claire", env=e)
    assert res.returncode == 0, res.stderr
    assert "quarante PME normandes" in res.stdout and "compte « claire »" in res.stdout
    assert "Ragnarok" not in res.stdout and "partenaires" not in res.stdout.split("Audience")[0]
    assert "Note aux partenaires" not in res.stdout
    # An audience that sees nothing of the period: said in the bulletin, not an error.
    res = veille("bulletin", "--periode", "2026-T3", *RUBRIQUES, "--as", "claire", "--filiere", "agroalimentaire",
                 env=e)
    assert res.returncode == 0, res.stderr
    assert "Aucun document consultable n'est paru sur la période" in res.stdout


def test_docx_and_markdown_exports(bulletin_home, env):
    from docx import Document

    settings, root = bulletin_home
    e = _env(env, settings)
    res = veille("bulletin", "--periode", "2026-08", "--rubrique", "Cybersécurité: rançongiciel",
                 "-o", str(root / "b.docx"), env=e)
    assert res.returncode == 0, res.stderr
    doc = Document(str(root / "b.docx"))
    headings = [p.text for p in doc.paragraphs if p.style.name.startswith("Heading")]
    assert "Cybersécurité" in headings and "Sources" in headings
    assert any("quarante PME normandes" in p.text for p in doc.paragraphs)
    res = veille("bulletin", "--periode", "2026-08", "--rubrique", "Cybersécurité: rançongiciel", env=e)
    assert res.returncode == 0
    md = res.stdout
    assert r"\<img src\=x onerror\=" in md and not re.search(r"(?<!\\)<img", md)  # never rendered as HTML
    assert "# Bulletin de veille — août 2026" in md
    # Bad input: French errors, exit 2, nothing written.
    for args, message in ((["--periode", "2026-T9", "--rubrique", "IA"], "Période illisible"),
                          (["--periode", "2026-T3", "--rubrique", ":"], "Rubrique illisible"),
                          (["--periode", "2026-T3", "--rubrique", "IA", "-o", str(root / "b.pdf")], "Format de bulletin")):
        res = veille("bulletin", *args, env=e)
        assert res.returncode == 2 and message in res.stderr and "Traceback" not in res.stderr
    assert not (root / "b.pdf").exists()


def test_markdown_escaping_leaves_corpus_text_literal():
    from veille.markup import md_literal

    assert md_literal("Voir [le guide](javascript:alert(3)) et **le kit** <b>") == \
        r"Voir \[le guide\]\(javascript:alert\(3\)\) et \*\*le kit\*\* \<b\>"


def test_advisors_build_one_draft_together(bulletin_home, env):
    from assistant.service import Assistant
    from veille.store import get_store
    from watch.bulletin import build_bulletin

    settings, root = bulletin_home
    assistant = Assistant(settings)
    store = get_store(settings)
    rubriques = ["Cybersécurité: cybersécurité, rançongiciel", "Intelligence artificielle: intelligence artificielle"]
    first = build_bulletin(assistant, "2026-T3", rubriques, name="T3", author="paul")
    cyber, ai = first.sections[0].items, first.sections[1].items
    ragnarok = next(i for i in cyber if "Ragnarok" in " ".join(t for t, _ in i.sentences))
    draft = store.bulletin_row("T3")["id"]
    store.set_bulletin_item(draft, ragnarok.cluster, "Cybersécurité", "paul", choice="dropped")
    store.set_bulletin_item(draft, ai[0].cluster, "Intelligence artificielle", "marie",
                            comment="À relayer auprès de la filière mécanique.", choice="pinned")
    again = build_bulletin(assistant, "2026-T3", rubriques, name="T3", author="paul")
    assert ragnarok.cluster not in [i.cluster for i in again.sections[0].items]
    assert ragnarok.cluster in [i.cluster for i in again.sections[0].dropped]
    pinned = again.sections[1].items[0]
    assert (pinned.choice, pinned.comment, pinned.author) == ("pinned", "À relayer auprès de la filière mécanique.",
                                                             "marie")
    # The CLI exports the stored draft: its period, rubriques, choices and comments.
    res = veille("bulletin", "--nom", "T3", "-o", str(root / "t3.md"), env=_env(env, settings))
    assert res.returncode == 0, res.stderr
    md = (root / "t3.md").read_text(encoding="utf-8")
    assert "Ragnarok" not in md and "À relayer auprès de la filière mécanique." in md and "(épinglé)" in md
    assert json.loads(store.bulletin_row("T3")["rubriques"])[0]["name"] == "Cybersécurité"


@pytest.mark.parametrize("scenario", ["normal", "unsupported", "error500"])
def test_item_summaries_written_by_the_model_are_verified(bulletin_home, scenario):
    from openai_server import FakeOpenAIServer

    from assistant.service import Assistant
    from veille.markup import md_literal
    from watch.bulletin import build_bulletin
    from watch.bulletin_render import to_markdown

    settings, _ = bulletin_home
    with FakeOpenAIServer() as server:
        llm = settings.with_(llm_base_url=server.url, llm_model=scenario, llm_timeout=2.0, llm_retries=0)
        b = build_bulletin(Assistant(llm), "2026-T3", RUBRIQUES[1::2])
        asked = [r["messages"][-1]["content"] for r in server.requests]
    md = to_markdown(b)
    items = [i for s in b.sections for i in s.items]
    assert items and all(i.sentences for i in items)  # the cited key sentences stay, whatever the model did
    if scenario == "normal":
        assert any("résumé d'un document sur le sujet : Cybersécurité" in a for a in asked)
        summarised = [i for i in items if i.summary]
        assert summarised and "Résumés rédigés par le modèle de langue" in md
        listed = {c.n: c for c in b.sources}
        for item in summarised:
            marks = {int(n) for n in re.findall(r"\[(\d+)\]", item.summary)}
            assert marks and marks <= set(listed)  # every mark is a listed source
            assert f"**Résumé** : {md_literal(item.summary, marks=True)}" in md
    elif scenario == "unsupported":
        # Made-up sentences cited [1]: taken out by the verifier, the item stays extractive.
        assert asked and not any(i.summary for i in items) and "**Résumé**" not in md
    else:
        assert len(asked) == 1  # the first failure stops the model for the bulletin
        assert not any(i.summary for i in items) and "résumés génératifs indisponibles" in md


def test_demo_corpus_bulletin_names_its_period_and_titles_not_hash_file_names(demo_store, env):
    """`veille bulletin` over two days on the demo corpus (files named « 000_8364a93a850e761b.txt »): the title says
    the period, the counts agree, each document goes by its title and « fichier local », never its file's name."""
    e = _env(env, demo_store)
    res = veille("bulletin", "--periode", "2015-01-01..2020-12-31", "--rubrique",
                 "Intelligence économique: intelligence économique", env=e)
    assert res.returncode == 0, res.stderr
    md = res.stdout
    assert md.startswith("# Bulletin de veille — du 1er janvier 2015 au 31 décembre 2020\n"), md[:200]
    assert "— période" not in md and "élément(s)" not in md
    assert re.search(r"· (\d+) éléments?\*", md) and "Installation du comité stratégique" in md
    assert not re.search(r"\d{3}\\?_[0-9a-f]{16}", md), md  # no « 000_8364a93a850e761b.txt »
    assert "fichier local" in md
